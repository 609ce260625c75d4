// ECMA-262 patterns (what JSON Schema's `pattern`, `patternProperties` and the `regex` format
// use) translated into RE2, which matches in linear time. The differences handled: `.` and `\s`
// follow ECMA's line terminators and white space, `\uXXXX` (surrogate pairs too), `\cX`, `\0`,
// `[^]`, `(?<name>`, Unicode property names. RE2 cannot do lookaround or backreferences: those
// patterns are schema errors.
#include <cctype>
#include <cstdint>
#include <cstdio>

#include "schema/validator_internal.h"

namespace canonry::schema::detail {
namespace {

// ECMA-262 WhiteSpace and LineTerminator code points.
constexpr std::string_view kSpaceSet =
    "\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}"
    "\\x{3000}\\x{feff}";
constexpr std::string_view kDot = "[^\\n\\r\\x{2028}\\x{2029}]";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_hex(std::string_view text, size_t at, size_t digits, uint32_t& value) {
  if (at + digits > text.size()) return false;
  value = 0;
  for (size_t k = 0; k < digits; ++k) {
    int h = hex_value(text[at + k]);
    if (h < 0) return false;
    value = value * 16 + static_cast<uint32_t>(h);
  }
  return true;
}

void append_code_point(std::string& out, uint32_t cp) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\x{%x}", cp);
  out += buffer;
}

// Long General_Category names of ECMA-262's \p{...} to RE2's short ones.
std::string_view property_name(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"Letter", "L"},
      {"Lowercase_Letter", "Ll"},
      {"Uppercase_Letter", "Lu"},
      {"Titlecase_Letter", "Lt"},
      {"Modifier_Letter", "Lm"},
      {"Other_Letter", "Lo"},
      {"Mark", "M"},
      {"Nonspacing_Mark", "Mn"},
      {"Spacing_Mark", "Mc"},
      {"Enclosing_Mark", "Me"},
      {"Number", "N"},
      {"Decimal_Number", "Nd"},
      {"digit", "Nd"},
      {"Letter_Number", "Nl"},
      {"Other_Number", "No"},
      {"Punctuation", "P"},
      {"punct", "P"},
      {"Connector_Punctuation", "Pc"},
      {"Dash_Punctuation", "Pd"},
      {"Open_Punctuation", "Ps"},
      {"Close_Punctuation", "Pe"},
      {"Initial_Punctuation", "Pi"},
      {"Final_Punctuation", "Pf"},
      {"Other_Punctuation", "Po"},
      {"Symbol", "S"},
      {"Math_Symbol", "Sm"},
      {"Currency_Symbol", "Sc"},
      {"Modifier_Symbol", "Sk"},
      {"Other_Symbol", "So"},
      {"Separator", "Z"},
      {"Space_Separator", "Zs"},
      {"Line_Separator", "Zl"},
      {"Paragraph_Separator", "Zp"},
      {"Other", "C"},
      {"Control", "Cc"},
      {"cntrl", "Cc"},
      {"Format", "Cf"},
      {"Private_Use", "Co"},
      {"Surrogate", "Cs"},
      {"Unassigned", "Cn"},
  };
  for (std::string_view prefix :
       {"General_Category=", "gc=", "Script=", "sc=", "Script_Extensions=", "scx="}) {
    if (name.starts_with(prefix)) {
      name.remove_prefix(prefix.size());
      break;
    }
  }
  for (const auto& [long_name, short_name] : kNames) {
    if (name == long_name) return short_name;
  }
  return name;
}

}  // namespace

