// Pictures of the XPath F&O 3.1 family as JSONata uses them: $formatInteger/$parseInteger
// (decimal digit patterns, letters, roman numerals, English words), $fromMillis/$toMillis
// (date/time pictures) and $formatNumber (decimal format pictures). Text is handled as code
// points so that digit families and separators outside ASCII work.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/time.h"
#include "common/utf8.h"
#include "expr/evaluator.h"

namespace canonry::expr {

// Defined in functions.cpp: $round (half to even).
Val fn_round_exported(Evaluator& ev, Val* args, int nargs, Val context);

namespace {

using U32 = std::u32string;

U32 to_u32(std::string_view s) {
  U32 out;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    if (!utf8_decode(s, i, cp)) cp = static_cast<uint8_t>(s[i++]);
    out += static_cast<char32_t>(cp);
  }
  return out;
}

std::string to_utf8(const U32& s) {
  std::string out;
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

U32 ascii(std::string_view s) {
  return U32(s.begin(), s.end());
}

constexpr char32_t kDecimalGroups[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence };
enum class Case { kLower, kUpper, kTitle };

struct Separator {
  int position;
  char32_t character;
};

struct IntegerFormat {
  Primary primary = Primary::kDecimal;
  Case letter_case = Case::kLower;
  bool ordinal = false;
  char32_t zero_code = 0x30;
  int mandatory_digits = 0;
  int optional_digits = 0;
  bool regular = false;
  int regular_position = 0;
  char32_t regular_char = 0;
  std::vector<Separator> separators;
  U32 token;
};

struct PictureError {
  const char* code;
  std::string value;
};

int gcd(int a, int b) {
  return b == 0 ? a : gcd(b, a % b);
}

bool analyse_integer_picture(const U32& picture, IntegerFormat& format, PictureError& err) {
  U32 primary;
  size_t semicolon = picture.rfind(U';');
  if (semicolon == U32::npos) {
    primary = picture;
  } else {
    primary = picture.substr(0, semicolon);
    U32 modifier = picture.substr(semicolon + 1);
    if (!modifier.empty() && modifier[0] == U'o') format.ordinal = true;
  }
  if (primary == U"A") {
    format.letter_case = Case::kUpper;
    format.primary = Primary::kLetters;
  } else if (primary == U"a") {
    format.primary = Primary::kLetters;
  } else if (primary == U"I") {
    format.letter_case = Case::kUpper;
    format.primary = Primary::kRoman;
  } else if (primary == U"i") {
    format.primary = Primary::kRoman;
  } else if (primary == U"W") {
    format.letter_case = Case::kUpper;
    format.primary = Primary::kWords;
  } else if (primary == U"Ww") {
    format.letter_case = Case::kTitle;
    format.primary = Primary::kWords;
  } else if (primary == U"w") {
    format.primary = Primary::kWords;
  } else {
    char32_t zero = 0;
    int mandatory = 0, optional = 0, position = 0;
    std::vector<Separator> separators;
    for (auto it = primary.rbegin(); it != primary.rend(); ++it) {
      char32_t cp = *it;
      bool digit = false;
      for (char32_t group : kDecimalGroups) {
        if (cp >= group && cp <= group + 9) {
          digit = true;
          ++mandatory;
          ++position;
          if (zero == 0) {
            zero = group;
          } else if (group != zero) {
            err = {"D3131", ""};
            return false;
          }
          break;
        }
      }
      if (!digit) {
        if (cp == U'#') {
          ++position;
          ++optional;
        } else {
          separators.push_back({position, cp});
        }
      }
    }
    if (mandatory > 0) {
      format.primary = Primary::kDecimal;
      format.zero_code = zero;
      format.mandatory_digits = mandatory;
      format.optional_digits = optional;
      int factor = 0;
      if (!separators.empty()) {
        bool same = true;
        for (const auto& s : separators) same &= s.character == separators[0].character;
        if (same) {
          factor = separators[0].position;
          for (const auto& s : separators) factor = gcd(factor, s.position);
          for (size_t k = 1; k <= separators.size(); ++k) {
            bool found = false;
            for (const auto& s : separators) found |= s.position == static_cast<int>(k) * factor;
            if (!found) {
              factor = 0;
              break;
            }
          }
        }
      }
      if (factor > 0) {
        format.regular = true;
        format.regular_position = factor;
        format.regular_char = separators[0].character;
      } else {
        format.separators = separators;
      }
    } else {
      format.primary = Primary::kSequence;
      format.token = primary;
    }
  }
  return true;
}

const char* const kFew[] = {"Zero",    "One",     "Two",       "Three",    "Four",
                            "Five",    "Six",     "Seven",     "Eight",    "Nine",
                            "Ten",     "Eleven",  "Twelve",    "Thirteen", "Fourteen",
                            "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
const char* const kOrdinals[] = {
    "Zeroth",     "First",     "Second",    "Third",       "Fourth",     "Fifth",     "Sixth",
    "Seventh",    "Eighth",    "Ninth",     "Tenth",       "Eleventh",   "Twelfth",   "Thirteenth",
    "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
const char* const kDecades[] = {"Twenty",  "Thirty", "Forty",  "Fifty",  "Sixty",
                                "Seventy", "Eighty", "Ninety", "Hundred"};
const char* const kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};

std::string words_lookup(double num, bool prev, bool ord) {
  std::string words;
  if (!(num >= 0)) num = 0;
  if (num <= 19) {
    words = std::string(prev ? " and " : "") +
            (ord ? kOrdinals[static_cast<int>(num)] : kFew[static_cast<int>(num)]);
  } else if (num < 100) {
    int tens = static_cast<int>(num / 10);
    int remainder = static_cast<int>(std::fmod(num, 10));
    words = std::string(prev ? " and " : "") + kDecades[tens - 2];
    if (remainder > 0) {
      words += "-" + words_lookup(remainder, false, ord);
    } else if (ord) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    int hundreds = static_cast<int>(num / 100);
    double remainder = std::fmod(num, 100);
    words = std::string(prev ? ", " : "") + kFew[hundreds] + " Hundred";
    if (remainder > 0) {
      words += words_lookup(remainder, true, ord);
    } else if (ord) {
      words += "th";
    }
  } else {
    int mag = static_cast<int>(std::floor(std::log10(num) / 3));
    if (mag > 4) mag = 4;
    double factor = std::pow(10, mag * 3);
    double mant = std::floor(num / factor);
    // kept apart so that the compiler cannot fuse it into an FMA, which would not round the
    // product as JavaScript does
    volatile double product = mant * factor;
    double remainder = num - product;
    words = std::string(prev ? ", " : "") + words_lookup(mant, false, false) + " " +
            kMagnitudes[mag - 1];
    if (remainder > 0) {
      words += words_lookup(remainder, true, ord);
    } else if (ord) {
      words += "th";
    }
  }
  return words;
}

std::string to_roman(double value) {
  static const std::pair<int, const char*> numerals[] = {
      {1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"},
      {40, "xl"},  {10, "x"},   {9, "ix"},  {5, "v"},    {4, "iv"},  {1, "i"}};
  std::string out;
  long v = static_cast<long>(value);
  for (const auto& [n, s] : numerals) {
    while (v >= n) {
      out += s;
      v -= n;
    }
  }
  return out;
}

std::string to_letters(double value, char a) {
  std::string out;
  long v = static_cast<long>(value);
  while (v > 0) {
    out.insert(out.begin(), static_cast<char>((v - 1) % 26 + a));
    v = (v - 1) / 26;
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool format_integer(double value, const IntegerFormat& format, std::string& out,
                    PictureError& err) {
  bool negative = value < 0;
  value = std::fabs(value);
  U32 result;
  switch (format.primary) {
    case Primary::kLetters:
      result = ascii(to_letters(value, format.letter_case == Case::kUpper ? 'A' : 'a'));
      break;
    case Primary::kRoman: {
      std::string r = to_roman(value);
      result = ascii(format.letter_case == Case::kUpper ? upper(r) : r);
      break;
    }
    case Primary::kWords: {
      std::string w = words_lookup(value, false, format.ordinal);
      if (format.letter_case == Case::kUpper) w = upper(w);
      if (format.letter_case == Case::kLower) w = lower(w);
      result = ascii(w);
      break;
    }
    case Primary::kDecimal: {
      char buf[64];
      if (value < 9e18) {
        auto res = std::to_chars(buf, buf + sizeof buf - 1, static_cast<int64_t>(value));
        *res.ptr = '\0';
      } else {
        snprintf(buf, sizeof buf, "%.0f", value);
      }
      U32 digits = ascii(buf);
      int pad = format.mandatory_digits - static_cast<int>(digits.size());
      if (pad > 0) digits = U32(static_cast<size_t>(pad), U'0') + digits;
      if (format.zero_code != 0x30) {
        for (char32_t& c : digits) c = c - U'0' + format.zero_code;
      }
      if (format.regular) {
        int n = (static_cast<int>(digits.size()) - 1) / format.regular_position;
        for (int k = n; k > 0; --k) {
          size_t pos = digits.size() - static_cast<size_t>(k * format.regular_position);
          digits.insert(digits.begin() + static_cast<long>(pos), format.regular_char);
        }
      } else {
        for (auto it = format.separators.rbegin(); it != format.separators.rend(); ++it) {
          long pos = static_cast<long>(digits.size()) - it->position;
          if (pos < 0) pos = 0;
          digits.insert(digits.begin() + pos, it->character);
        }
      }
      if (format.ordinal) {
        char32_t last = digits.back();
        const char* suffix = last == U'1' ? "st" : last == U'2' ? "nd" : last == U'3' ? "rd" : "th";
        if (digits.size() > 1 && digits[digits.size() - 2] == U'1') suffix = "th";
        digits += ascii(suffix);
      }
      result = digits;
      break;
    }
    case Primary::kSequence:
      err = {"D3130", to_utf8(format.token)};
      return false;
  }
  out = (negative ? "-" : "") + to_utf8(result);
  return true;
}

// ---- parsing integers ----
const std::map<std::string, double>& word_values() {
  static const std::map<std::string, double> values = [] {
    std::map<std::string, double> m;
    for (int i = 0; i < 20; ++i) {
      m[lower(kFew[i])] = i;
      m[lower(kOrdinals[i])] = i;
    }
    for (int i = 0; i < 9; ++i) {
      std::string d = lower(kDecades[i]);
      m[d] = (i + 2) * 10;
      m[d.substr(0, d.size() - 1) + "ieth"] = (i + 2) * 10;
    }
    m["hundredth"] = 100;
    for (int i = 0; i < 4; ++i) {
      std::string mag = lower(kMagnitudes[i]);
      m[mag] = std::pow(10, (i + 1) * 3);
      m[mag + "th"] = std::pow(10, (i + 1) * 3);
    }
    return m;
  }();
  return values;
}

std::optional<double> words_to_number(std::string text) {
  text = lower(text);
  // split on ", ", " and ", whitespace and '-'
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '-' || c == ',') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  std::vector<double> segs{0};
  for (const std::string& p : parts) {
    if (p == "and") continue;
    auto it = word_values().find(p);
    if (it == word_values().end()) return std::nullopt;
    double value = it->second;
    if (value < 100) {
      double top = segs.back();
      segs.pop_back();
      if (top >= 1000) {
        segs.push_back(top);
        top = 0;
      }
      segs.push_back(top + value);
    } else {
      double top = segs.back();
      segs.pop_back();
      segs.push_back(top * value);
    }
  }
  double total = 0;
  for (double s : segs) total += s;
  return total;
}

std::optional<double> roman_to_number(const std::string& s) {
  auto val = [](char c) -> int {
    switch (std::toupper(static_cast<unsigned char>(c))) {
      case 'I':
        return 1;
      case 'V':
        return 5;
      case 'X':
        return 10;
      case 'L':
        return 50;
      case 'C':
        return 100;
      case 'D':
        return 500;
      case 'M':
        return 1000;
      default:
        return 0;
    }
  };
  double total = 0;
  int max = 0;
  for (size_t i = s.size(); i-- > 0;) {
    int v = val(s[i]);
    if (v == 0) return std::nullopt;
    if (v < max) {
      total -= v;
    } else {
      max = v;
      total += v;
    }
  }
  return total;
}

std::optional<double> letters_to_number(const std::string& s, char a) {
  double total = 0;
  for (char c : s) {
    int v = c - a + 1;
    if (v < 1 || v > 26) return std::nullopt;
    total = total * 26 + v;
  }
  return total;
}

// Matches the longest prefix of `text` at `pos` that the integer format can read; returns the
// number of code points consumed (0: none).
size_t scan_integer(const U32& text, size_t pos, const IntegerFormat& f, size_t fixed_width) {
  size_t i = pos;
  switch (f.primary) {
    case Primary::kLetters: {
      char32_t a = f.letter_case == Case::kUpper ? U'A' : U'a';
      while (i < text.size() && text[i] >= a && text[i] < a + 26) ++i;
      break;
    }
    case Primary::kRoman: {
      std::u32string_view chars = f.letter_case == Case::kUpper ? U"MDCLXVI" : U"mdclxvi";
      while (i < text.size() && chars.find(text[i]) != std::u32string_view::npos) ++i;
      break;
    }
    case Primary::kWords: {
      // known number words and `and`, joined by spaces, hyphens and commas; the match ends
      // after the last word
      size_t end = pos;
      while (i < text.size()) {
        if (text[i] == U' ' || text[i] == U'-' || text[i] == U',') {
          ++i;
          continue;
        }
        size_t w = i;
        while (w < text.size() && text[w] < 128 && std::isalpha(static_cast<int>(text[w]))) ++w;
        if (w == i) break;
        std::string word = lower(to_utf8(text.substr(i, w - i)));
        if (word != "and" && !word_values().count(word)) break;
        i = w;
        end = w;
      }
      i = end;
      break;
    }
    case Primary::kDecimal: {
      auto is_digit = [&](char32_t c) { return c >= f.zero_code && c <= f.zero_code + 9; };
      auto is_sep = [&](char32_t c) {
        if (f.regular) return c == f.regular_char;
        for (const auto& s : f.separators) {
          if (s.character == c) return true;
        }
        return false;
      };
      while (i < text.size() && (is_digit(text[i]) || (i > pos && is_sep(text[i])))) {
        ++i;
        if (fixed_width && i - pos >= fixed_width) break;
      }
      if (f.ordinal && i + 1 < text.size() + 0 && i + 2 <= text.size()) {
        U32 suffix = text.substr(i, 2);
        if (suffix == U"st" || suffix == U"nd" || suffix == U"rd" || suffix == U"th") i += 2;
      }
      break;
    }
    case Primary::kSequence:
      break;
  }
  return i - pos;
}

std::optional<double> parse_integer_text(const U32& text, const IntegerFormat& f) {
  std::string s = to_utf8(text);
  switch (f.primary) {
    case Primary::kLetters:
      return letters_to_number(s, f.letter_case == Case::kUpper ? 'A' : 'a');
    case Primary::kRoman:
      return roman_to_number(s);
    case Primary::kWords:
      return words_to_number(s);
    case Primary::kDecimal: {
      U32 digits = text;
      if (f.ordinal && digits.size() >= 2) digits = digits.substr(0, digits.size() - 2);
      std::string plain;
      for (char32_t c : digits) {
        if (c >= f.zero_code && c <= f.zero_code + 9)
          plain += static_cast<char>('0' + (c - f.zero_code));
      }
      if (plain.empty()) return std::nullopt;
      return std::strtod(plain.c_str(), nullptr);
    }
    case Primary::kSequence:
      return std::nullopt;
  }
  return std::nullopt;
}

// ---- date/time pictures ----
struct Width {
  int min = -1;
  int max = -1;
};

struct Part {
  bool literal = true;
  U32 text;
  char32_t component = 0;
  U32 presentation1;
  char32_t presentation2 = 0;
  bool ordinal = false;
  Width width;
  bool has_width = false;
  int names = -1;  // -1 none, else Case
  bool has_integer = false;
  IntegerFormat integer;
  int n = -1;
};

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};
const char* const kDays[] = {"",         "Monday", "Tuesday",  "Wednesday",
                             "Thursday", "Friday", "Saturday", "Sunday"};

const char* default_presentation(char32_t c) {
  switch (c) {
    case U'Y':
    case U'M':
    case U'D':
    case U'd':
    case U'W':
    case U'w':
    case U'X':
    case U'x':
    case U'H':
    case U'h':
    case U'f':
      return "1";
    case U'F':
    case U'P':
    case U'C':
    case U'E':
      return "n";
    case U'm':
    case U's':
      return "01";
    case U'Z':
    case U'z':
      return "01:01";
    default:
      return nullptr;
  }
}

bool analyse_datetime_picture(const U32& picture, std::vector<Part>& parts, PictureError& err) {
  auto add_literal = [&](size_t start, size_t end) {
    if (end <= start) return;
    U32 lit = picture.substr(start, end - start);
    U32 cleaned;
    for (size_t i = 0; i < lit.size(); ++i) {
      cleaned += lit[i];
      if (lit[i] == U']' && i + 1 < lit.size() && lit[i + 1] == U']') ++i;
    }
    Part p;
    p.text = cleaned;
    parts.push_back(p);
  };
  size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == U'[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == U'[') {
        add_literal(start, pos);
        Part p;
        p.text = U"[";
        parts.push_back(p);
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(U']', start);
      if (pos == U32::npos) {
        err = {"D3135", ""};
        return false;
      }
      U32 marker;
      for (size_t i = start + 1; i < pos; ++i) {
        char32_t c = picture[i];
        if (c != U' ' && c != U'\t' && c != U'\n' && c != U'\r') marker += c;
      }
      Part def;
      def.literal = false;
      def.component = marker.empty() ? 0 : marker[0];
      size_t comma = marker.rfind(U',');
      U32 pres;
      if (comma != U32::npos) {
        U32 wm = marker.substr(comma + 1);
        size_t dash = wm.find(U'-');
        U32 min = dash == U32::npos ? wm : wm.substr(0, dash);
        U32 max = dash == U32::npos ? U32() : wm.substr(dash + 1);
        // Widths beyond kMaxWidth are taken as kMaxWidth: a picture must not be able to ask
        // for gigabytes of padding.
        auto parse_width = [](const U32& w) {
          constexpr long kMaxWidth = 1024;
          if (w.empty() || w == U"*") return -1;
          std::string s = to_utf8(w);
          long v = std::strtol(s.c_str(), nullptr, 10);
          return static_cast<int>(std::clamp(v, 0L, kMaxWidth));
        };
        def.width.min = parse_width(min);
        def.width.max = dash == U32::npos ? -1 : parse_width(max);
        def.has_width = true;
        pres = marker.substr(1, comma - 1);
      } else {
        pres = marker.size() > 1 ? marker.substr(1) : U32();
      }
      if (pres.size() == 1) {
        def.presentation1 = pres;
      } else if (pres.size() > 1) {
        char32_t last = pres.back();
        if (last == U'a' || last == U't' || last == U'c' || last == U'o') {
          def.presentation2 = last;
          if (last == U'o') def.ordinal = true;
          def.presentation1 = pres.substr(0, pres.size() - 1);
        } else {
          def.presentation1 = pres;
        }
      } else {
        const char* d = default_presentation(def.component);
        if (!d) {
          err = {"D3132", to_utf8(U32(1, def.component))};
          return false;
        }
        def.presentation1 = ascii(d);
      }
      if (!default_presentation(def.component)) {
        err = {"D3132", to_utf8(U32(1, def.component))};
        return false;
      }
      if (def.presentation1[0] == U'n') {
        def.names = static_cast<int>(Case::kLower);
      } else if (def.presentation1[0] == U'N') {
        def.names = def.presentation1.size() > 1 && def.presentation1[1] == U'n'
                        ? static_cast<int>(Case::kTitle)
                        : static_cast<int>(Case::kUpper);
      } else if (std::u32string_view(U"YMDdFWwXxHhmsf").find(def.component) !=
                 std::u32string_view::npos) {
        U32 pattern = def.presentation1;
        if (def.presentation2) pattern += U32(1, U';') + U32(1, def.presentation2);
        if (!analyse_integer_picture(pattern, def.integer, err)) return false;
        def.has_integer = true;
        if (def.has_width && def.width.min >= 0 && def.integer.mandatory_digits < def.width.min) {
          def.integer.mandatory_digits = def.width.min;
        }
        if (def.component == U'Y' || def.component == U'M' || def.component == U'D') {
          def.n = -1;
          if (def.has_width && def.width.max >= 0) {
            def.n = def.width.max;
            def.integer.mandatory_digits = def.n;
          } else {
            int w = def.integer.mandatory_digits + def.integer.optional_digits;
            if (w >= 2) def.n = w;
          }
        }
      }
      if (def.component == U'Z' || def.component == U'z') {
        def.integer = IntegerFormat();
        if (!analyse_integer_picture(def.presentation1, def.integer, err)) return false;
        def.has_integer = true;
      }
      parts.push_back(def);
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return true;
}

constexpr int64_t kDay = 86400000;

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year, month, day, hour, minute, second, millis, weekday;  // month 1-12, weekday 0=Sun
};

Civil civil_from_millis(int64_t ms) {
  int64_t days = ms >= 0 ? ms / kDay : -((-ms + kDay - 1) / kDay);
  int64_t rem = ms - days * kDay;
  Civil c;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = rem / 3600000;
  c.minute = (rem / 60000) % 60;
  c.second = (rem / 1000) % 60;
  c.millis = rem % 1000;
  c.weekday = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday (4)
  return c;
}

// Date.UTC with JavaScript's overflow behaviour (month 12 is January of the next year).
int64_t utc_millis(int64_t y, int64_t m0, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t ms) {
  if (y >= 0 && y <= 99) y += 1900;
  y += m0 >= 0 ? m0 / 12 : -((-m0 + 11) / 12);
  m0 = ((m0 % 12) + 12) % 12;
  return (days_from_civil(y, m0 + 1, 1) + d - 1) * kDay + h * 3600000 + mi * 60000 + s * 1000 + ms;
}

int64_t start_of_first_week(int64_t year, int64_t month0) {
  int64_t first = utc_millis(year, month0, 1, 0, 0, 0, 0);
  int64_t dow = civil_from_millis(first).weekday;
  if (dow == 0) dow = 7;
  return dow > 4 ? first + (8 - dow) * kDay : first - (dow - 1) * kDay;
}

std::optional<double> datetime_fragment(int64_t ms, char32_t component, std::string* text) {
  Civil c = civil_from_millis(ms);
  switch (component) {
    case U'Y':
      return static_cast<double>(c.year);
    case U'M':
      return static_cast<double>(c.month);
    case U'D':
      return static_cast<double>(c.day);
    case U'd': {
      int64_t first = utc_millis(c.year, 0, 1, 0, 0, 0, 0);
      return static_cast<double>((ms - first) / kDay + 1);
    }
    case U'F':
      return static_cast<double>(c.weekday == 0 ? 7 : c.weekday);
    case U'W': {
      int64_t start = start_of_first_week(c.year, 0);
      int64_t next = start_of_first_week(c.year + 1, 0);
      if (ms < start) {
        start = start_of_first_week(c.year - 1, 0);
      } else if (ms >= next) {
        start = next;
      }
      return std::floor(static_cast<double>(ms - start) / (kDay * 7) + 1);
    }
    case U'w': {
      int64_t m0 = c.month - 1;
      int64_t start = start_of_first_week(c.year, m0);
      int64_t ny = m0 == 11 ? c.year + 1 : c.year, nm = m0 == 11 ? 0 : m0 + 1;
      int64_t next = start_of_first_week(ny, nm);
      if (ms < start) {
        int64_t py = m0 == 0 ? c.year - 1 : c.year, pm = m0 == 0 ? 11 : m0 - 1;
        start = start_of_first_week(py, pm);
      } else if (ms >= next) {
        start = next;
      }
      return std::floor(static_cast<double>(ms - start) / (kDay * 7) + 1);
    }
    case U'X': {
      int64_t start = start_of_first_week(c.year, 0);
      int64_t end = start_of_first_week(c.year + 1, 0);
      if (ms < start) return static_cast<double>(c.year - 1);
      if (ms >= end) return static_cast<double>(c.year + 1);
      return static_cast<double>(c.year);
    }
    case U'x': {
      int64_t m0 = c.month - 1;
      int64_t start = start_of_first_week(c.year, m0);
      int64_t ny = m0 == 11 ? c.year + 1 : c.year, nm = m0 == 11 ? 0 : m0 + 1;
      int64_t next = start_of_first_week(ny, nm);
      if (ms < start) return static_cast<double>(m0 == 0 ? 12 : m0);
      if (ms >= next) return static_cast<double>(nm + 1);
      return static_cast<double>(c.month);
    }
    case U'H':
      return static_cast<double>(c.hour);
    case U'h': {
      int64_t h = c.hour % 12;
      return static_cast<double>(h == 0 ? 12 : h);
    }
    case U'P':
      if (text) *text = c.hour >= 12 ? "pm" : "am";
      return std::nullopt;
    case U'm':
      return static_cast<double>(c.minute);
    case U's':
      return static_cast<double>(c.second);
    case U'f':
      return static_cast<double>(c.millis);
    case U'C':
    case U'E':
      if (text) *text = "ISO";
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string apply_case(std::string s, int names) {
  if (names == static_cast<int>(Case::kUpper)) return upper(s);
  if (names == static_cast<int>(Case::kLower)) return lower(s);
  return s;
}

bool format_component(int64_t ms, const Part& part, int64_t offset_hours, int64_t offset_minutes,
                      std::string& out, PictureError& err) {
  char32_t comp = part.component;
  std::string text;
  std::optional<double> value = datetime_fragment(ms, comp, &text);
  if (std::u32string_view(U"YMDdFWwXxHhms").find(comp) != std::u32string_view::npos) {
    double v = value.value_or(0);
    if (comp == U'Y' && part.n != -1) v = std::fmod(v, std::pow(10, part.n));
    if (part.names >= 0) {
      std::string name;
      if (comp == U'M' || comp == U'x') {
        name = kMonths[static_cast<int>(v) - 1];
      } else if (comp == U'F') {
        name = kDays[static_cast<int>(v)];
      } else {
        err = {"D3133", to_utf8(U32(1, comp))};
        return false;
      }
      name = apply_case(name, part.names);
      if (part.has_width && part.width.max >= 0 && static_cast<int>(name.size()) > part.width.max) {
        name = name.substr(0, static_cast<size_t>(part.width.max));
      }
      out += name;
      return true;
    }
    std::string s;
    if (!format_integer(v, part.integer, s, err)) return false;
    out += s;
    return true;
  }
  if (comp == U'f') {
    std::string s;
    if (!format_integer(value.value_or(0), part.integer, s, err)) return false;
    out += s;
    return true;
  }
  if (comp == U'Z' || comp == U'z') {
    int64_t offset = offset_hours * 100 + offset_minutes;
    std::string s;
    if (part.integer.regular) {
      if (!format_integer(static_cast<double>(offset), part.integer, s, err)) return false;
    } else {
      int digits = part.integer.mandatory_digits;
      if (digits == 1 || digits == 2) {
        if (!format_integer(static_cast<double>(offset_hours), part.integer, s, err)) return false;
        if (offset_minutes != 0) {
          char buf[8];
          snprintf(buf, sizeof buf, ":%02d", static_cast<int>(std::llabs(offset_minutes)));
          s += buf;
        }
      } else if (digits == 3 || digits == 4) {
        if (!format_integer(static_cast<double>(offset), part.integer, s, err)) return false;
      } else {
        err = {"D3134", std::to_string(digits)};
        return false;
      }
    }
    if (offset >= 0) s = "+" + s;
    if (comp == U'z') s = "GMT" + s;
    if (offset == 0 && part.presentation2 == U't') s = "Z";
    out += s;
    return true;
  }
  if (comp == U'P') {
    out += part.names == static_cast<int>(Case::kUpper) ? upper(text) : text;
    return true;
  }
  out += text;
  return true;
}

// Analysed pictures are kept per thread: a mapping formats every record with the same few.
const std::vector<Part>* analysed_picture(std::string_view picture, PictureError& err) {
  thread_local std::unordered_map<std::string, std::vector<Part>> cache;
  auto it = cache.find(std::string(picture));
  if (it != cache.end()) return &it->second;
  std::vector<Part> parts;
  if (!analyse_datetime_picture(to_u32(picture), parts, err)) return nullptr;
  if (cache.size() > 256) cache.clear();
  return &cache.emplace(std::string(picture), std::move(parts)).first->second;
}

bool format_datetime(int64_t ms, Val picture, Val timezone, std::string& out, PictureError& err) {
  int64_t offset_hours = 0, offset_minutes = 0;
  if (timezone.is_str()) {
    std::string tz(timezone.sv());
    long offset = std::strtol(tz.c_str(), nullptr, 10);
    offset_hours = static_cast<int64_t>(std::floor(offset / 100.0));
    offset_minutes = offset % 100;
  }
  if (!picture.is_str() && !timezone.is_str() && ms >= 0 && ms < 253402300800000) {
    // the default picture in UTC is RFC 3339 with milliseconds
    append_rfc3339_millis(out, ms);
    return true;
  }
  const std::vector<Part>* cached = analysed_picture(
      picture.is_str() ? picture.sv() : "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]",
      err);
  if (!cached) return false;
  const std::vector<Part>& parts = *cached;
  int64_t shifted = ms + (60 * offset_hours + offset_minutes) * 60000;
  for (const Part& p : parts) {
    if (p.literal) {
      out += to_utf8(p.text);
    } else if (!format_component(shifted, p, offset_hours, offset_minutes, out, err)) {
      return false;
    }
  }
  return true;
}

// Parses `text` against a date/time picture (jsonata-js's parseDateTime rules for defaulting
// missing components). Returns nullopt for "no components", sets err on failure.
std::optional<double> parse_datetime(const U32& text, const U32& picture, int64_t now_ms,
                                     PictureError& err, bool& matched) {
  std::vector<Part> parts;
  matched = false;
  if (!analyse_datetime_picture(picture, parts, err)) return std::nullopt;
  std::map<char32_t, double> comps;
  size_t pos = 0;
  auto lower32 = [](char32_t c) {
    return c < 128 ? static_cast<char32_t>(std::tolower(static_cast<int>(c))) : c;
  };
  for (size_t pi = 0; pi < parts.size(); ++pi) {
    const Part& p = parts[pi];
    if (p.literal) {
      if (text.size() - pos < p.text.size()) return std::nullopt;
      for (size_t k = 0; k < p.text.size(); ++k) {
        if (lower32(text[pos + k]) != lower32(p.text[k])) return std::nullopt;
      }
      pos += p.text.size();
      continue;
    }
    if (p.component == U'Z' || p.component == U'z') {
      size_t i = pos;
      if (p.component == U'z') {
        if (text.compare(i, 3, U"GMT") != 0) return std::nullopt;
        i += 3;
      }
      size_t sign_at = i;
      if (i >= text.size() || (text[i] != U'+' && text[i] != U'-')) return std::nullopt;
      ++i;
      char32_t sep = 0;
      if (!p.integer.regular && p.integer.separators.size() == 1)
        sep = p.integer.separators[0].character;
      if (p.integer.regular) sep = p.integer.regular_char;
      size_t digits_start = i;
      while (i < text.size() && text[i] >= U'0' && text[i] <= U'9') ++i;
      if (i == digits_start) return std::nullopt;
      double offset;
      std::string sgn = text[sign_at] == U'-' ? "-" : "";
      if (sep && i < text.size() && text[i] == sep) {
        std::string h = to_utf8(text.substr(digits_start, i - digits_start));
        ++i;
        size_t ms = i;
        while (i < text.size() && text[i] >= U'0' && text[i] <= U'9') ++i;
        std::string m = to_utf8(text.substr(ms, i - ms));
        double hv = std::atof(h.c_str()), mv = std::atof(m.c_str());
        offset = (sgn == "-" ? -1 : 1) * (hv * 60 + mv);
      } else {
        std::string d = to_utf8(text.substr(digits_start, i - digits_start));
        if (d.size() <= 2) {
          offset = (sgn == "-" ? -1 : 1) * std::atof(d.c_str()) * 60;
        } else {
          double hv = std::atof(d.substr(0, d.size() - 2).c_str());
          double mv = std::atof(d.substr(d.size() - 2).c_str());
          offset = (sgn == "-" ? -1 : 1) * (hv * 60 + mv);
        }
      }
      comps[U'Z'] = offset;
      pos = i;
      continue;
    }
    if (p.has_integer) {
      size_t fixed = 0;
      bool next_is_number =
          pi + 1 < parts.size() && !parts[pi + 1].literal && parts[pi + 1].has_integer;
      if (next_is_number && p.integer.primary == Primary::kDecimal) {
        fixed = static_cast<size_t>(p.integer.mandatory_digits);
      }
      size_t n = scan_integer(text, pos, p.integer, fixed);
      if (n == 0) return std::nullopt;
      auto v = parse_integer_text(text.substr(pos, n), p.integer);
      if (!v) return std::nullopt;
      if (p.component == U'f') {
        // fractional seconds: the digits are a fraction of a second
        std::string digits = to_utf8(text.substr(pos, n)) + "000";
        v = std::atof(digits.substr(0, 3).c_str());
      }
      comps[p.component] = *v;
      pos += n;
      continue;
    }
    // names
    size_t i = pos;
    while (i < text.size() && text[i] < 128 && std::isalpha(static_cast<int>(text[i]))) ++i;
    std::string word = to_utf8(text.substr(pos, i - pos));
    std::optional<double> value;
    if (p.component == U'M' || p.component == U'x') {
      for (int k = 0; k < 12; ++k) {
        std::string name = kMonths[k];
        if (p.has_width && p.width.max >= 0)
          name = name.substr(0, static_cast<size_t>(p.width.max));
        if (lower(name) == lower(word)) value = k + 1;
      }
    } else if (p.component == U'F') {
      for (int k = 1; k < 8; ++k) {
        std::string name = kDays[k];
        if (p.has_width && p.width.max >= 0)
          name = name.substr(0, static_cast<size_t>(p.width.max));
        if (lower(name) == lower(word)) value = k;
      }
    } else if (p.component == U'P') {
      if (lower(word) == "am") value = 0;
      if (lower(word) == "pm") value = 1;
    } else {
      err = {"D3133", to_utf8(U32(1, p.component))};
      return std::nullopt;
    }
    if (i == pos) return std::nullopt;
    if (value) comps[p.component] = *value;
    pos = i;
  }
  if (pos != text.size()) return std::nullopt;
  matched = true;
  if (comps.empty()) return std::nullopt;
  int mask = 0;
  auto shift = [&](bool bit) { mask = (mask << 1) + (bit ? 1 : 0); };
  auto is_type = [&](int type) { return !(~type & mask) && (type & mask); };
  for (char32_t c : std::u32string_view(U"YXMxWwdD")) shift(comps.count(c) > 0);
  bool date_a = is_type(161);
  bool date_b = !date_a && is_type(130);
  bool date_c = is_type(84);
  bool date_d = !date_c && is_type(72);
  mask = 0;
  for (char32_t c : std::u32string_view(U"PHhmsf")) shift(comps.count(c) > 0);
  bool time_a = is_type(23);
  bool time_b = !time_a && is_type(47);
  std::u32string date_comps = date_b ? U"YD" : date_c ? U"XxwF" : date_d ? U"XWF" : U"YMD";
  std::u32string time_comps = time_b ? U"Phmsf" : U"Hmsf";
  bool start_specified = false, end_specified = false;
  for (char32_t part : date_comps + time_comps) {
    if (!comps.count(part)) {
      if (start_specified) {
        comps[part] = (part == U'M' || part == U'D' || part == U'd') ? 1 : 0;
        end_specified = true;
      } else {
        std::string t;
        auto v = datetime_fragment(now_ms, part, &t);
        comps[part] = v ? *v : (part == U'P' ? (t == "pm" ? 1 : 0) : 0);
      }
    } else {
      start_specified = true;
      if (end_specified) {
        err = {"D3136", ""};
        return std::nullopt;
      }
    }
  }
  // parsed numbers can be anything; keep them where the date arithmetic stays defined
  for (auto& [component, value] : comps) {
    if (!(value >= -1e9)) value = -1e9;
    if (value > 1e9) value = 1e9;
  }
  if (comps[U'M'] > 0) {
    comps[U'M'] -= 1;
  } else {
    comps[U'M'] = 0;
  }
  if (date_b) {
    int64_t first = utc_millis(static_cast<int64_t>(comps[U'Y']), 0, 1, 0, 0, 0, 0);
    Civil c = civil_from_millis(first + static_cast<int64_t>(comps[U'd'] - 1) * kDay);
    comps[U'M'] = static_cast<double>(c.month - 1);
    comps[U'D'] = static_cast<double>(c.day);
  }
  if (date_c || date_d) {
    err = {"D3136", ""};
    return std::nullopt;
  }
  if (time_b) {
    comps[U'H'] = comps[U'h'] == 12 ? 0 : comps[U'h'];
    if (comps[U'P'] == 1) comps[U'H'] += 12;
  }
  double millis = static_cast<double>(
      utc_millis(static_cast<int64_t>(comps[U'Y']), static_cast<int64_t>(comps[U'M']),
                 static_cast<int64_t>(comps[U'D']), static_cast<int64_t>(comps[U'H']),
                 static_cast<int64_t>(comps[U'm']), static_cast<int64_t>(comps[U's']),
                 static_cast<int64_t>(comps[U'f'])));
  if (comps.count(U'Z')) millis -= comps[U'Z'] * 60 * 1000;
  return millis;
}

// ISO 8601 as jsonata-js accepts it without a picture.
std::optional<double> parse_iso(std::string_view s, bool& valid) {
  valid = false;
  size_t i = 0;
  auto digits = [&](size_t n, int64_t& out) {
    if (i + n > s.size()) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += n;
    return true;
  };
  int64_t y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0;
  double frac = 0;
  if (!digits(4, y)) return std::nullopt;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!digits(2, mo)) return std::nullopt;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!digits(2, d)) return std::nullopt;
    }
  }
  bool has_time = false;
  if (i < s.size() && s[i] == 'T') {
    ++i;
    has_time = true;
    if (!digits(2, h)) return std::nullopt;
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    if (!digits(2, mi)) return std::nullopt;
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    if (!digits(2, se)) return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    size_t start = i;
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start + 1) return std::nullopt;
    frac = std::atof(std::string(s.substr(start, i - start)).c_str());
  }
  int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int64_t oh = 0, om = 0;
      if (!digits(2, oh)) return std::nullopt;
      if (i < s.size() && s[i] == ':') ++i;
      if (!digits(2, om)) return std::nullopt;
      offset = sign * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (i != s.size()) return std::nullopt;
  valid = true;
  (void)has_time;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 59) {
    return std::nan("");
  }
  double ms = static_cast<double>((days_from_civil(y, mo, d)) * kDay + h * 3600000 + mi * 60000 +
                                  se * 1000) +
              std::round(frac * 1000);
  return ms - static_cast<double>(offset) * 60000;
}

