// Tokenizer, Pratt parser and AST post-processing of JSONata. The post-processing follows the
// reference implementation's structure: `.` chains become path nodes with steps, predicates on
// steps become stages, `@`/`#` bindings turn steps into tuple steps, and `%` (parent) is resolved
// to the step whose input it names.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "common/utf8.h"
#include "expr/internal.h"

namespace canonry::expr {
namespace {

struct ParseFailure {
  ParseError error;
};

enum class TokType { kEnd, kName, kVariable, kOperator, kString, kNumber, kValue, kRegex };

struct Token {
  TokType type = TokType::kEnd;
  std::string value;  // name, variable, operator, string
  double number = 0;
  Val literal;  // true false null
  int64_t position = 0;
  std::string regex_flags;
};

constexpr int kMaxParseDepth = 500;
constexpr long kMaxParseStack = 1 << 20;

int binding_power(std::string_view op) {
  static const std::pair<std::string_view, int> table[] = {
      {".", 75},  {"[", 80},  {"]", 0},   {"{", 70},  {"}", 0},    {"(", 80},  {")", 0},
      {",", 0},   {"@", 80},  {"#", 80},  {";", 80},  {":", 80},   {"?", 20},  {"+", 50},
      {"-", 50},  {"*", 60},  {"/", 60},  {"%", 60},  {"|", 20},   {"=", 40},  {"<", 40},
      {">", 40},  {"^", 40},  {"**", 60}, {"..", 20}, {":=", 10},  {"!=", 40}, {"<=", 40},
      {">=", 40}, {"~>", 40}, {"?:", 40}, {"??", 40}, {"and", 30}, {"or", 25}, {"in", 40},
      {"&", 50},  {"!", 0},   {"~", 0}};
  for (const auto& [name, bp] : table) {
    if (name == op) return bp;
  }
  return -1;
}

bool is_operator_char(char c) {
  return std::string_view(".[]{}(),@#;:?+-*/%|=<>^&!~").find(c) != std::string_view::npos;
}

class Parser {
 public:
  Parser(std::string_view text, Program& program) : src_(text), program_(program) {}

  Node* parse() {
    char probe = 0;
    stack_base_ = &probe;
    advance("", false);
    Node* ast = expression(0);
    if (node_.type != TokType::kEnd) fail("S0201", node_.position, node_.value);
    ast = process(ast);
    if (ast->type == NodeType::kParent || !ast->seeking_parent.empty()) {
      fail("S0217", ast->position, ast->type == NodeType::kParent ? "parent" : "path");
    }
    return ast;
  }

  [[noreturn]] void fail(const char* code, int64_t position, std::string token = {},
                         std::string value = {}) {
    throw ParseFailure{ParseError{code, position, std::move(token), std::move(value)}};
  }

 private:
  Node* make(NodeType type, int64_t position) {
    program_.nodes.push_back(std::make_unique<Node>());
    Node* n = program_.nodes.back().get();
    n->type = type;
    n->position = position;
    return n;
  }

