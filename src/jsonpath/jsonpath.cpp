#include "jsonpath/jsonpath.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/arena.h"
#include "common/utf8.h"

namespace canonry::jsonpath {
namespace ast {

enum class SelectorKind : uint8_t { kName, kWildcard, kIndex, kSlice, kFilter };

struct Selector {
  SelectorKind kind = SelectorKind::kWildcard;
  std::string_view name;  // kName
  int64_t index = 0;      // kIndex; the start of a kSlice
  int64_t end = 0;
  int64_t step = 1;
  bool has_start = false;
  bool has_end = false;
  uint32_t filter = 0;  // kFilter: an expression id
};

struct Segment {
  bool descendant = false;
  // Blanks inside the brackets: RFC 9535's name-segment and index-segment have no room for them,
  // so such a segment never makes a singular query.
  bool padded = false;
  std::vector<Selector> selectors;

  bool is_singular() const {
    return !descendant && !padded && selectors.size() == 1 &&
           (selectors[0].kind == SelectorKind::kName || selectors[0].kind == SelectorKind::kIndex);
  }
};

struct Query {
  bool absolute = true;  // `$` rather than `@`
  bool singular = true;
  std::vector<Segment> segments;
};

enum class Function : uint8_t { kLength, kCount, kMatch, kSearch, kValue };
enum class OperandKind : uint8_t { kLiteral, kQuery, kFunction };

// Something that yields a value or a nodelist inside a filter: a literal, a query, or a call.
struct Operand {
  OperandKind kind = OperandKind::kLiteral;
  json::Value literal;
  uint32_t id = 0;  // kQuery: query id; kFunction: call id
  size_t position = 0;
};

struct Call {
  Function function = Function::kLength;
  std::vector<Operand> args;
  // match/search with a literal pattern: compiled once; null when the pattern is not a valid
  // I-Regexp, which makes every call false.
  std::unique_ptr<RE2> regex;
  bool literal_pattern = false;
};

enum class ExprKind : uint8_t { kOr, kAnd, kNot, kCompare, kExists, kCall };
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Expr {
  ExprKind kind = ExprKind::kOr;
  CompareOp op = CompareOp::kEq;
  std::vector<uint32_t> children;  // kOr, kAnd, kNot
  Operand lhs, rhs;                // kCompare
  uint32_t id = 0;                 // kExists: query id; kCall: call id
};

}  // namespace ast

struct JsonPath::Impl {
  std::string text;
  ast::Query query;
  std::vector<ast::Query> queries;  // those inside filters
  std::vector<ast::Call> calls;
  std::vector<ast::Expr> exprs;
  Arena arena{1024};  // decoded names and literal text
};

namespace {

using ast::CompareOp;
using ast::Expr;
using ast::ExprKind;
using ast::Function;
using ast::Operand;
using ast::OperandKind;
using ast::Query;
using ast::Segment;
using ast::Selector;
using ast::SelectorKind;

// I-JSON's exact integer range, which RFC 9535 imposes on indices and slice bounds.
constexpr int64_t kMaxExactInteger = (int64_t{1} << 53) - 1;
// Bounds recursion in the parser (and so in the evaluator) for hostile queries.
constexpr int kMaxNesting = 64;

RE2::Options regex_options() {
  RE2::Options options;
  options.set_log_errors(false);
  return options;
}

std::unique_ptr<RE2> compile_iregexp(std::string_view pattern) {
  std::string translated;
  if (!iregexp_to_re2(pattern, translated)) return nullptr;
  auto regex = std::make_unique<RE2>(translated, regex_options());
  if (!regex->ok()) return nullptr;
  return regex;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool returns_logical(Function f) {
  return f == Function::kMatch || f == Function::kSearch;
}

class Parser {
 public:
  Parser(std::string_view text, JsonPath::Impl& impl) : s_(text), impl_(impl) {}

  Status parse() {
    if (at_end() || peek() != '$') {
      unexpected();
      return error_;
    }
    ++pos_;
    Query query;
    if (segments(query) && !at_end()) unexpected();
    if (!error_.is_ok()) return error_;
    impl_.query = std::move(query);
    return Status::ok();
  }

 private:
  // The two kinds of result of parsing inside a filter: a logical expression, or an operand that
  // is yet to be given its role (compared, tested, or passed to a function).
  struct Term {
    bool logical = false;
    uint32_t expr = 0;
    Operand operand;
  };

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  bool peek_is(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool peek_is(std::string_view token) const { return s_.substr(pos_, token.size()) == token; }
  // Returns whether there were any.
  bool skip_blanks() {
    size_t start = pos_;
    while (!at_end() && is_blank(peek())) ++pos_;
    return pos_ != start;
  }

  // Positions are reported in characters, not bytes, as people count them.
  size_t character_position(size_t byte_offset) const {
    size_t count = 0;
    for (size_t i = 0; i < byte_offset && i < s_.size(); ++i) {
      if ((static_cast<uint8_t>(s_[i]) & 0xC0) != 0x80) ++count;
    }
    return count;
  }

  bool fail(std::string message, size_t at) {
    if (error_.is_ok()) {
      error_ = Status(ErrorCode::kPathSyntax,
                      message + " at position " + std::to_string(character_position(at)));
    }
    return false;
  }

  bool fail(std::string message) { return fail(std::move(message), pos_); }

  bool unexpected() {
    if (at_end()) return fail("unexpected end of query");
    uint8_t c = static_cast<uint8_t>(peek());
    if (c >= 0x20 && c < 0x7F) return fail(std::string("unexpected '") + peek() + "'");
    size_t end = pos_;
    uint32_t cp;
    if (!utf8_decode(s_, end, cp)) return fail("invalid UTF-8");
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", cp);
    return fail(std::string("unexpected ") + buffer);
  }

  bool enter() {
    if (++depth_ > kMaxNesting) return fail("query nested too deeply");
    return true;
  }
  void leave() { --depth_; }

  // segments = *(S segment); blanks that no segment follows are left for the caller.
  bool segments(Query& query) {
    while (true) {
      size_t before = pos_;
      skip_blanks();
      if (peek_is('[')) {
        Segment segment;
        if (!bracketed(segment)) return false;
        query.segments.push_back(std::move(segment));
      } else if (peek_is('.')) {
        Segment segment;
        if (!dotted(segment)) return false;
        query.segments.push_back(std::move(segment));
      } else {
        pos_ = before;
        break;
      }
      query.singular = query.singular && query.segments.back().is_singular();
    }
    return true;
  }

  bool dotted(Segment& segment) {
    ++pos_;  // '.'
    if (peek_is('.')) {
      ++pos_;
      segment.descendant = true;
      if (peek_is('[')) return bracketed(segment);
    }
    Selector selector;
    if (peek_is('*')) {
      ++pos_;
      selector.kind = SelectorKind::kWildcard;
    } else if (!member_name(selector)) {
      return false;
    }
    segment.selectors.push_back(selector);
    return true;
  }

  // member-name-shorthand: ALPHA / "_" / non-ASCII, then also digits.
  bool member_name(Selector& selector) {
    size_t start = pos_;
    while (!at_end()) {
      char c = peek();
      if (is_alpha(c) || c == '_' || (is_digit(c) && pos_ > start)) {
        ++pos_;
        continue;
      }
      if (static_cast<uint8_t>(c) >= 0x80) {
        size_t next = pos_;
        uint32_t cp;
        if (!utf8_decode(s_, next, cp)) return fail("invalid UTF-8");
        pos_ = next;
        continue;
      }
      break;
    }
    if (pos_ == start) return unexpected();
    selector.kind = SelectorKind::kName;
    selector.name = impl_.arena.copy_string(s_.substr(start, pos_ - start));
    return true;
  }

  bool bracketed(Segment& segment) {
    ++pos_;  // '['
    while (true) {
      if (skip_blanks()) segment.padded = true;
      Selector selector;
      if (!this->selector(selector)) return false;
      segment.selectors.push_back(selector);
      if (skip_blanks()) segment.padded = true;
      if (peek_is(',')) {
        ++pos_;
        continue;
      }
      if (peek_is(']')) {
        ++pos_;
        return true;
      }
      return unexpected();
    }
  }

  bool selector(Selector& selector) {
    if (at_end()) return unexpected();
    char c = peek();
    if (c == '\'' || c == '"') {
      std::string name;
      if (!string_literal(name)) return false;
      selector.kind = SelectorKind::kName;
      selector.name = impl_.arena.copy_string(name);
      return true;
    }
    if (c == '*') {
      ++pos_;
      selector.kind = SelectorKind::kWildcard;
      return true;
    }
    if (c == '?') {
      ++pos_;
      skip_blanks();
      uint32_t expr;
      if (!filter(expr)) return false;
      selector.kind = SelectorKind::kFilter;
      selector.filter = expr;
      return true;
    }
    if (c == '-' || is_digit(c) || c == ':') return index_or_slice(selector);
    return unexpected();
  }

  // int = "0" / (["-"] DIGIT1 *DIGIT), within I-JSON's exact range.
  bool integer(int64_t& out) {
    size_t start = pos_;
    bool negative = peek_is('-');
    if (negative) ++pos_;
    if (at_end() || !is_digit(peek())) return unexpected();
    if (peek() == '0') {
      if (negative) return fail("'-0' is not an index", start);
      ++pos_;
      if (!at_end() && is_digit(peek())) return fail("leading zero in integer", start);
      out = 0;
      return true;
    }
    int64_t value = 0;
    while (!at_end() && is_digit(peek())) {
      value = value * 10 + (peek() - '0');
      if (value > kMaxExactInteger) return fail("integer out of range", start);
      ++pos_;
    }
    out = negative ? -value : value;
    return true;
  }

  // slice-selector = [start S] ":" S [end S] [":" [S step]]
  bool index_or_slice(Selector& selector) {
    bool has_start = false;
    int64_t start = 0;
    if (!peek_is(':')) {
      if (!integer(start)) return false;
      has_start = true;
      size_t before = pos_;
      skip_blanks();
      if (!peek_is(':')) {
        pos_ = before;
        selector.kind = SelectorKind::kIndex;
        selector.index = start;
        return true;
      }
    }
    ++pos_;  // ':'
    selector.kind = SelectorKind::kSlice;
    selector.has_start = has_start;
    selector.index = start;
    skip_blanks();
    if (peek_is('-') || (!at_end() && is_digit(peek()))) {
      if (!integer(selector.end)) return false;
      selector.has_end = true;
      skip_blanks();
    }
    if (peek_is(':')) {
      ++pos_;
      skip_blanks();
      if (peek_is('-') || (!at_end() && is_digit(peek()))) {
        if (!integer(selector.step)) return false;
      }
    }
    return true;
  }

  int hex_digit(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(uint32_t& out) {
    out = 0;
    for (int k = 0; k < 4; ++k) {
      if (at_end()) return unexpected();
      int d = hex_digit(peek());
      if (d < 0) return fail("invalid \\u escape");
      out = out * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return true;
  }

  bool string_literal(std::string& out) {
    size_t start = pos_;
    char quote = peek();
    ++pos_;
    while (true) {
      if (at_end()) return fail("unterminated string", start);
      char c = peek();
      if (c == quote) {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        size_t escape_at = pos_;
        ++pos_;
        if (at_end()) return fail("unterminated string", start);
        char e = peek();
        ++pos_;
        switch (e) {
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case '/':
            out += '/';
            break;
          case '\\':
            out += '\\';
            break;
          case 'u': {
            uint32_t cp;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate", escape_at);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low;
              if (!peek_is("\\u")) return fail("high surrogate without low surrogate", escape_at);
              pos_ += 2;
              if (!hex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) {
                return fail("high surrogate without low surrogate", escape_at);
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            utf8_append(out, cp);
            break;
          }
          default:
            // Only the enclosing quote may be escaped, not the other one.
            if (e == quote) {
              out += e;
              break;
            }
            return fail("invalid escape", escape_at);
        }
        continue;
      }
      if (static_cast<uint8_t>(c) < 0x20) return fail("control character in string");
      if (static_cast<uint8_t>(c) < 0x80) {
        out += c;
        ++pos_;
        continue;
      }
      size_t next = pos_;
      uint32_t cp;
      if (!utf8_decode(s_, next, cp)) return fail("invalid UTF-8");
      out.append(s_.substr(pos_, next - pos_));
      pos_ = next;
    }
  }

  // number = (int / "-0") [ frac ] [ exp ]
  bool number(Operand& operand) {
    size_t start = pos_;
    if (peek_is('-')) ++pos_;
    if (at_end() || !is_digit(peek())) return unexpected();
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && is_digit(peek())) return fail("leading zero in number", start);
    } else {
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    bool integral = true;
    if (peek_is('.')) {
      integral = false;
      ++pos_;
      if (at_end() || !is_digit(peek())) return unexpected();
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (peek_is('e') || peek_is('E')) {
      integral = false;
      ++pos_;
      if (peek_is('+') || peek_is('-')) ++pos_;
      if (at_end() || !is_digit(peek())) return unexpected();
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    std::string_view text = impl_.arena.copy_string(s_.substr(start, pos_ - start));
    operand.kind = OperandKind::kLiteral;
    operand.position = start;
    if (integral) {
      int64_t i;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && end == text.data() + text.size()) {
        operand.literal = json::Value::integer(i, text);
      } else {
        operand.literal = json::Value::big_integer(text);
      }
      return true;
    }
    std::string copy(text);
    operand.literal = json::Value::number(std::strtod(copy.c_str(), nullptr), text);
    return true;
  }

  bool filter(uint32_t& expr) {
    Term term;
    return logical_or(term) && as_test(term, expr);
  }

  uint32_t add_expr(Expr expr) {
    impl_.exprs.push_back(std::move(expr));
    return static_cast<uint32_t>(impl_.exprs.size() - 1);
  }

  // Gives an operand standing alone in a logical context its meaning: a query tests for
  // existence, a function must return LogicalType or NodesType (RFC 9535 2.4.3).
  bool as_test(Term& term, uint32_t& expr) {
    if (term.logical) {
      expr = term.expr;
      return true;
    }
    const Operand& operand = term.operand;
    Expr e;
    switch (operand.kind) {
      case OperandKind::kLiteral:
        return fail("a literal must be compared", operand.position);
      case OperandKind::kQuery:
        e.kind = ExprKind::kExists;
        e.id = operand.id;
        break;
      case OperandKind::kFunction:
        if (!returns_logical(impl_.calls[operand.id].function)) {
          return fail("the result of this function must be compared", operand.position);
        }
        e.kind = ExprKind::kCall;
        e.id = operand.id;
        break;
    }
    expr = add_expr(std::move(e));
    term.logical = true;
    term.expr = expr;
    return true;
  }

  // A comparable is a literal, a singular query, or a function returning ValueType.
  bool check_comparable(const Operand& operand) {
    if (operand.kind == OperandKind::kQuery && !impl_.queries[operand.id].singular) {
      return fail("a non-singular query cannot be compared", operand.position);
    }
    if (operand.kind == OperandKind::kFunction &&
        returns_logical(impl_.calls[operand.id].function)) {
      return fail("the result of this function cannot be compared", operand.position);
    }
    return true;
  }

  bool logical_or(Term& out) {
    if (!enter()) return false;
    if (!logical_and(out)) return false;
    Expr any;
    any.kind = ExprKind::kOr;
    while (true) {
      size_t before = pos_;
      skip_blanks();
      if (!peek_is("||")) {
        pos_ = before;
        break;
      }
      pos_ += 2;
      skip_blanks();
      uint32_t left;
      if (any.children.empty()) {
        if (!as_test(out, left)) return false;
        any.children.push_back(left);
      }
      Term next;
      uint32_t right;
      if (!logical_and(next) || !as_test(next, right)) return false;
      any.children.push_back(right);
    }
    if (!any.children.empty()) {
      out.logical = true;
      out.expr = add_expr(std::move(any));
    }
    leave();
    return true;
  }

  bool logical_and(Term& out) {
    if (!basic(out)) return false;
    Expr all;
    all.kind = ExprKind::kAnd;
    while (true) {
      size_t before = pos_;
      skip_blanks();
      if (!peek_is("&&")) {
        pos_ = before;
        break;
      }
      pos_ += 2;
      skip_blanks();
      uint32_t left;
      if (all.children.empty()) {
        if (!as_test(out, left)) return false;
        all.children.push_back(left);
      }
      Term next;
      uint32_t right;
      if (!basic(next) || !as_test(next, right)) return false;
      all.children.push_back(right);
    }
    if (!all.children.empty()) {
      out.logical = true;
      out.expr = add_expr(std::move(all));
    }
    return true;
  }

  bool parenthesized(uint32_t& expr) {
    ++pos_;  // '('
    skip_blanks();
    Term inner;
    if (!logical_or(inner) || !as_test(inner, expr)) return false;
    skip_blanks();
    if (!peek_is(')')) return unexpected();
    ++pos_;
    return true;
  }

  bool comparison_op(CompareOp& op) {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<=", CompareOp::kLe},
        {">=", CompareOp::kGe}, {"<", CompareOp::kLt},  {">", CompareOp::kGt}};
    for (const auto& [token, value] : kOps) {
      if (peek_is(token)) {
        pos_ += token.size();
        op = value;
        return true;
      }
    }
    return false;
  }

  // basic-expr = paren-expr / comparison-expr / test-expr; a bare operand is returned as such.
  bool basic(Term& out) {
    if (peek_is('!')) {
      ++pos_;
      skip_blanks();
      Expr negation;
      negation.kind = ExprKind::kNot;
      uint32_t inner;
      if (peek_is('(')) {
        if (!parenthesized(inner)) return false;
      } else {
        Term operand;
        if (!this->operand(operand.operand)) return false;
        if (operand.operand.kind == OperandKind::kLiteral) {
          return fail("a literal cannot be negated", operand.operand.position);
        }
        if (!as_test(operand, inner)) return false;
      }
      negation.children.push_back(inner);
      out.logical = true;
      out.expr = add_expr(std::move(negation));
      return true;
    }
    if (peek_is('(')) {
      out.logical = true;
      return parenthesized(out.expr);
    }
    if (!operand(out.operand)) return false;
    size_t before = pos_;
    skip_blanks();
    CompareOp op;
    if (!comparison_op(op)) {
      pos_ = before;
      return true;
    }
    Expr comparison;
    comparison.kind = ExprKind::kCompare;
    comparison.op = op;
    comparison.lhs = out.operand;
    skip_blanks();
    if (!operand(comparison.rhs)) return false;
    if (!check_comparable(comparison.lhs) || !check_comparable(comparison.rhs)) return false;
    out.logical = true;
    out.expr = add_expr(std::move(comparison));
    return true;
  }

  bool operand(Operand& out) {
    if (at_end()) return unexpected();
    out.position = pos_;
    char c = peek();
    if (c == '@' || c == '$') {
      ++pos_;
      Query query;
      query.absolute = c == '$';
      if (!segments(query)) return false;
      impl_.queries.push_back(std::move(query));
      out.kind = OperandKind::kQuery;
      out.id = static_cast<uint32_t>(impl_.queries.size() - 1);
      return true;
    }
    if (c == '\'' || c == '"') {
      std::string text;
      if (!string_literal(text)) return false;
      out.kind = OperandKind::kLiteral;
      out.literal = json::Value::string(impl_.arena.copy_string(text));
      return true;
    }
    if (c == '-' || is_digit(c)) return number(out);
    if (c >= 'a' && c <= 'z') {
      size_t start = pos_;
      while (!at_end() && ((peek() >= 'a' && peek() <= 'z') || is_digit(peek()) || peek() == '_')) {
        ++pos_;
      }
      std::string_view word = s_.substr(start, pos_ - start);
      if (peek_is('(')) return function(word, out);
      out.kind = OperandKind::kLiteral;
      if (word == "true" || word == "false") {
        out.literal = json::Value::boolean(word == "true");
        return true;
      }
      if (word == "null") {
        out.literal = json::Value::null();
        return true;
      }
      return fail("unknown name '" + std::string(word) + "'", start);
    }
    return unexpected();
  }

  enum class ParamType { kValue, kNodes };

  bool function(std::string_view name, Operand& out) {
    size_t start = out.position;
    ast::Call call;
    std::vector<ParamType> params;
    if (name == "length") {
      call.function = Function::kLength;
      params = {ParamType::kValue};
    } else if (name == "count") {
      call.function = Function::kCount;
      params = {ParamType::kNodes};
    } else if (name == "match" || name == "search") {
      call.function = name == "match" ? Function::kMatch : Function::kSearch;
      params = {ParamType::kValue, ParamType::kValue};
    } else if (name == "value") {
      call.function = Function::kValue;
      params = {ParamType::kNodes};
    } else {
      return fail("unknown function '" + std::string(name) + "'", start);
    }
    if (!enter()) return false;
    ++pos_;  // '('
    skip_blanks();
    std::vector<Term> args;
    std::vector<size_t> positions;
    if (!peek_is(')')) {
      while (true) {
        skip_blanks();
        positions.push_back(pos_);
        args.emplace_back();
        if (!logical_or(args.back())) return false;
        skip_blanks();
        if (peek_is(',')) {
          ++pos_;
          continue;
        }
        if (peek_is(')')) break;
        return unexpected();
      }
    }
    ++pos_;  // ')'
    leave();
    if (args.size() != params.size()) {
      return fail(std::string(name) + "() takes " + std::to_string(params.size()) +
                      (params.size() == 1 ? " argument" : " arguments"),
                  start);
    }
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].logical) return fail("a logical expression is not a value here", positions[i]);
      const Operand& arg = args[i].operand;
      if (params[i] == ParamType::kNodes) {
        if (arg.kind != OperandKind::kQuery) return fail("expected a query", positions[i]);
      } else if (arg.kind == OperandKind::kQuery) {
        if (!impl_.queries[arg.id].singular) {
          return fail("expected a singular query", positions[i]);
        }
      } else if (arg.kind == OperandKind::kFunction &&
                 returns_logical(impl_.calls[arg.id].function)) {
        return fail("expected a value, not a logical result", positions[i]);
      }
      call.args.push_back(arg);
    }
    if (returns_logical(call.function) && call.args[1].kind == OperandKind::kLiteral) {
      call.literal_pattern = true;
      if (call.args[1].literal.is_string()) {
        call.regex = compile_iregexp(call.args[1].literal.as_string());
      }
    }
    impl_.calls.push_back(std::move(call));
    out.kind = OperandKind::kFunction;
    out.id = static_cast<uint32_t>(impl_.calls.size() - 1);
    return true;
  }

  std::string_view s_;
  JsonPath::Impl& impl_;
  size_t pos_ = 0;
  int depth_ = 0;
  Status error_;
};

// One step of a normalized path.
struct PathElement {
  std::string_view name;
  int64_t index = 0;
  bool is_index = false;
};

// A value in a filter, or Nothing (RFC 9535 2.4.1) when `present` is false.
struct Slot {
  bool present = false;
  json::Value value;
};

bool slot_equal(const Slot& a, const Slot& b) {
  if (!a.present || !b.present) return a.present == b.present;
  return json::equal(a.value, b.value);
}

// Only numbers and strings are ordered; everything else (MongoDB types included) is not.
bool slot_less(const Slot& a, const Slot& b) {
  if (!a.present || !b.present) return false;
  const json::Value& x = a.value;
  const json::Value& y = b.value;
  if (x.is_numeric() && y.is_numeric()) {
    if (x.is_integer() && y.is_integer() && !x.is_big_integer() && !y.is_big_integer()) {
      return x.as_int() < y.as_int();
    }
    return x.as_double() < y.as_double();
  }
  if (x.is_string() && y.is_string()) return x.as_string() < y.as_string();
  return false;
}

bool compare(CompareOp op, const Slot& a, const Slot& b) {
  switch (op) {
    case CompareOp::kEq:
      return slot_equal(a, b);
    case CompareOp::kNe:
      return !slot_equal(a, b);
    case CompareOp::kLt:
      return slot_less(a, b);
    case CompareOp::kLe:
      return slot_less(a, b) || slot_equal(a, b);
    case CompareOp::kGt:
      return slot_less(b, a);
    case CompareOp::kGe:
      return slot_less(b, a) || slot_equal(a, b);
  }
  return false;
}

const json::Value* walk_singular(const std::vector<Segment>& segments, const json::Value& start) {
  const json::Value* node = &start;
  for (const Segment& segment : segments) {
    const Selector& selector = segment.selectors[0];
    if (selector.kind == SelectorKind::kName) {
      node = node->find(selector.name);
    } else {
      if (!node->is_array()) return nullptr;
      int64_t i = selector.index;
      int64_t size = node->size();
      if (i < 0) i += size;
      if (i < 0 || i >= size) return nullptr;
      node = node->at(static_cast<size_t>(i));
    }
    if (node == nullptr) return nullptr;
  }
  return node;
}

class Evaluator {
 public:
  Evaluator(const JsonPath::Impl& impl, const json::Value& root, std::vector<PathElement>* path)
      : impl_(impl), root_(root), path_(path) {}

  // Applies segments [i, end) to `node`; `sink(node)` returns false to stop. Returns false when
  // stopped.
  template <typename Sink>
  bool run(const std::vector<Segment>& segments, size_t i, size_t end, const json::Value& node,
           Sink& sink) {
    if (i == end) return sink(node);
    const Segment& segment = segments[i];
    if (segment.descendant) return descend(segments, i, end, node, sink);
    return apply(segments, i, end, node, sink);
  }

 private:
  template <typename Sink>
  bool child(const std::vector<Segment>& segments, size_t i, size_t end, const json::Value& node,
             PathElement element, Sink& sink) {
    if (path_ == nullptr) return run(segments, i + 1, end, node, sink);
    path_->push_back(element);
    bool go_on = run(segments, i + 1, end, node, sink);
    path_->pop_back();
    return go_on;
  }

  template <typename Sink>
  bool apply(const std::vector<Segment>& segments, size_t i, size_t end, const json::Value& node,
             Sink& sink) {
    for (const Selector& selector : segments[i].selectors) {
      switch (selector.kind) {
        case SelectorKind::kName:
          if (const json::Value* value = node.find(selector.name)) {
            if (!child(segments, i, end, *value, {selector.name}, sink)) return false;
          }
          break;
        case SelectorKind::kWildcard:
          if (node.is_array()) {
            auto items = node.items();
            for (size_t k = 0; k < items.size(); ++k) {
              PathElement element{{}, static_cast<int64_t>(k), true};
              if (!child(segments, i, end, items[k], element, sink)) return false;
            }
          } else {
            for (const json::Member& member : node.members()) {
              if (!child(segments, i, end, member.value, {member.key}, sink)) return false;
            }
          }
          break;
        case SelectorKind::kIndex: {
          if (!node.is_array()) break;
          int64_t size = node.size();
          int64_t k = selector.index < 0 ? selector.index + size : selector.index;
          if (k < 0 || k >= size) break;
          PathElement element{{}, k, true};
          if (!child(segments, i, end, node.items()[k], element, sink)) return false;
          break;
        }
        case SelectorKind::kSlice:
          if (node.is_array() && !slice(segments, i, end, node, selector, sink)) return false;
          break;
        case SelectorKind::kFilter:
          if (node.is_array()) {
            auto items = node.items();
            for (size_t k = 0; k < items.size(); ++k) {
              if (!test(selector.filter, items[k])) continue;
              PathElement element{{}, static_cast<int64_t>(k), true};
              if (!child(segments, i, end, items[k], element, sink)) return false;
            }
          } else {
            for (const json::Member& member : node.members()) {
              if (!test(selector.filter, member.value)) continue;
              if (!child(segments, i, end, member.value, {member.key}, sink)) return false;
            }
          }
          break;
      }
    }
    return true;
  }

  // RFC 9535 2.3.4.2.2.
  template <typename Sink>
  bool slice(const std::vector<Segment>& segments, size_t i, size_t end, const json::Value& node,
             const Selector& selector, Sink& sink) {
    int64_t step = selector.step;
    if (step == 0) return true;
    int64_t len = node.size();
    auto normalize = [len](int64_t k) { return k >= 0 ? k : len + k; };
    int64_t start = selector.has_start ? normalize(selector.index) : (step > 0 ? 0 : len - 1);
    int64_t stop = selector.has_end ? normalize(selector.end) : (step > 0 ? len : -len - 1);
    auto items = node.items();
    if (step > 0) {
      int64_t lower = std::min(std::max(start, int64_t{0}), len);
      int64_t upper = std::min(std::max(stop, int64_t{0}), len);
      for (int64_t k = lower; k < upper; k += step) {
        PathElement element{{}, k, true};
        if (!child(segments, i, end, items[k], element, sink)) return false;
      }
    } else {
      int64_t upper = std::min(std::max(start, int64_t{-1}), len - 1);
      int64_t lower = std::min(std::max(stop, int64_t{-1}), len - 1);
      for (int64_t k = upper; lower < k; k += step) {
        PathElement element{{}, k, true};
        if (!child(segments, i, end, items[k], element, sink)) return false;
      }
    }
    return true;
  }

  // The node itself, then its descendants, each before its own descendants, arrays in order.
  template <typename Sink>
  bool descend(const std::vector<Segment>& segments, size_t i, size_t end, const json::Value& node,
               Sink& sink) {
    if (!apply(segments, i, end, node, sink)) return false;
    if (node.is_array()) {
      auto items = node.items();
      for (size_t k = 0; k < items.size(); ++k) {
        if (path_ != nullptr) path_->push_back({{}, static_cast<int64_t>(k), true});
        bool go_on = descend(segments, i, end, items[k], sink);
        if (path_ != nullptr) path_->pop_back();
        if (!go_on) return false;
      }
    } else {
      for (const json::Member& member : node.members()) {
        if (path_ != nullptr) path_->push_back({member.key});
        bool go_on = descend(segments, i, end, member.value, sink);
        if (path_ != nullptr) path_->pop_back();
        if (!go_on) return false;
      }
    }
    return true;
  }

  const json::Value& start_of(const Query& query, const json::Value& current) const {
    return query.absolute ? root_ : current;
  }

  bool exists(const Query& query, const json::Value& current) {
    const json::Value& start = start_of(query, current);
    if (query.singular) return walk_singular(query.segments, start) != nullptr;
    bool found = false;
    auto sink = [&found](const json::Value&) {
      found = true;
      return false;
    };
    Evaluator nested(impl_, root_, nullptr);
    nested.run(query.segments, 0, query.segments.size(), start, sink);
    return found;
  }

  // Counts the nodes of a query, stopping at `limit`; `first` gets the first one.
  size_t count(const Query& query, const json::Value& current, size_t limit,
               const json::Value** first) {
    const json::Value& start = start_of(query, current);
    size_t n = 0;
    auto sink = [&](const json::Value& node) {
      if (n == 0) *first = &node;
      return ++n < limit;
    };
    Evaluator nested(impl_, root_, nullptr);
    nested.run(query.segments, 0, query.segments.size(), start, sink);
    return n;
  }

  Slot value_of(const Operand& operand, const json::Value& current) {
    switch (operand.kind) {
      case OperandKind::kLiteral:
        return {true, operand.literal};
      case OperandKind::kQuery: {
        const Query& query = impl_.queries[operand.id];
        const json::Value* node = walk_singular(query.segments, start_of(query, current));
        if (node == nullptr) return {};
        return {true, *node};
      }
      case OperandKind::kFunction:
        return call_value(impl_.calls[operand.id], current);
    }
    return {};
  }

  Slot call_value(const ast::Call& call, const json::Value& current) {
    switch (call.function) {
      case Function::kLength: {
        Slot arg = value_of(call.args[0], current);
        if (!arg.present) return {};
        const json::Value& v = arg.value;
        if (v.is_string()) {
          int64_t n = 0;
          for (char c : v.as_string()) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
          return {true, json::Value::integer(n)};
        }
        if (v.is_container()) return {true, json::Value::integer(v.size())};
        return {};
      }
      case Function::kCount: {
        const json::Value* first = nullptr;
        size_t n = count(impl_.queries[call.args[0].id], current, SIZE_MAX, &first);
        return {true, json::Value::integer(static_cast<int64_t>(n))};
      }
      case Function::kValue: {
        const json::Value* first = nullptr;
        if (count(impl_.queries[call.args[0].id], current, 2, &first) != 1) return {};
        return {true, *first};
      }
      case Function::kMatch:
      case Function::kSearch:
        break;
    }
    return {};
  }

  bool call_logical(const ast::Call& call, const json::Value& current) {
    Slot subject = value_of(call.args[0], current);
    if (!subject.present || !subject.value.is_string()) return false;
    const RE2* regex = call.regex.get();
    std::unique_ptr<RE2> compiled;
    if (!call.literal_pattern) {
      Slot pattern = value_of(call.args[1], current);
      if (!pattern.present || !pattern.value.is_string()) return false;
      compiled = compile_iregexp(pattern.value.as_string());
      regex = compiled.get();
    }
    if (regex == nullptr) return false;
    std::string_view text = subject.value.as_string();
    if (call.function == Function::kMatch) return RE2::FullMatch(text, *regex);
    return RE2::PartialMatch(text, *regex);
  }

  bool test(uint32_t id, const json::Value& current) {
    const Expr& expr = impl_.exprs[id];
    switch (expr.kind) {
      case ExprKind::kOr:
        for (uint32_t child : expr.children) {
          if (test(child, current)) return true;
        }
        return false;
      case ExprKind::kAnd:
        for (uint32_t child : expr.children) {
          if (!test(child, current)) return false;
        }
        return true;
      case ExprKind::kNot:
        return !test(expr.children[0], current);
      case ExprKind::kCompare:
        return compare(expr.op, value_of(expr.lhs, current), value_of(expr.rhs, current));
      case ExprKind::kExists:
        return exists(impl_.queries[expr.id], current);
      case ExprKind::kCall:
        return call_logical(impl_.calls[expr.id], current);
    }
    return false;
  }

  const JsonPath::Impl& impl_;
  const json::Value& root_;
  std::vector<PathElement>* path_;
};

}  // namespace

Result<JsonPath> JsonPath::parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->text = std::string(text);
  Parser parser(impl->text, *impl);
  Status status = parser.parse();
  if (!status.is_ok()) return status;
  return JsonPath(std::move(impl));
}

const std::string& JsonPath::text() const {
  return impl_->text;
}

bool JsonPath::is_singular() const {
  return impl_->query.singular;
}

size_t JsonPath::segment_count() const {
  return impl_->query.segments.size();
}

bool JsonPath::is_wildcard_segment(size_t i) const {
  if (i >= impl_->query.segments.size()) return false;
  const Segment& segment = impl_->query.segments[i];
  return !segment.descendant && segment.selectors.size() == 1 &&
         segment.selectors[0].kind == SelectorKind::kWildcard;
}

bool JsonPath::is_singular_range(size_t begin, size_t end) const {
  end = std::min(end, impl_->query.segments.size());
  for (size_t i = begin; i < end; ++i) {
    if (!impl_->query.segments[i].is_singular()) return false;
  }
  return true;
}

const json::Value* JsonPath::select_singular(const json::Value& root) const {
  if (!impl_->query.singular) return nullptr;
  return walk_singular(impl_->query.segments, root);
}

void JsonPath::evaluate_nodes(const json::Value& root, NodeVisitor visit) const {
  auto sink = [&visit](const json::Value& node) {
    visit(node);
    return true;
  };
  Evaluator evaluator(*impl_, root, nullptr);
  evaluator.run(impl_->query.segments, 0, impl_->query.segments.size(), root, sink);
}

void JsonPath::evaluate_range(size_t begin, size_t end, const json::Value& root,
                              const json::Value& start,
                              const std::function<void(const json::Value&)>& visit) const {
  evaluate_range_nodes(begin, end, root, start, NodeVisitor(visit));
}

void JsonPath::evaluate_range_nodes(size_t begin, size_t end, const json::Value& root,
                                    const json::Value& start, NodeVisitor visit) const {
  end = std::min(end, impl_->query.segments.size());
  if (begin > end) return;
  auto sink = [&visit](const json::Value& node) {
    visit(node);
    return true;
  };
  Evaluator evaluator(*impl_, root, nullptr);
  evaluator.run(impl_->query.segments, begin, end, start, sink);
}

std::vector<const json::Value*> JsonPath::select(const json::Value& root) const {
  std::vector<const json::Value*> nodes;
  evaluate(root, [&nodes](const json::Value& node) { nodes.push_back(&node); });
  return nodes;
}

void append_normalized_name(std::string& out, std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "['";
  for (char c : name) {
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<uint8_t>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<uint8_t>(c) >> 4];
          out += kHex[c & 15];
        } else {
          out += c;
        }
    }
  }
  out += "']";
}

std::vector<std::pair<std::string, const json::Value*>> JsonPath::select_with_paths(
    const json::Value& root) const {
  std::vector<std::pair<std::string, const json::Value*>> nodes;
  std::vector<PathElement> path;
  auto sink = [&](const json::Value& node) {
    std::string text = "$";
    for (const PathElement& element : path) {
      if (element.is_index) {
        text += '[';
        text += std::to_string(element.index);
        text += ']';
      } else {
        append_normalized_name(text, element.name);
      }
    }
    nodes.emplace_back(std::move(text), &node);
    return true;
  };
  Evaluator evaluator(*impl_, root, &path);
  evaluator.run(impl_->query.segments, 0, impl_->query.segments.size(), root, sink);
  return nodes;
}

}  // namespace canonry::jsonpath