Val picture_fail(Evaluator& ev, const PictureError& err) {
  return ev.fail(err.code, -1, err.value);
}

}  // namespace

Val fn_from_millis(Evaluator& ev, Val* args, int nargs, Val) {
  Val ms = nargs > 0 ? args[0] : Val();
  if (ms.undef()) return ms;
  Val picture = nargs > 1 ? args[1] : Val();
  Val tz = nargs > 2 ? args[2] : Val();
  std::string out;
  PictureError err;
  // JavaScript dates end at ±8.64e15 ms
  if (!(std::fabs(ms.num) <= 8.64e15)) return ev.fail("D1001", -1, format_number_js(ms.num));
  if (!format_datetime(static_cast<int64_t>(std::floor(ms.num)), picture, tz, out, err)) {
    return picture_fail(ev, err);
  }
  return ev.str(out);
}

Val fn_to_millis(Evaluator& ev, Val* args, int nargs, Val) {
  Val s = nargs > 0 ? args[0] : Val();
  if (s.undef()) return s;
  Val picture = nargs > 1 ? args[1] : Val();
  if (picture.undef()) {
    bool valid;
    auto ms = parse_iso(s.sv(), valid);
    if (!valid) return ev.fail("D3110", -1, std::string(s.sv()));
    if (!ms || std::isnan(*ms)) return Val();
    return Val::number(*ms);
  }
  PictureError err{nullptr, ""};
  bool matched;
  auto ms = parse_datetime(to_u32(s.sv()), to_u32(picture.sv()), ev.timestamp(), err, matched);
  if (err.code) return picture_fail(ev, err);
  if (!ms) return Val();
  return Val::number(*ms);
}

