// I-Regexp (RFC 9485) to RE2. I-Regexp is a small subset of XSD regular expressions; most of it
// maps one to one. What does not: `.` excludes only \n and \r, every character outside the few
// metacharacters is literal (`^`, `$` included), and RE2 knows no `Cn` category and leaves
// unassigned code points out of `C`, so those two are written as complements of the assigned
// categories.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/utf8.h"
#include "jsonpath/jsonpath.h"

namespace canonry::jsonpath {
namespace {

// Assigned code points outside category C, and all assigned ones.
constexpr std::string_view kNotC = "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Z}";
constexpr std::string_view kAssigned =
    "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Z}\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}";

// A set of characters as RE2 class content: either the content itself or, when `complement`,
// the set of characters the content does not match.
struct ClassPart {
  std::string content;
  bool complement = false;
};

// Writes one character so that RE2 reads it literally, inside or outside a class.
void append_literal(std::string& out, uint32_t cp) {
  bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp < 0x20 || cp == 0x7F) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x{";
    out += kHex[cp >> 4];
    out += kHex[cp & 15];
    out += '}';
  } else if (cp < 0x80 && !alnum && cp != ' ') {
    out += '\\';
    out += static_cast<char>(cp);
  } else {
    utf8_append(out, cp);
  }
}

class Translator {
 public:
  Translator(std::string_view pattern, std::string& out) : p_(pattern), out_(out) {}

  bool run() { return regexp() && i_ == p_.size(); }

 private:
  bool at_end() const { return i_ >= p_.size(); }
  char peek() const { return p_[i_]; }

  bool regexp() {
    if (++depth_ > kMaxDepth) return false;
    if (!branch()) return false;
    while (!at_end() && peek() == '|') {
      ++i_;
      out_ += '|';
      if (!branch()) return false;
    }
    --depth_;
    return true;
  }

  bool branch() {
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (!piece()) return false;
    }
    return true;
  }

  bool piece() {
    if (!atom()) return false;
    if (at_end()) return true;
    char c = peek();
    if (c == '*' || c == '+' || c == '?') {
      out_ += c;
      ++i_;
      return true;
    }
    if (c == '{') return range_quantifier();
    return true;
  }

  bool digits(std::string& into) {
    size_t start = i_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++i_;
    into.assign(p_.substr(start, i_ - start));
    return i_ > start;
  }

  bool range_quantifier() {
    ++i_;  // '{'
    std::string low, high;
    if (!digits(low)) return false;
    out_ += '{';
    out_ += low;
    if (!at_end() && peek() == ',') {
      ++i_;
      out_ += ',';
      if (digits(high)) out_ += high;
    }
    if (at_end() || peek() != '}') return false;
    ++i_;
    out_ += '}';
    return true;
  }

  bool atom() {
    char c = peek();
    switch (c) {
      case '(':
        ++i_;
        out_ += "(?:";
        if (!regexp()) return false;
        if (at_end() || peek() != ')') return false;
        ++i_;
        out_ += ')';
        return true;
      case '.':
        ++i_;
        out_ += "[^\\n\\r]";
        return true;
      case '[':
        return class_expr();
      case '\\': {
        ClassPart part;
        uint32_t cp;
        bool is_char;
        if (!escape(part, cp, is_char)) return false;
        if (is_char) {
          append_literal(out_, cp);
        } else {
          out_ += part.complement ? "[^" : "[";
          out_ += part.content;
          out_ += ']';
        }
        return true;
      }
      case '^':
      case '$':
        // I-Regexp's grammar makes these ordinary characters, but its ECMAScript mapping (RFC
        // 9485 section 5.3), the JSONPath compliance suite and what users write all read them as
        // anchors of the whole string; so do we.
        ++i_;
        out_ += c == '^' ? "^" : "$";
        return true;
      case ')':
      case '*':
      case '+':
      case '?':
      case ']':
      case '{':
      case '|':
      case '}':
        return false;
      default: {
        uint32_t cp;
        if (!utf8_decode(p_, i_, cp)) return false;
        append_literal(out_, cp);
        return true;
      }
    }
  }