Result<std::string> ecma_to_re2(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return Status(ErrorCode::kSchema, "pattern ends with a backslash");
      char e = p[++i];
      switch (e) {
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 'n':
        case 'r':
        case 't':
        case 'f':
        case 'v':
          out += '\\';
          out += e;
          break;
        case 'b':
        case 'B':
          if (in_class && e == 'b') {
            out += "\\x08";  // backspace inside a class
          } else {
            out += '\\';
            out += e;
          }
          break;
        case 's':
          if (in_class) {
            out += kSpaceSet;
          } else {
            out += '[';
            out += kSpaceSet;
            out += ']';
          }
          break;
        case 'S':
          if (in_class) {
            out += "\\S";  // RE2 cannot nest a negated set inside a class: ASCII \S here
          } else {
            out += "[^";
            out += kSpaceSet;
            out += ']';
          }
          break;
        case '0':
          if (i + 1 < p.size() && std::isdigit(static_cast<unsigned char>(p[i + 1]))) {
            return Status(ErrorCode::kSchema, "octal escapes are not supported");
          }
          out += "\\x00";
          break;
        case 'x': {
          uint32_t value;
          if (!read_hex(p, i + 1, 2, value)) {
            out += 'x';
            break;
          }
          append_code_point(out, value);
          i += 2;
          break;
        }
        case 'u': {
          uint32_t value;
          if (i + 1 < p.size() && p[i + 1] == '{') {
            size_t close = p.find('}', i + 2);
            if (close == std::string_view::npos || close == i + 2 || close - i - 2 > 6 ||
                !read_hex(p, i + 2, close - i - 2, value) || value > 0x10FFFF) {
              return Status(ErrorCode::kSchema, "malformed \\u{...} escape");
            }
            i = close;
          } else if (read_hex(p, i + 1, 4, value)) {
            i += 4;
            uint32_t low;
            if (value >= 0xD800 && value <= 0xDBFF && p.substr(i + 1, 2) == "\\u" &&
                read_hex(p, i + 3, 4, low) && low >= 0xDC00 && low <= 0xDFFF) {
              value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00);
              i += 6;
            } else if (value >= 0xD800 && value <= 0xDFFF) {
              return Status(ErrorCode::kSchema, "lone surrogate escapes cannot match UTF-8 text");
            }
          } else {
            return Status(ErrorCode::kSchema, "malformed \\u escape");
          }
          append_code_point(out, value);
          break;
        }
        case 'c': {
          if (i + 1 < p.size() && std::isalpha(static_cast<unsigned char>(p[i + 1]))) {
            append_code_point(out, static_cast<uint32_t>(p[++i]) % 32);
          } else {
            out += "\\\\c";
          }
          break;
        }
        case 'p':
        case 'P': {
          if (i + 1 >= p.size() || p[i + 1] != '{') {
            return Status(ErrorCode::kSchema, "\\p needs a {property}");
          }
          size_t close = p.find('}', i + 2);
          if (close == std::string_view::npos) {
            return Status(ErrorCode::kSchema, "unterminated \\p{...}");
          }
          out += '\\';
          out += e;
          out += '{';
          out += property_name(p.substr(i + 2, close - i - 2));
          out += '}';
          i = close;
          break;
        }
        case 'k':
          return Status(ErrorCode::kSchema, "named backreferences (\\k<...>) are not supported");
        default:
          if (e >= '1' && e <= '9') {
            return Status(ErrorCode::kSchema, "backreferences (\\1...) are not supported");
          }
          if (std::isalnum(static_cast<unsigned char>(e))) {
            return Status(ErrorCode::kSchema, std::string("\\") + e + " is not an ECMA-262 escape");
          }
          if (static_cast<unsigned char>(e) & 0x80) {
            out += e;
          } else {
            out += '\\';
            out += e;
          }
      }
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
        out += ']';
      } else if (c == '[') {
        out += "\\[";
      } else {
        out += c;
      }
      continue;
    }
    switch (c) {
      case '.':
        out += kDot;
        break;
      case '[':
        if (p.substr(i, 3) == "[^]") {
          out += "(?s:.)";
          i += 2;
        } else if (p.substr(i, 2) == "[]") {
          out += "[^\\x00-\\x{10ffff}]";
          i += 1;
        } else {
          in_class = true;
          out += '[';
          if (i + 1 < p.size() && p[i + 1] == '^') {
            out += '^';
            ++i;
          }
        }
        break;
      case '(':
        if (p.substr(i, 3) == "(?=" || p.substr(i, 3) == "(?!" || p.substr(i, 4) == "(?<=" ||
            p.substr(i, 4) == "(?<!") {
          return Status(ErrorCode::kSchema, "lookaround assertions are not supported by RE2");
        }
        if (p.substr(i, 3) == "(?<") {
          out += "(?P<";
          i += 2;
        } else if (p.substr(i, 3) == "(?:") {
          out += "(?:";
          i += 2;
        } else if (p.substr(i, 2) == "(?") {
          return Status(ErrorCode::kSchema, "(? must be followed by :, =, ! or < in ECMA-262");
        } else {
          out += '(';
        }
        break;
      default:
        out += c;
    }
  }
  if (in_class) return Status(ErrorCode::kSchema, "unterminated character class");
  return out;
}

