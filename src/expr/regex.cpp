// JavaScript regular expressions to RE2. RE2 guarantees linear time, so what needs backtracking
// (lookaround, backreferences) is refused at compile time rather than run slowly.
#include <string>

#include "expr/internal.h"

namespace canonry::expr {

bool translate_regex(std::string_view js, std::string& out) {
  out.clear();
  bool in_class = false;
  for (size_t i = 0; i < js.size(); ++i) {
    char c = js[i];
    if (c == '\\') {
      if (i + 1 >= js.size()) return false;
      char n = js[i + 1];
      if (!in_class && n >= '1' && n <= '9') return false;  // backreference
      if (n == 'd' || n == 'D' || n == 'w' || n == 'W' || n == 's' || n == 'S' || n == 'b' ||
          n == 'B' || n == 'n' || n == 'r' || n == 't' || n == 'f' || n == 'v' || n == 'x' ||
          n == 'u' || n == '0') {
        if (n == 'v') {
          out += "\\x0B";
        } else if (n == '0') {
          out += "\\x00";
        } else if (n == 'u' && i + 5 < js.size() + 0 && i + 5 <= js.size() - 1 + 1) {
          out += "\\x{" + std::string(js.substr(i + 2, 4)) + "}";
          i += 4;
        } else {
          out += c;
          out += n;
        }
      } else if (std::isalnum(static_cast<unsigned char>(n))) {
        out += n;  // JavaScript treats unknown escapes of letters as the letter
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < js.size() && js[i + 1] == '^') {
        out += '^';
        ++i;
      }
      if (i + 1 < js.size() && js[i + 1] == ']') {
        // `[]` matches nothing and `[^]` anything in JavaScript
        return false;
      }
      continue;
    }
    if (c == '(' && i + 2 < js.size() && js[i + 1] == '?') {
      char k = js[i + 2];
      if (k == '=' || k == '!') return false;  // lookahead
      if (k == '<' && i + 3 < js.size() && (js[i + 3] == '=' || js[i + 3] == '!')) return false;
      if (k == '<') {
        out += "(?P<";
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return true;
}

}  // namespace canonry::expr