Val fn_now(Evaluator& ev, Val* args, int nargs, Val) {
  Val picture = nargs > 0 ? args[0] : Val();
  Val tz = nargs > 1 ? args[1] : Val();
  std::string out;
  PictureError err;
  if (!format_datetime(ev.timestamp(), picture, tz, out, err)) return picture_fail(ev, err);
  return ev.str(out);
}

Val fn_millis(Evaluator& ev, Val*, int, Val) {
  return Val::number(static_cast<double>(ev.timestamp()));
}

Val fn_format_integer(Evaluator& ev, Val* args, int nargs, Val) {
  Val v = nargs > 0 ? args[0] : Val();
  if (v.undef()) return v;
  Val picture = nargs > 1 ? args[1] : Val();
  IntegerFormat format;
  PictureError err;
  if (!analyse_integer_picture(to_u32(picture.sv()), format, err)) return picture_fail(ev, err);
  std::string out;
  // letters and roman numerals of bigger numbers would be absurdly long strings
  double limit = format.primary == Primary::kRoman     ? 1e6
                 : format.primary == Primary::kLetters ? 1e15
                                                       : 1e300;
  if (!(std::fabs(v.num) <= limit)) return ev.fail("D1001", -1, format_number_js(v.num));
  if (!format_integer(std::floor(v.num), format, out, err)) return picture_fail(ev, err);
  return ev.str(out);
}