  // ---- lexer ----
  Token lex(bool infix) {
    Token t;
    // white space and comments
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '*') {
        size_t end = src_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail("S0106", static_cast<int64_t>(pos_));
        pos_ = end + 2;
      } else {
        break;
      }
    }
    t.position = static_cast<int64_t>(pos_);
    if (pos_ >= src_.size()) {
      t.type = TokType::kEnd;
      return t;
    }
    char c = src_[pos_];
    if (!infix && c == '/') {
      ++pos_;
      scan_regex(t);
      return t;
    }
    auto two = [&](char a, char b) {
      return c == a && pos_ + 1 < src_.size() && src_[pos_ + 1] == b;
    };
    static const char* const pairs[] = {"..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
    for (const char* p : pairs) {
      if (two(p[0], p[1])) {
        pos_ += 2;
        t.type = TokType::kOperator;
        t.value = p;
        t.position = static_cast<int64_t>(pos_);
        return t;
      }
    }
    if (is_operator_char(c)) {
      ++pos_;
      t.type = TokType::kOperator;
      t.value = std::string(1, c);
      t.position = static_cast<int64_t>(pos_);
      return t;
    }
    if (c == '"' || c == '\'') {
      char quote = c;
      ++pos_;
      std::string s;
      while (pos_ < src_.size()) {
        char ch = src_[pos_];
        if (ch == '\\') {
          ++pos_;
          if (pos_ >= src_.size()) break;
          ch = src_[pos_];
          switch (ch) {
            case '"':
              s += '"';
              break;
            case '\\':
              s += '\\';
              break;
            case '/':
              s += '/';
              break;
            case 'b':
              s += '\b';
              break;
            case 'f':
              s += '\f';
              break;
            case 'n':
              s += '\n';
              break;
            case 'r':
              s += '\r';
              break;
            case 't':
              s += '\t';
              break;
            case 'u': {
              auto hex4 = [&](size_t at, uint32_t& out) {
                if (at + 4 > src_.size()) return false;
                out = 0;
                for (size_t k = at; k < at + 4; ++k) {
                  char h = src_[k];
                  out <<= 4;
                  if (h >= '0' && h <= '9')
                    out |= h - '0';
                  else if (h >= 'a' && h <= 'f')
                    out |= h - 'a' + 10;
                  else if (h >= 'A' && h <= 'F')
                    out |= h - 'A' + 10;
                  else
                    return false;
                }
                return true;
              };
              uint32_t cp;
              if (!hex4(pos_ + 1, cp)) fail("S0104", static_cast<int64_t>(pos_));
              pos_ += 4;
              if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 2 < src_.size() && src_[pos_ + 1] == '\\' &&
                  src_[pos_ + 2] == 'u') {
                uint32_t low;
                if (hex4(pos_ + 3, low) && low >= 0xDC00 && low < 0xE000) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                  pos_ += 6;
                }
              }
              utf8_append(s, cp);
              break;
            }
            default:
              fail("S0103", static_cast<int64_t>(pos_), std::string(1, ch));
          }
        } else if (ch == quote) {
          ++pos_;
          t.type = TokType::kString;
          t.value = std::move(s);
          t.position = static_cast<int64_t>(pos_);
          return t;
        } else {
          s += ch;
        }
        ++pos_;
      }
      fail("S0101", static_cast<int64_t>(pos_));
    }
    if (c >= '0' && c <= '9') {
      size_t p = pos_;
      if (src_[p] == '0') {
        ++p;
      } else {
        while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') ++p;
      }
      if (p + 1 < src_.size() && src_[p] == '.' && src_[p + 1] >= '0' && src_[p + 1] <= '9') {
        ++p;
        while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') ++p;
      }
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && src_[q] >= '0' && src_[q] <= '9') {
          while (q < src_.size() && src_[q] >= '0' && src_[q] <= '9') ++q;
          p = q;
        }
      }
      std::string text(src_.substr(pos_, p - pos_));
      double d = std::strtod(text.c_str(), nullptr);
      if (!std::isfinite(d)) fail("S0102", static_cast<int64_t>(pos_), text);
      pos_ = p;
      t.type = TokType::kNumber;
      t.number = d;
      t.position = static_cast<int64_t>(pos_);
      return t;
    }
    if (c == '`') {
      size_t end = src_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        pos_ = src_.size();
        fail("S0105", static_cast<int64_t>(pos_));
      }
      t.type = TokType::kName;
      t.value = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      t.position = static_cast<int64_t>(pos_);
      return t;
    }
    size_t i = pos_;
    while (i < src_.size()) {
      char ch = src_[i];
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' ||
          is_operator_char(ch)) {
        break;
      }
      ++i;
    }
    if (src_[pos_] == '$') {
      t.type = TokType::kVariable;
      t.value = std::string(src_.substr(pos_ + 1, i - pos_ - 1));
      pos_ = i;
      t.position = static_cast<int64_t>(pos_);
      return t;
    }
    std::string name(src_.substr(pos_, i - pos_));
    pos_ = i;
    t.position = static_cast<int64_t>(pos_);
    if (name == "and" || name == "or" || name == "in") {
      t.type = TokType::kOperator;
      t.value = name;
    } else if (name == "true" || name == "false") {
      t.type = TokType::kValue;
      t.literal = Val::boolean(name == "true");
      t.value = name;
    } else if (name == "null") {
      t.type = TokType::kValue;
      t.literal = Val::null();
      t.value = name;
    } else {
      t.type = TokType::kName;
      t.value = std::move(name);
    }
    return t;
  }

  void scan_regex(Token& t) {
    size_t start = pos_;
    int depth = 0;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '/' && depth == 0) {
        size_t backslashes = 0;
        while (pos_ >= backslashes + 1 && src_[pos_ - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) {
          std::string pattern(src_.substr(start, pos_ - start));
          if (pattern.empty()) fail("S0301", static_cast<int64_t>(pos_));
          ++pos_;
          size_t fstart = pos_;
          while (pos_ < src_.size() && (src_[pos_] == 'i' || src_[pos_] == 'm')) ++pos_;
          t.type = TokType::kRegex;
          t.value = std::move(pattern);
          t.regex_flags = std::string(src_.substr(fstart, pos_ - fstart));
          t.position = static_cast<int64_t>(pos_);
          return;
        }
      }
      bool escaped = pos_ > 0 && src_[pos_ - 1] == '\\';
      if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
      if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
      ++pos_;
    }
    fail("S0302", static_cast<int64_t>(pos_));
  }

  // ---- Pratt parser ----
  // Checks that the current token is `id` (when given) and moves to the next one; `infix` tells
  // the lexer that an operand precedes, so that `/` is division rather than a regex.
  void advance(std::string_view id, bool infix) {
    if (!id.empty() && !(node_.type == TokType::kOperator && node_.value == id)) {
      if (node_.type == TokType::kEnd) fail("S0203", node_.position, "", std::string(id));
      fail("S0202", node_.position, token_text(node_), std::string(id));
    }
    node_ = lex(infix);
    if (node_.type == TokType::kOperator &&
        (binding_power(node_.value) < 0 || node_.value == "!" || node_.value == "~")) {
      fail("S0204", node_.position, node_.value);
    }
  }

  static std::string token_text(const Token& t) {
    switch (t.type) {
      case TokType::kNumber: {
        char buf[64];
        snprintf(buf, sizeof buf, "%g", t.number);
        return buf;
      }
      case TokType::kEnd:
        return "(end)";
      default:
        return t.value;
    }
  }

  bool at(std::string_view op) const {
    return node_.type == TokType::kOperator && node_.value == op;
  }

  // Left binding power: only tokens with an infix meaning bind; the others (`:`, `;`, `,`,
  // closing brackets, `..`, prefix-only `|` and `**`) end an expression.
  int lbp() const {
    if (node_.type != TokType::kOperator) return 0;
    static const std::string_view infix[] = {
        ".",  "+",  "-",  "*",  "/", "%", "=", "<", ">", "!=", "<=", ">=", "&", "and",
        "or", "in", "~>", ":=", "(", "[", "^", "{", "@", "#",  "?",  "?:", "??"};
    for (std::string_view op : infix) {
      if (op == node_.value) return binding_power(op);
    }
    return 0;
  }

  // Nesting is bounded both in levels and in stack bytes (sanitizer builds have big frames).
  bool too_deep() const {
    char probe = 0;
    return ++depth_ > kMaxParseDepth || std::abs(stack_base_ - &probe) > kMaxParseStack;
  }

  Node* expression(int rbp) {
    if (too_deep()) fail("S0201", node_.position, "nesting too deep");
    Token t = node_;
    advance("", true);
    Node* left = nud(t);
    while (rbp < lbp()) {
      t = node_;
      advance("", false);
      left = led(t, left);
    }
    --depth_;
    return left;
  }

  Node* raw(const Token& t, std::string op) {
    Node* n = make(NodeType::kBinary, t.position);
    n->raw_step = true;
    n->text = std::move(op);
    return n;
  }

  Node* nud(const Token& t) {
    switch (t.type) {
      case TokType::kEnd:
        fail("S0207", t.position, "(end)");
      case TokType::kName: {
        Node* n = make(NodeType::kName, t.position);
        n->text = t.value;
        return n;
      }
      case TokType::kVariable: {
        Node* n = make(NodeType::kVariable, t.position);
        n->text = t.value;
        n->builtin = builtin_index(n->text);
        return n;
      }
      case TokType::kString: {
        Node* n = make(NodeType::kString, t.position);
        n->text = t.value;
        return n;
      }
      case TokType::kNumber: {
        Node* n = make(NodeType::kNumber, t.position);
        n->number = t.number;
        n->literal = Val::number(t.number);
        return n;
      }
      case TokType::kValue: {
        Node* n = make(NodeType::kValue, t.position);
        n->literal = t.literal;
        n->text = t.value;
        return n;
      }
      case TokType::kRegex: {
        Node* n = make(NodeType::kRegex, t.position);
        std::string pattern;
        if (!translate_regex(t.value, pattern)) fail("S0303", t.position, t.value);
        RE2::Options options;
        options.set_log_errors(false);
        options.set_case_sensitive(t.regex_flags.find('i') == std::string::npos);
        std::string prefix;
        if (t.regex_flags.find('m') != std::string::npos) prefix = "(?m)";
        n->regex = std::make_unique<RE2>(prefix + pattern, options);
        if (!n->regex->ok()) fail("S0303", t.position, t.value);
        n->text = t.value;
        return n;
      }
      case TokType::kOperator:
        break;
    }
    const std::string& op = t.value;
    if (op == "and" || op == "or" || op == "in") {
      Node* n = make(NodeType::kName, t.position);
      n->text = op;
      return n;
    }
    if (op == "-") {
      Node* n = make(NodeType::kUnaryMinus, t.position);
      n->lhs = expression(70);
      return n;
    }
    if (op == "*") return make(NodeType::kWildcard, t.position);
    if (op == "**") return make(NodeType::kDescendant, t.position);
    if (op == "%") return make(NodeType::kParent, t.position);
    if (op == "(") {
      Node* n = make(NodeType::kBlock, t.position);
      while (!at(")")) {
        n->items.push_back(expression(0));
        if (!at(";")) break;
        advance(";", false);
      }
      advance(")", true);
      return n;
    }
    if (op == "[") {
      Node* n = make(NodeType::kArrayCons, t.position);
      if (!at("]")) {
        for (;;) {
          Node* item = expression(0);
          if (at("..")) {
            Node* range = make(NodeType::kBinary, node_.position);
            range->op = BinOp::kRange;
            range->text = "..";
            range->lhs = item;
            advance("..", false);
            range->rhs = expression(0);
            item = range;
          }
          n->items.push_back(item);
          if (!at(",")) break;
          advance(",", false);
        }
      }
      advance("]", true);
      return n;
    }
    if (op == "{") {
      Node* n = make(NodeType::kObjectCons, t.position);
      parse_pairs(n->pairs);
      return n;
    }
    if (op == "|") {
      Node* n = make(NodeType::kTransform, t.position);
      n->lhs = expression(0);
      advance("|", false);
      n->rhs = expression(0);
      if (at(",")) {
        advance(",", false);
        n->third = expression(0);
      }
      advance("|", true);
      return n;
    }
    fail("S0211", t.position, op);
  }

  void parse_pairs(std::vector<std::pair<Node*, Node*>>& pairs) {
    if (!at("}")) {
      for (;;) {
        Node* k = expression(0);
        advance(":", false);
        Node* v = expression(0);
        pairs.emplace_back(k, v);
        if (!at(",")) break;
        advance(",", false);
      }
    }
    advance("}", true);
  }

  Node* led(const Token& t, Node* left) {
    const std::string& op = t.value;
    if (op == "(") return call(t, left);
    if (op == "[") {
      if (at("]")) {
        Node* step = left;
        while (step && step->type == NodeType::kBinary && step->raw_step && step->text == "[") {
          step = step->lhs;
        }
        step->keep_array = true;
        advance("]", true);
        return left;
      }
      Node* n = raw(t, "[");
      n->lhs = left;
      n->rhs = expression(binding_power("]"));
      advance("]", true);
      return n;
    }
    if (op == "{") {
      Node* n = raw(t, "{");
      n->lhs = left;
      parse_pairs(n->pairs);
      return n;
    }
    if (op == "^") {
      Node* n = raw(t, "^");
      n->lhs = left;
      advance("(", false);
      for (;;) {
        SortTerm term;
        if (at("<")) {
          advance("<", false);
        } else if (at(">")) {
          term.descending = true;
          advance(">", false);
        }
        term.expr = expression(0);
        n->terms.push_back(term);
        if (!at(",")) break;
        advance(",", false);
      }
      advance(")", true);
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable) fail("S0212", left->position, left->text);
      Node* n = make(NodeType::kBind, t.position);
      n->lhs = left;
      n->rhs = expression(binding_power(":=") - 1);
      return n;
    }
    if (op == "?") {
      Node* n = make(NodeType::kCondition, t.position);
      n->lhs = left;
      n->rhs = expression(0);
      if (at(":")) {
        advance(":", false);
        n->third = expression(0);
      }
      return n;
    }
    if (op == "?:" || op == "??") {
      Node* n = make(op == "?:" ? NodeType::kElvis : NodeType::kCoalesce, t.position);
      n->lhs = left;
      n->rhs = expression(0);
      return n;
    }
    if (op == "@" || op == "#") {
      Node* n = raw(t, op);
      n->lhs = left;
      n->rhs = expression(binding_power(op));
      if (n->rhs->type != NodeType::kVariable) fail("S0214", n->rhs->position, op);
      return n;
    }
    int bp = binding_power(op);
    if (op == "." || op == "~>" || op == "and" || op == "or") {
      Node* n = raw(t, op);
      n->lhs = left;
      n->rhs = expression(bp);
      return n;
    }
    static const std::pair<std::string_view, BinOp> ops[] = {
        {"+", BinOp::kAdd}, {"-", BinOp::kSub},   {"*", BinOp::kMul}, {"/", BinOp::kDiv},
        {"%", BinOp::kMod}, {"=", BinOp::kEq},    {"!=", BinOp::kNe}, {"<", BinOp::kLt},
        {"<=", BinOp::kLe}, {">", BinOp::kGt},    {">=", BinOp::kGe}, {"&", BinOp::kConcat},
        {"in", BinOp::kIn}, {"..", BinOp::kRange}};
    for (const auto& [name, code] : ops) {
      if (name == op) {
        Node* n = make(NodeType::kBinary, t.position);
        n->op = code;
        n->text = op;
        n->lhs = left;
        n->rhs = expression(bp);
        return n;
      }
    }
    fail("S0201", t.position, op);
  }

  Node* call(const Token& t, Node* left) {
    Node* n = make(NodeType::kFunctionCall, t.position);
    n->body = left;
    if (!at(")")) {
      for (;;) {
        if (at("?")) {
          n->type = NodeType::kPartial;
          n->items.push_back(make(NodeType::kPlaceholder, node_.position));
          advance("?", true);
        } else {
          n->items.push_back(expression(0));
        }
        if (!at(",")) break;
        advance(",", false);
      }
    }
    advance(")", true);
    if (left->type == NodeType::kName && (left->text == "function" || left->text == "\u03BB")) {
      n->type = NodeType::kLambda;
      for (size_t i = 0; i < n->items.size(); ++i) {
        Node* arg = n->items[i];
        if (arg->type != NodeType::kVariable) {
          fail("S0208", arg->position, arg->text, std::to_string(i + 1));
        }
        n->params.push_back(arg->text);
      }
      n->items.clear();
      if (at("<")) {
        // The signature is read from the source text rather than as tokens.
        size_t start = static_cast<size_t>(node_.position) - 1;
        size_t p = start;
        int depth = 0;
        for (; p < src_.size(); ++p) {
          if (src_[p] == '<') ++depth;
          if (src_[p] == '>' && --depth == 0) break;
          if (src_[p] == '{') break;
        }
        if (p >= src_.size() || src_[p] != '>') fail("S0401", static_cast<int64_t>(p));
        auto sig = std::make_unique<Signature>();
        std::string code;
        int offset = 0;
        if (!parse_signature(src_.substr(start, p - start + 1), *sig, code, offset)) {
          fail(code.c_str(), static_cast<int64_t>(start) + offset);
        }
        n->signature = std::move(sig);
        pos_ = p + 1;
        advance("", true);
      }
      advance("{", false);
      n->body = expression(0);
      advance("}", true);
    }
    return n;
  }

  // ---- post-processing ----
  Slot* new_slot() {
    program_.slots.push_back(std::make_unique<Slot>());
    Slot* s = program_.slots.back().get();
    s->label = "!" + std::to_string(ancestor_label_++);
    s->index = ancestor_index_++;
    return s;
  }

  static void push_ancestry(Node* result, Node* value) {
    if (!value->seeking_parent.empty() || value->type == NodeType::kParent) {
      for (Slot* s : value->seeking_parent) result->seeking_parent.push_back(s);
      if (value->type == NodeType::kParent) result->seeking_parent.push_back(value->slot);
    }
  }

  Slot* seek_parent(Node* node, Slot* slot) {
    switch (node->type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        slot->level--;
        if (slot->level == 0) {
          if (node->ancestor == nullptr) {
            node->ancestor = slot;
          } else {
            ancestry_[slot->index]->slot->label = node->ancestor->label;
            node->ancestor = slot;
          }
          node->tuple = true;
        }
        break;
      case NodeType::kParent:
        slot->level++;
        break;
      case NodeType::kBlock:
        if (!node->items.empty()) {
          node->tuple = true;
          slot = seek_parent(node->items.back(), slot);
        }
        break;
      case NodeType::kPath: {
        node->tuple = true;
        int index = static_cast<int>(node->steps.size()) - 1;
        slot = seek_parent(node->steps[index--], slot);
        while (slot->level > 0 && index >= 0) slot = seek_parent(node->steps[index--], slot);
        break;
      }
      default:
        fail("S0217", node->position, "");
    }
    return slot;
  }

  void resolve_ancestry(Node* path) {
    Node* last = path->steps.back();
    std::vector<Slot*> slots = last->seeking_parent;
    if (last->type == NodeType::kParent) slots.push_back(last->slot);
    for (Slot* slot : slots) {
      int index = static_cast<int>(path->steps.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path->seeking_parent.push_back(slot);
          break;
        }
        Node* step = path->steps[index--];
        while (index >= 0 && !step->focus.empty() && !path->steps[index]->focus.empty()) {
          step = path->steps[index--];
        }
        slot = seek_parent(step, slot);
      }
    }
  }

  Node* as_path(Node* n) {
    if (n->type == NodeType::kPath) return n;
    Node* p = make(NodeType::kPath, n->position);
    p->steps.push_back(n);
    return p;
  }

  Node* tail_call_optimize(Node* expr) {
    if (expr->type == NodeType::kFunctionCall && expr->predicates.empty()) {
      Node* thunk = make(NodeType::kLambda, expr->position);
      thunk->thunk = true;
      thunk->body = expr;
      return thunk;
    }
    if (expr->type == NodeType::kCondition) {
      expr->rhs = tail_call_optimize(expr->rhs);
      if (expr->third) expr->third = tail_call_optimize(expr->third);
      return expr;
    }
    if (expr->type == NodeType::kBlock && !expr->items.empty()) {
      expr->items.back() = tail_call_optimize(expr->items.back());
    }
    return expr;
  }

  Node* process(Node* expr) {
    if (too_deep()) fail("S0201", expr->position, "nesting too deep");
    Node* result = process_inner(expr);
    if (expr->keep_array) result->keep_array = true;
    --depth_;
    return result;
  }

  Node* process_inner(Node* expr) {
    switch (expr->type) {
      case NodeType::kBinary: {
        if (!expr->raw_step) {
          expr->lhs = process(expr->lhs);
          expr->rhs = process(expr->rhs);
          push_ancestry(expr, expr->lhs);
          push_ancestry(expr, expr->rhs);
          return expr;
        }
        const std::string& op = expr->text;
        if (op == ".") {
          Node* lstep = process(expr->lhs);
          Node* result;
          if (lstep->type == NodeType::kPath) {
            result = lstep;
          } else {
            result = make(NodeType::kPath, lstep->position);
            result->steps.push_back(lstep);
          }
          if (lstep->type == NodeType::kParent) result->seeking_parent = {lstep->slot};
          Node* rest = process(expr->rhs);
          if (rest->type == NodeType::kPath) {
            for (Node* s : rest->steps) result->steps.push_back(s);
          } else {
            if (!rest->predicates.empty()) {
              rest->stages = std::move(rest->predicates);
              rest->predicates.clear();
            }
            result->steps.push_back(rest);
          }
          for (Node* step : result->steps) {
            if (step->type == NodeType::kNumber || step->type == NodeType::kValue) {
              fail("S0213", step->position, "", step->text);
            }
            if (step->type == NodeType::kString) step->type = NodeType::kName;
          }
          for (Node* step : result->steps) {
            if (step->keep_array) result->keep_singleton_array = true;
          }
          Node* first = result->steps.front();
          if (first->type == NodeType::kArrayCons) first->cons_array = true;
          Node* last = result->steps.back();
          if (last->type == NodeType::kArrayCons) last->cons_array = true;
          resolve_ancestry(result);
          return result;
        }
        if (op == "[") {
          Node* result = process(expr->lhs);
          Node* step = result;
          bool stages = false;
          if (result->type == NodeType::kPath) {
            step = result->steps.back();
            stages = true;
          }
          if (step->group) fail("S0209", expr->position);
          Node* predicate = process(expr->rhs);
          if (!predicate->seeking_parent.empty()) {
            for (Slot* slot : predicate->seeking_parent) {
              if (slot->level == 1) {
                seek_parent(step, slot);
              } else {
                slot->level--;
              }
            }
            push_ancestry(step, predicate);
          }
          Stage stage;
          stage.expr = predicate;
          stage.position = expr->position;
          (stages ? step->stages : step->predicates).push_back(stage);
          return result;
        }
        if (op == "{") {
          Node* result = process(expr->lhs);
          if (result->group) fail("S0210", expr->position);
          auto group = std::make_unique<GroupBy>();
          group->position = expr->position;
          for (auto& [k, v] : expr->pairs) group->pairs.emplace_back(process(k), process(v));
          result->group = std::move(group);
          return result;
        }
        if (op == "^") {
          Node* result = as_path(process(expr->lhs));
          Node* sort = make(NodeType::kSort, expr->position);
          for (SortTerm& term : expr->terms) {
            Node* e = process(term.expr);
            push_ancestry(sort, e);
            sort->terms.push_back({term.descending, e});
          }
          result->steps.push_back(sort);
          resolve_ancestry(result);
          return result;
        }
        if (op == "@") {
          Node* result = process(expr->lhs);
          Node* step = result;
          if (result->type == NodeType::kPath) step = result->steps.back();
          if (!step->stages.empty() || !step->predicates.empty()) fail("S0215", expr->position);
          if (step->type == NodeType::kSort) fail("S0216", expr->position);
          if (expr->keep_array) step->keep_array = true;
          step->focus = expr->rhs->text;
          step->tuple = true;
          return result;
        }
        if (op == "#") {
          Node* result = process(expr->lhs);
          Node* step = result;
          if (result->type == NodeType::kPath) {
            step = result->steps.back();
          } else {
            result = as_path(result);
            if (!step->predicates.empty()) {
              step->stages = std::move(step->predicates);
              step->predicates.clear();
            }
          }
          if (step->stages.empty()) {
            step->index = expr->rhs->text;
          } else {
            Stage stage;
            stage.is_index = true;
            stage.var = expr->rhs->text;
            stage.position = expr->position;
            step->stages.push_back(stage);
          }
          step->tuple = true;
          return result;
        }
        if (op == "~>") {
          Node* result = make(NodeType::kApply, expr->position);
          result->lhs = process(expr->lhs);
          result->rhs = process(expr->rhs);
          result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
          return result;
        }
        if (op == "and" || op == "or") {
          Node* result = make(op == "and" ? NodeType::kAnd : NodeType::kOr, expr->position);
          result->text = op;
          result->lhs = process(expr->lhs);
          result->rhs = process(expr->rhs);
          push_ancestry(result, result->lhs);
          push_ancestry(result, result->rhs);
          return result;
        }
        fail("S0201", expr->position, op);
      }
      case NodeType::kArrayCons:
        for (Node*& item : expr->items) {
          item = process(item);
          push_ancestry(expr, item);
        }
        return expr;
      case NodeType::kObjectCons:
        for (auto& [k, v] : expr->pairs) {
          k = process(k);
          push_ancestry(expr, k);
          v = process(v);
          push_ancestry(expr, v);
        }
        return expr;
      case NodeType::kUnaryMinus:
        expr->lhs = process(expr->lhs);
        if (expr->lhs->type == NodeType::kNumber) {
          Node* num = expr->lhs;
          num->number = -num->number;
          num->literal = Val::number(num->number);
          return num;
        }
        push_ancestry(expr, expr->lhs);
        return expr;
      case NodeType::kFunctionCall:
      case NodeType::kPartial:
        for (Node*& arg : expr->items) {
          arg = process(arg);
          push_ancestry(expr, arg);
        }
        expr->body = process(expr->body);
        return expr;
      case NodeType::kLambda:
        expr->body = tail_call_optimize(process(expr->body));
        return expr;
      case NodeType::kCondition:
      case NodeType::kElvis:
      case NodeType::kCoalesce:
        expr->lhs = process(expr->lhs);
        push_ancestry(expr, expr->lhs);
        expr->rhs = process(expr->rhs);
        push_ancestry(expr, expr->rhs);
        if (expr->third) {
          expr->third = process(expr->third);
          push_ancestry(expr, expr->third);
        }
        return expr;
      case NodeType::kTransform:
        expr->lhs = process(expr->lhs);
        expr->rhs = process(expr->rhs);
        if (expr->third) expr->third = process(expr->third);
        return expr;
      case NodeType::kBlock:
        for (Node*& item : expr->items) {
          item = process(item);
          push_ancestry(expr, item);
          if (item->cons_array ||
              (item->type == NodeType::kPath && item->steps.front()->cons_array)) {
            expr->cons_array = true;
          }
        }
        return expr;
      case NodeType::kBind:
        expr->rhs = process(expr->rhs);
        push_ancestry(expr, expr->rhs);
        return expr;
      case NodeType::kName: {
        Node* path = make(NodeType::kPath, expr->position);
        path->steps.push_back(expr);
        if (expr->keep_array) path->keep_singleton_array = true;
        return path;
      }
      case NodeType::kParent:
        expr->slot = new_slot();
        ancestry_.push_back(expr);
        return expr;
      default:
        return expr;
    }
  }

  std::string_view src_;
  Program& program_;
  size_t pos_ = 0;
  Token node_;
  mutable int depth_ = 0;
  const char* stack_base_ = nullptr;
  int ancestor_label_ = 0;
  int ancestor_index_ = 0;
  std::vector<Node*> ancestry_;
};

}  // namespace

