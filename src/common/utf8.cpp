#include "common/utf8.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>

namespace canonry {

bool utf8_decode(std::string_view s, size_t& i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    i += 1;
    return true;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (i + len > s.size()) return false;
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

// Length of the code point at `pos` and the code point, 0 when the bytes are not valid UTF-8.
size_t decode(std::string_view s, size_t pos, char32_t& cp) {
  size_t next = pos;
  uint32_t value;
  if (!utf8_decode(s, next, value)) return 0;
  cp = value;
  return next - pos;
}

// glibc's C.UTF-8 locale carries the Unicode case tables; a locale object of our own keeps the
// process locale untouched.
locale_t unicode_locale() {
  static locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return locale;
}

template <bool kUpper>
std::string map_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  locale_t locale = unicode_locale();
  size_t pos = 0;
  while (pos < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (kUpper) {
        out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : static_cast<char>(c);
      } else {
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : static_cast<char>(c);
      }
      ++pos;
      continue;
    }
    char32_t cp;
    size_t len = decode(s, pos, cp);
    if (len == 0) {
      out += s[pos++];
      continue;
    }
    char32_t mapped = cp;
    if (locale != static_cast<locale_t>(0)) {
      mapped = static_cast<char32_t>(kUpper ? towupper_l(static_cast<wint_t>(cp), locale)
                                            : towlower_l(static_cast<wint_t>(cp), locale));
    }
    utf8_append(out, static_cast<uint32_t>(mapped));
    pos += len;
  }
  return out;
}

bool is_white_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    char32_t cp;
    size_t len = decode(s, pos, cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string utf8_lower(std::string_view text) {
  return map_case<false>(text);
}
std::string utf8_upper(std::string_view text) {
  return map_case<true>(text);
}

std::string_view utf8_trim(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp;
    size_t len = decode(s, begin, cp);
    if (len == 0 || !is_white_space(cp)) break;
    begin += len;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last code point.
    size_t start = end - 1;
    while (start > begin && (static_cast<uint8_t>(s[start]) & 0xc0) == 0x80) --start;
    char32_t cp;
    size_t len = decode(s, start, cp);
    if (len == 0 || start + len != end || !is_white_space(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

size_t utf8_length(std::string_view s) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp;
    size_t len = decode(s, pos, cp);
    pos += len == 0 ? 1 : len;
    ++count;
  }
  return count;
}

}  // namespace canonry