Val fn_parse_integer(Evaluator& ev, Val* args, int nargs, Val) {
  Val v = nargs > 0 ? args[0] : Val();
  if (v.undef()) return v;
  Val picture = nargs > 1 ? args[1] : Val();
  IntegerFormat format;
  PictureError err;
  if (!analyse_integer_picture(to_u32(picture.sv()), format, err)) return picture_fail(ev, err);
  if (format.primary == Primary::kSequence) return ev.fail("D3130", -1, to_utf8(format.token));
  auto n = parse_integer_text(to_u32(v.sv()), format);
  if (!n) return Val();
  return Val::number(*n);
}

// ---- $formatNumber ----
namespace {

// JavaScript's substring: positions past the end give an empty string rather than an error.
U32 clamped(const U32& s, size_t pos, size_t len = U32::npos) {
  if (pos >= s.size()) return U32();
  return s.substr(pos, len);
}

struct NumberPicture {
  U32 prefix, suffix, active, mantissa, integer, fraction, sub;
  bool has_exponent = false;
  U32 exponent;
};

struct NumberVars {
  std::vector<int> integer_grouping;
  int regular_grouping = 0;
  int min_integer = 0;
  int scaling = 0;
  U32 prefix, suffix, picture;
  std::vector<int> fraction_grouping;
  int min_fraction = 0;
  int max_fraction = 0;
  int min_exponent = 0;
};

}  // namespace

