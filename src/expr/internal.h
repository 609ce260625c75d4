// Internal representation shared by the parser, the evaluator and the function library.
// Evaluation values are 16-byte handles; strings, arrays, objects and functions live in the
// evaluation arena and are never freed individually, so the evaluator allocates nothing from the
// heap for values.
#pragma once

#include <re2/re2.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.h"
#include "expr/expression.h"

namespace canonry::expr {

enum class Kind : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kString,
  kArray,
  kObject,
  kFunction
};

struct Array;
struct Object;
struct Function;

struct Val {
  Kind kind = Kind::kUndefined;
  bool b = false;
  uint32_t len = 0;  // string length in bytes
  union {
    double num;
    const char* str;
    Array* arr;
    Object* obj;
    Function* fn;
  };
  Val() : num(0) {}
  static Val undefined() { return Val(); }
  static Val null() {
    Val v;
    v.kind = Kind::kNull;
    return v;
  }
  static Val boolean(bool x) {
    Val v;
    v.kind = Kind::kBool;
    v.b = x;
    return v;
  }
  static Val number(double d) {
    Val v;
    v.kind = Kind::kNumber;
    v.num = d;
    return v;
  }
  // `s` must outlive the value (arena or the program).
  static Val string(std::string_view s) {
    Val v;
    v.kind = Kind::kString;
    v.str = s.data();
    v.len = static_cast<uint32_t>(s.size());
    return v;
  }
  static Val array(Array* a) {
    Val v;
    v.kind = Kind::kArray;
    v.arr = a;
    return v;
  }
  static Val object(Object* o) {
    Val v;
    v.kind = Kind::kObject;
    v.obj = o;
    return v;
  }
  static Val function(Function* f) {
    Val v;
    v.kind = Kind::kFunction;
    v.fn = f;
    return v;
  }
  bool undef() const { return kind == Kind::kUndefined; }
  bool is_null() const { return kind == Kind::kNull; }
  bool is_bool() const { return kind == Kind::kBool; }
  bool is_num() const { return kind == Kind::kNumber; }
  bool is_str() const { return kind == Kind::kString; }
  bool is_arr() const { return kind == Kind::kArray; }
  bool is_obj() const { return kind == Kind::kObject; }
  bool is_fn() const { return kind == Kind::kFunction; }
  std::string_view sv() const { return {str, len}; }
};

// A growable array in the arena. The flags are jsonata-js's array properties: a `sequence` is
// the result of a path (flattened, unwrapped when singleton), `keep_singleton` stops that
// unwrapping (`[]` in a path), `cons` marks an array built by a constructor (not flattened by the
// next step), `outer_wrapper` the wrapping of the input document, `tuple_stream` a stream of
// binding tuples.
struct Array {
  Val* data = nullptr;
  uint32_t size = 0;
  uint32_t cap = 0;
  bool sequence = false;
  bool keep_singleton = false;
  bool cons = false;
  bool outer_wrapper = false;
  bool tuple_stream = false;
};

struct Member {
  std::string_view key;
  Val value;
};

// Insertion-ordered object; lookups are linear below a size where a hash index pays off.
struct Object {
  Member* data = nullptr;
  uint32_t size = 0;
  uint32_t cap = 0;
  int32_t* index = nullptr;  // open addressing over `index_cap` slots, -1 empty
  uint32_t index_cap = 0;
};

struct Node;
struct Env;
struct Signature;
class Evaluator;

using Builtin = Val (*)(Evaluator& ev, Val* args, int nargs, Val context);

enum class FnKind : uint8_t { kLambda, kBuiltin, kPartial, kCompose, kRegex, kTransform, kNext };

struct Function {
  FnKind kind;
  bool thunk = false;
  int arity = 0;
  const Signature* signature = nullptr;
  // kLambda / kTransform
  const Node* node = nullptr;
  Env* env = nullptr;
  Val input;
  // kBuiltin
  Builtin builtin = nullptr;
  std::string_view name;
  // kPartial: target with arguments where placeholders (kUndefined with `b` set) are filled in
  // order; kCompose: first then second
  Function* target = nullptr;
  Function* second = nullptr;
  Val* args = nullptr;
  int nargs = 0;
  // kRegex
  const RE2* regex = nullptr;
  // kNext: the continuation of a regex match (`next()` of a match object)
  std::string_view subject;
  size_t offset = 0;
};