namespace {

// Recognises ^[set]{min,max}$ (also +, *, {n}, {n,}) where the set is ASCII literals, ranges,
// \d, \w or escaped punctuation: then a match is "every byte in the set and a length in range",
// since ASCII bytes are whole code points and any other byte is outside the set.
bool simple_shape(std::string_view p, bool (&allowed)[256], size_t& min, size_t& max) {
  if (p.size() < 5 || p.front() != '^' || p.back() != '$' || p[1] != '[' || p[2] == '^') {
    return false;
  }
  size_t i = 2;
  auto add_range = [&](unsigned char from, unsigned char to) {
    for (unsigned c = from; c <= to; ++c) allowed[c] = true;
  };
  int previous = -1;  // the last single character, for ranges
  while (true) {
    if (i >= p.size()) return false;
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == ']') break;
    if (c >= 0x80 || c == '[') return false;
    if (c == '\\') {
      if (i + 1 >= p.size()) return false;
      char e = p[i + 1];
      i += 2;
      if (e == 'd') {
        add_range('0', '9');
        previous = -1;
      } else if (e == 'w') {
        add_range('0', '9');
        add_range('a', 'z');
        add_range('A', 'Z');
        allowed[static_cast<unsigned char>('_')] = true;
        previous = -1;
      } else if (std::ispunct(static_cast<unsigned char>(e))) {
        allowed[static_cast<unsigned char>(e)] = true;
        previous = static_cast<unsigned char>(e);
      } else {
        return false;
      }
      continue;
    }
    if (c == '-' && previous >= 0 && i + 1 < p.size() && p[i + 1] != ']') {
      unsigned char to = static_cast<unsigned char>(p[i + 1]);
      if (to == '\\' || to >= 0x80 || to < previous) return false;
      add_range(static_cast<unsigned char>(previous), to);
      previous = -1;
      i += 2;
      continue;
    }
    allowed[c] = true;
    previous = c;
    ++i;
  }
  std::string_view quantifier = p.substr(i + 1, p.size() - i - 2);
  if (quantifier == "+") {
    min = 1;
    max = SIZE_MAX;
    return true;
  }
  if (quantifier == "*") {
    min = 0;
    max = SIZE_MAX;
    return true;
  }
  if (quantifier.size() < 3 || quantifier.front() != '{' || quantifier.back() != '}') return false;
  std::string_view bounds = quantifier.substr(1, quantifier.size() - 2);
  size_t comma = bounds.find(',');
  auto number = [](std::string_view digits, size_t& out) {
    if (digits.empty() || digits.size() > 6) return false;
    out = 0;
    for (char d : digits) {
      if (d < '0' || d > '9') return false;
      out = out * 10 + static_cast<size_t>(d - '0');
    }
    return true;
  };
  if (comma == std::string_view::npos) {
    if (!number(bounds, min)) return false;
    max = min;
    return true;
  }
  if (!number(bounds.substr(0, comma), min)) return false;
  if (comma + 1 == bounds.size()) {
    max = SIZE_MAX;
    return true;
  }
  return number(bounds.substr(comma + 1), max) && min <= max;
}

}  // namespace

Result<std::shared_ptr<const Pattern>> compile_pattern(std::string_view pattern) {
  auto translated = ecma_to_re2(pattern);
  if (!translated) return translated.take_status();
  RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_shared<Pattern>();
  compiled->re_ = std::make_unique<RE2>(*translated, options);
  if (!compiled->re_->ok()) {
    return Status(ErrorCode::kSchema, "RE2 cannot compile it: " + compiled->re_->error());
  }
  compiled->simple_ = simple_shape(pattern, compiled->allowed_, compiled->min_, compiled->max_);
  return std::shared_ptr<const Pattern>(std::move(compiled));
}

}  // namespace canonry::schema::detail