  // After a backslash: a single-character escape (is_char, cp) or a category escape (part).
  bool escape(ClassPart& part, uint32_t& cp, bool& is_char) {
    ++i_;  // '\'
    if (at_end()) return false;
    char c = peek();
    ++i_;
    is_char = true;
    switch (c) {
      case 'n':
        cp = '\n';
        return true;
      case 'r':
        cp = '\r';
        return true;
      case 't':
        cp = '\t';
        return true;
      case '(':
      case ')':
      case '*':
      case '+':
      case '-':
      case '.':
      case '?':
      case '[':
      case '\\':
      case ']':
      case '^':
      case '$':  // not in RFC 9485's list; needed to match a literal '$' now that '$' anchors
      case '{':
      case '|':
      case '}':
        cp = static_cast<uint8_t>(c);
        return true;
      case 'p':
      case 'P':
        is_char = false;
        return category(c == 'P', part);
      default:
        return false;
    }
  }

  bool category(bool negated, ClassPart& part) {
    if (at_end() || peek() != '{') return false;
    size_t close = p_.find('}', i_);
    if (close == std::string_view::npos) return false;
    std::string_view name = p_.substr(i_ + 1, close - i_ - 1);
    i_ = close + 1;
    static constexpr std::string_view kValid[] = {
        "L",  "Ll", "Lm", "Lo", "Lt", "Lu", "M",  "Mc", "Me", "Mn", "N",  "Nd",
        "Nl", "No", "P",  "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Z",  "Zl",
        "Zp", "Zs", "S",  "Sc", "Sk", "Sm", "So", "C",  "Cc", "Cf", "Cn", "Co"};
    bool known = false;
    for (std::string_view v : kValid) known = known || v == name;
    if (!known) return false;
    if (name == "C" || name == "Cn") {
      part.content = name == "C" ? kNotC : kAssigned;
      part.complement = !negated;
    } else {
      part.content = negated ? "\\P{" : "\\p{";
      part.content += name;
      part.content += '}';
      part.complement = false;
    }
    return true;
  }

  // A character allowed as a class member or range end (CCchar).
  bool class_char(uint32_t& cp, bool& is_char, ClassPart& part) {
    char c = peek();
    if (c == '\\') return escape(part, cp, is_char);
    if (c == '-' || c == '[' || c == ']') return false;
    is_char = true;
    return utf8_decode(p_, i_, cp);
  }

  bool class_expr() {
    ++i_;  // '['
    bool negated = false;
    if (!at_end() && peek() == '^') {
      negated = true;
      ++i_;
    }
    std::string direct;  // characters, ranges, and categories RE2 can hold in one class
    std::vector<std::string> complements;
    bool any = false;
    if (!at_end() && peek() == '-') {
      ++i_;
      append_literal(direct, '-');
      any = true;
    }
    while (true) {
      if (at_end()) return false;
      char c = peek();
      if (c == ']') break;
      if (c == '-') {
        // Only allowed as the last character before ']'.
        if (i_ + 1 >= p_.size() || p_[i_ + 1] != ']') return false;
        ++i_;
        append_literal(direct, '-');
        any = true;
        continue;
      }
      uint32_t low;
      bool is_char;
      ClassPart part;
      if (!class_char(low, is_char, part)) return false;
      any = true;
      if (!is_char) {
        if (part.complement) {
          complements.push_back(part.content);
        } else {
          direct += part.content;
        }
        continue;
      }
      if (!at_end() && peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        uint32_t high;
        ClassPart high_part;
        bool high_is_char;
        if (!class_char(high, high_is_char, high_part) || !high_is_char || high < low) {
          return false;
        }
        append_literal(direct, low);
        direct += '-';
        append_literal(direct, high);
        continue;
      }
      append_literal(direct, low);
    }
    ++i_;  // ']'
    if (!any) return false;
    if (complements.empty()) {
      out_ += negated ? "[^" : "[";
      out_ += direct;
      out_ += ']';
      return true;
    }
    if (negated) {
      // [^ complement(X)] is X; anything more would need set intersection, which RE2 lacks.
      if (!direct.empty() || complements.size() != 1) return false;
      out_ += '[';
      out_ += complements[0];
      out_ += ']';
      return true;
    }
    out_ += "(?:";
    bool first = true;
    if (!direct.empty()) {
      out_ += '[';
      out_ += direct;
      out_ += ']';
      first = false;
    }
    for (const std::string& complement : complements) {
      if (!first) out_ += '|';
      first = false;
      out_ += "[^";
      out_ += complement;
      out_ += ']';
    }
    out_ += ')';
    return true;
  }

  static constexpr int kMaxDepth = 64;
  std::string_view p_;
  std::string& out_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

bool iregexp_to_re2(std::string_view pattern, std::string& out) {
  out.clear();
  return Translator(pattern, out).run();
}

}  // namespace canonry::jsonpath