namespace {
// Marks the references to builtin functions that nothing in the program can shadow: no `:=`,
// parameter or `@`/`#` binding of that name, and no `$eval` (whose text could bind it). Those
// skip the environment walk at run time.
void resolve_builtins(Program& program) {
  std::vector<std::string_view> bound;
  bool has_eval = false;
  for (const auto& n : program.nodes) {
    if (n->type == NodeType::kBind && n->lhs) bound.push_back(n->lhs->text);
    if (n->type == NodeType::kLambda) {
      for (const std::string& p : n->params) bound.push_back(p);
    }
    if (!n->focus.empty()) bound.push_back(n->focus);
    if (!n->index.empty()) bound.push_back(n->index);
    for (const Stage& st : n->stages) {
      if (st.is_index) bound.push_back(st.var);
    }
    if (n->type == NodeType::kVariable && n->text == "eval") has_eval = true;
  }
  if (has_eval) return;
  for (const auto& n : program.nodes) {
    if (n->type != NodeType::kVariable || n->builtin < 0) continue;
    n->direct_builtin = std::find(bound.begin(), bound.end(), n->text) == bound.end();
  }
}
}  // namespace

namespace {
// Object constructors such as lookup tables ({"P": "pending", ...}) are built once here instead
// of on every evaluation. Only objects of scalar literals qualify: objects are never changed in
// place by evaluation (transforms change clones), so sharing them is safe.
void fold_constant_objects(Program& program) {
  for (const auto& n : program.nodes) {
    if (n->type != NodeType::kObjectCons || n->pairs.empty() || n->keep_array) continue;
    bool constant = true;
    for (const auto& [k, v] : n->pairs) {
      bool key_ok = k->type == NodeType::kString && k->predicates.empty() && !k->group;
      bool value_ok = (v->type == NodeType::kString || v->type == NodeType::kNumber ||
                       v->type == NodeType::kValue) &&
                      v->predicates.empty() && !v->group && !v->keep_array;
      if (!key_ok || !value_ok) constant = false;
    }
    for (size_t i = 0; constant && i < n->pairs.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (n->pairs[i].first->text == n->pairs[j].first->text) constant = false;  // D1009
      }
    }
    if (!constant) continue;
    Arena& arena = program.constants;
    Object* o = new (arena.allocate(sizeof(Object), alignof(Object))) Object();
    uint32_t count = static_cast<uint32_t>(n->pairs.size());
    o->data = arena.allocate_array<Member>(count);
    o->cap = count;
    for (const auto& [k, v] : n->pairs) {
      Val value = v->type == NodeType::kString ? Val::string(v->text) : v->literal;
      new (&o->data[o->size++]) Member{k->text, value};
    }
    if (count >= 32) continue;  // lookups in big tables want the evaluator's hash index
    n->is_constant = true;
    n->constant = Val::object(o);
  }
}
}  // namespace

bool parse_program(std::string_view text, Program& program, ParseError& error,
                   bool resolve_builtin_names) {
  program.text = std::string(text);
  Parser parser(program.text, program);
  try {
    program.root = parser.parse();
  } catch (const ParseFailure& failure) {
    error = failure.error;
    return false;
  }
  if (resolve_builtin_names) resolve_builtins(program);
  fold_constant_objects(program);
  return true;
}

}  // namespace canonry::expr