// ---- signatures ----
struct SigParam {
  char type = 'x';     // b n s l a o f j x, or '(' for a choice
  std::string choice;  // for '('
  bool optional = false;
  bool one_or_more = false;
  bool context = false;  // '-': the context item is used when the argument is absent
  std::string subtype;   // for a<..> and f<..>
  std::string symbols;   // the argument symbols this parameter accepts
};
struct Signature {
  std::vector<SigParam> params;
  std::string text;
};
// Parses "<s-n?:s>"; on failure returns false with `error` code S0401/S0402 and `offset`.
bool parse_signature(std::string_view text, Signature& out, std::string& code, int& offset);

// ---- AST ----
enum class NodeType : uint8_t {
  kPath,
  kBinary,
  kUnaryMinus,
  kArrayCons,
  kObjectCons,
  kName,
  kString,
  kNumber,
  kValue,  // true false null
  kWildcard,
  kDescendant,
  kParent,
  kCondition,
  kCoalesce,  // ??
  kElvis,     // ?:
  kBlock,
  kBind,
  kRegex,
  kFunctionCall,
  kPartial,
  kPlaceholder,  // ? in a partial application
  kVariable,
  kLambda,
  kApply,
  kTransform,
  kSort,
  kAnd,
  kOr,
};

enum class BinOp : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kConcat,
  kRange,
  kIn
};

struct Slot {
  std::string label;
  int level = 1;
  int index = 0;
};

struct Stage {
  bool is_index = false;  // a `#$var` binding stage, else a filter
  const Node* expr = nullptr;
  std::string var;
  int64_t position = 0;
};

struct SortTerm {
  bool descending = false;
  Node* expr = nullptr;
};

struct GroupBy {
  std::vector<std::pair<Node*, Node*>> pairs;
  int64_t position = 0;
};

struct Node {
  NodeType type;
  int64_t position = 0;
  BinOp op = BinOp::kAdd;
  std::string text;  // names, strings, variable names, operator tokens
  double number = 0;
  Val literal;  // kString / kNumber / kValue
  bool keep_array = false;
  bool keep_singleton_array = false;  // path
  bool cons_array = false;
  bool tuple = false;
  bool thunk = false;
  std::string focus;  // @$var
  std::string index;  // #$var
  Slot* ancestor = nullptr;
  Slot* slot = nullptr;  // kParent
  std::vector<Slot*> seeking_parent;
  std::vector<Node*> steps;  // path
  std::vector<Node*> items;  // array constructor, block expressions, call arguments
  std::vector<std::pair<Node*, Node*>> pairs;  // object constructor
  std::vector<Stage> stages;                   // steps in a path
  std::vector<Stage> predicates;               // anything else
  std::unique_ptr<GroupBy> group;
  std::vector<SortTerm> terms;
  Node* lhs = nullptr;              // binary, condition (condition), apply, bind, transform pattern
  Node* rhs = nullptr;              // binary, condition (then), transform update
  Node* third = nullptr;            // condition else, transform delete
  Node* body = nullptr;             // lambda body, call procedure
  std::vector<std::string> params;  // lambda parameters
  std::unique_ptr<Signature> signature;
  std::unique_ptr<RE2> regex;
  int builtin = -1;             // kVariable: index of the builtin function of that name
  bool direct_builtin = false;  // kVariable: nothing in the program can shadow that builtin
  bool is_constant = false;     // kObjectCons of literal keys and scalar literal values
  Val constant;                 // its value, in Program::constants
  bool raw_step = false;        // a binary '[' / '{' / '@' / '#' / '.' before processing
  char raw_op = 0;
};

struct Program {
  std::string text;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<Slot>> slots;
  Node* root = nullptr;
  // Values built once at compile time (constant object literals); never mutated afterwards, so
  // every evaluation and thread can share them.
  Arena constants{4096};
};

struct ParseError {
  std::string code;
  int64_t position = 0;
  std::string token;
  std::string value;
};

int builtin_index(std::string_view name);

// Parses and post-processes an expression; on failure returns false and fills `error`.
// `resolve_builtin_names`: let references to builtins that the program cannot shadow skip the
// environment; off for `$eval` texts, which see their caller's variables.
bool parse_program(std::string_view text, Program& program, ParseError& error,
                   bool resolve_builtin_names = true);

// Translates a JavaScript regular expression into RE2 syntax; false when it uses something RE2
// cannot do (lookaround, backreferences).
bool translate_regex(std::string_view js, std::string& re2_pattern);

// ---- errors ----
struct EvalError {
  std::string code;
  int64_t position = -1;
  std::string token;
  std::string value;
  std::string message;
};

// Message text for a code, with {{token}} / {{value}} substituted.
std::string error_message(const std::string& code, const std::string& token,
                          const std::string& value);

}  // namespace canonry::expr