Val fn_format_number(Evaluator& ev, Val* args, int nargs, Val) {
  Val v = nargs > 0 ? args[0] : Val();
  if (v.undef()) return v;
  Val picture_v = nargs > 1 ? args[1] : Val();
  Val options = nargs > 2 ? args[2] : Val();
  std::map<std::string, U32> props = {{"decimal-separator", U"."},
                                      {"grouping-separator", U","},
                                      {"exponent-separator", U"e"},
                                      {"infinity", U"Infinity"},
                                      {"minus-sign", U"-"},
                                      {"NaN", U"NaN"},
                                      {"percent", U"%"},
                                      {"per-mille", U"\u2030"},
                                      {"zero-digit", U"0"},
                                      {"digit", U"#"},
                                      {"pattern-separator", U";"}};
  if (options.is_obj()) {
    for (uint32_t i = 0; i < options.obj->size; ++i) {
      const Member& m = options.obj->data[i];
      if (m.value.is_str()) props[std::string(m.key)] = to_u32(m.value.sv());
    }
  }
  auto ch = [&](const char* name) -> char32_t {
    const U32& s = props[name];
    return s.empty() ? 0 : s[0];
  };
  char32_t zero = ch("zero-digit");
  char32_t decimal_sep = ch("decimal-separator");
  char32_t exponent_sep = ch("exponent-separator");
  char32_t grouping_sep = ch("grouping-separator");
  char32_t digit = ch("digit");
  char32_t pattern_sep = ch("pattern-separator");
  char32_t percent = ch("percent");
  char32_t permille = ch("per-mille");
  auto is_family = [&](char32_t c) { return c >= zero && c < zero + 10; };
  auto is_active = [&](char32_t c) {
    return is_family(c) || c == decimal_sep || c == exponent_sep || c == grouping_sep ||
           c == digit || c == pattern_sep;
  };
  U32 picture = to_u32(picture_v.sv());
  std::vector<U32> subs;
  {
    size_t start = 0;
    for (size_t i = 0; i <= picture.size(); ++i) {
      if (i == picture.size() || picture[i] == pattern_sep) {
        subs.push_back(picture.substr(start, i - start));
        start = i + 1;
      }
    }
  }
  if (subs.size() > 2) return ev.fail("D3080");
  std::vector<NumberPicture> parts;
  for (const U32& sub : subs) {
    NumberPicture p;
    p.sub = sub;
    size_t pre = sub.size();
    for (size_t i = 0; i < sub.size(); ++i) {
      if (is_active(sub[i]) && sub[i] != exponent_sep) {
        pre = i;
        break;
      }
    }
    p.prefix = sub.substr(0, pre);
    size_t suf_start = sub.size();
    for (size_t i = sub.size(); i-- > 0;) {
      if (is_active(sub[i]) && sub[i] != exponent_sep) {
        suf_start = i + 1;
        break;
      }
    }
    if (pre == sub.size()) suf_start = sub.size();
    p.suffix = sub.substr(suf_start);
    p.active = pre <= suf_start ? sub.substr(pre, suf_start - pre) : U32();
    size_t exp_pos = sub.find(exponent_sep, p.prefix.size());
    if (exp_pos == U32::npos || exp_pos > sub.size() - p.suffix.size()) {
      p.mantissa = p.active;
    } else {
      p.has_exponent = true;
      p.mantissa = clamped(p.active, 0, exp_pos - p.prefix.size());
      p.exponent = clamped(p.active, exp_pos - p.prefix.size() + 1);
    }
    size_t dec = p.mantissa.find(decimal_sep);
    if (dec == U32::npos) {
      p.integer = p.mantissa;
      p.fraction = p.suffix;
    } else {
      p.integer = p.mantissa.substr(0, dec);
      p.fraction = p.mantissa.substr(dec + 1);
    }
    parts.push_back(p);
  }
  // validation (F&O 4.7.3)
  for (const NumberPicture& p : parts) {
    const char* error = nullptr;
    const U32& sub = p.sub;
    auto count = [&](char32_t c) { return std::count(sub.begin(), sub.end(), c); };
    if (count(decimal_sep) > 1) error = "D3081";
    if (count(percent) > 1) error = "D3082";
    if (count(permille) > 1) error = "D3083";
    if (count(percent) > 0 && count(permille) > 0) error = "D3084";
    bool valid = false;
    for (char32_t c : p.mantissa) valid |= is_family(c) || c == digit;
    if (!valid) error = "D3085";
    for (char32_t c : p.active) {
      if (!is_active(c)) error = "D3086";
    }
    size_t dec = sub.find(decimal_sep);
    if (dec != U32::npos) {
      if ((dec > 0 && sub[dec - 1] == grouping_sep) ||
          (dec + 1 < sub.size() && sub[dec + 1] == grouping_sep)) {
        error = "D3087";
      }
    } else if (!p.integer.empty() && p.integer.back() == grouping_sep) {
      error = "D3088";
    }
    for (size_t i = 0; i + 1 < sub.size(); ++i) {
      if (sub[i] == grouping_sep && sub[i + 1] == grouping_sep) error = "D3089";
    }
    size_t opt = p.integer.find(digit);
    if (opt != U32::npos) {
      for (size_t i = 0; i < opt; ++i) {
        if (is_family(p.integer[i])) error = "D3090";
      }
    }
    opt = p.fraction.rfind(digit);
    if (opt != U32::npos) {
      for (size_t i = opt; i < p.fraction.size(); ++i) {
        if (is_family(p.fraction[i])) error = "D3091";
      }
    }
    if (p.has_exponent && !p.exponent.empty() && (count(percent) > 0 || count(permille) > 0)) {
      error = "D3092";
    }
    bool any_active = false;
    for (char32_t c : sub) any_active |= is_active(c);
    if (!any_active && !sub.empty()) error = "D3086";
    if (p.has_exponent) {
      bool bad = p.exponent.empty();
      for (char32_t c : p.exponent) bad |= !is_family(c);
      if (bad) error = "D3093";
    }
    if (error) return ev.fail(error);
  }
  // analysis (F&O 4.7.4)
  std::vector<NumberVars> vars;
  for (const NumberPicture& p : parts) {
    NumberVars nv;
    auto grouping_positions = [&](const U32& part, bool to_left) {
      std::vector<int> positions;
      size_t g = part.find(grouping_sep);
      while (g != U32::npos) {
        int n = 0;
        if (to_left) {
          for (size_t i = 0; i < g; ++i) n += is_family(part[i]) || part[i] == digit;
        } else {
          for (size_t i = g; i < part.size(); ++i) n += is_family(part[i]) || part[i] == digit;
        }
        positions.push_back(n);
        g = part.find(grouping_sep, g + 1);
      }
      return positions;
    };
    nv.integer_grouping = grouping_positions(p.integer, false);
    if (!nv.integer_grouping.empty()) {
      int factor = nv.integer_grouping[0];
      for (int x : nv.integer_grouping) factor = gcd(factor, x);
      for (size_t k = 1; k <= nv.integer_grouping.size(); ++k) {
        if (std::find(nv.integer_grouping.begin(), nv.integer_grouping.end(),
                      static_cast<int>(k) * factor) == nv.integer_grouping.end()) {
          factor = 0;
          break;
        }
      }
      nv.regular_grouping = factor;
    }
    nv.fraction_grouping = grouping_positions(p.fraction, true);
    for (char32_t c : p.integer) nv.min_integer += is_family(c);
    nv.scaling = nv.min_integer;
    for (char32_t c : p.fraction) {
      nv.min_fraction += is_family(c);
      nv.max_fraction += is_family(c) || c == digit;
    }
    if (nv.min_integer == 0 && nv.max_fraction == 0) {
      if (p.has_exponent) {
        nv.min_fraction = 1;
        nv.max_fraction = 1;
      } else {
        nv.min_integer = 1;
      }
    }
    if (p.has_exponent && nv.min_integer == 0 && p.integer.find(digit) != U32::npos) {
      nv.min_integer = 1;
    }
    if (nv.min_integer == 0 && nv.min_fraction == 0) nv.min_fraction = 1;
    if (p.has_exponent) {
      for (char32_t c : p.exponent) nv.min_exponent += is_family(c);
    }
    nv.prefix = p.prefix;
    nv.suffix = p.suffix;
    nv.picture = p.sub;
    vars.push_back(nv);
  }
  U32 minus = props["minus-sign"];
  if (vars.size() == 1) {
    NumberVars neg = vars[0];
    neg.prefix = minus + neg.prefix;
    vars.push_back(neg);
  }
  double value = v.num;
  if (!std::isfinite(value)) return ev.fail("D1001", -1, format_number_js(value));
  const NumberVars& pic = value >= 0 ? vars[0] : vars[1];
  double adjusted = value;
  if (pic.picture.find(percent) != U32::npos) {
    adjusted = value * 100;
  } else if (pic.picture.find(permille) != U32::npos) {
    adjusted = value * 1000;
  }
  double mantissa = adjusted;
  bool has_exp = pic.min_exponent > 0;
  int exponent = 0;
  if (has_exp) {
    double max_m = std::pow(10, pic.scaling);
    double min_m = std::pow(10, pic.scaling - 1);
    while (std::fabs(mantissa) < min_m && mantissa != 0) {
      mantissa *= 10;
      exponent -= 1;
    }
    while (std::fabs(mantissa) > max_m) {
      mantissa /= 10;
      exponent += 1;
    }
  }
  // round half to even at max_fraction digits, through the decimal text
  Val round_args[2] = {Val::number(mantissa), Val::number(pic.max_fraction)};
  double rounded = fn_round_exported(ev, round_args, 2, Val()).num;
  auto make_string = [&](double x, int dp) {
    char buf[512];
    snprintf(buf, sizeof buf, "%.*f", dp, std::fabs(x));
    U32 s = ascii(buf);
    if (zero != U'0') {
      for (char32_t& c : s) {
        if (c >= U'0' && c <= U'9') c = zero + (c - U'0');
      }
    }
    return s;
  };
  U32 s = make_string(rounded, pic.max_fraction);
  size_t dot = s.find(U'.');
  if (dot == U32::npos) {
    s += decimal_sep;
  } else {
    s[dot] = decimal_sep;
  }
  while (!s.empty() && s[0] == zero) s.erase(0, 1);
  while (!s.empty() && s.back() == zero) s.pop_back();
  size_t decimal_pos = s.find(decimal_sep);
  int pad_left = pic.min_integer - static_cast<int>(decimal_pos);
  int pad_right = pic.min_fraction - static_cast<int>(s.size() - decimal_pos - 1);
  if (pad_left > 0) s = U32(static_cast<size_t>(pad_left), zero) + s;
  if (pad_right > 0) s += U32(static_cast<size_t>(pad_right), zero);
  decimal_pos = s.find(decimal_sep);
  if (pic.regular_grouping > 0) {
    int groups = (static_cast<int>(decimal_pos) - 1) / pic.regular_grouping;
    for (int g = 1; g <= groups; ++g) {
      s.insert(decimal_pos - static_cast<size_t>(g * pic.regular_grouping), 1, grouping_sep);
    }
  } else {
    for (int pos : pic.integer_grouping) {
      if (static_cast<int>(decimal_pos) - pos < 0) continue;
      s.insert(decimal_pos - static_cast<size_t>(pos), 1, grouping_sep);
      ++decimal_pos;
    }
  }
  decimal_pos = s.find(decimal_sep);
  for (int pos : pic.fraction_grouping) {
    size_t at = static_cast<size_t>(pos) + decimal_pos + 1;
    if (at <= s.size()) s.insert(at, 1, grouping_sep);
  }
  decimal_pos = s.find(decimal_sep);
  if (pic.min_fraction == 0 && decimal_pos == s.size() - 1) s.pop_back();
  if (has_exp) {
    U32 e = make_string(exponent, 0);
    int pad = pic.min_exponent - static_cast<int>(e.size());
    if (pad > 0) e = U32(static_cast<size_t>(pad), zero) + e;
    s += exponent_sep;
    if (exponent < 0) s += minus;
    s += e;
  }
  s = pic.prefix + s + pic.suffix;
  return ev.str(to_utf8(s));
}

}  // namespace canonry::expr
