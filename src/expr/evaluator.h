// The tree-walking evaluator: one per evaluation, owning the depth and time budget, the error
// state and the arena that every value of the evaluation lives in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "expr/internal.h"

namespace canonry::expr {

struct Binding {
  std::string_view name;
  Val value;
};

struct Env {
  Env* parent = nullptr;
  Binding* data = nullptr;
  uint32_t size = 0;
  uint32_t cap = 0;
};

class Evaluator {
 public:
  Evaluator(Arena& arena, const Limits& limits);

  Val run(const Program& program, Val input, const Bindings* bindings);

  // ---- errors ----
  bool failed() const { return failed_; }
  const EvalError& error() const { return error_; }
  // Records the first error; returns undefined so that callers can `return ev.fail(...)`.
  Val fail(const char* code, int64_t position = -1, std::string value = {}, std::string token = {});
  void set_position_if_unset(int64_t position);

  // ---- values ----
  Arena& arena() { return arena_; }
  Array* new_array(uint32_t cap = 4);
  Array* new_seq(uint32_t cap = 4) {
    Array* a = new_array(cap);
    a->sequence = true;
    return a;
  }
  void push(Array* a, Val v);
  Object* new_object(uint32_t cap = 4);
  void set(Object* o, std::string_view key, Val v);
  static const Val* get(const Object* o, std::string_view key);
  void remove(Object* o, std::string_view key);
  Val str(std::string_view s) { return Val::string(arena_.copy_string(s)); }
  Function* new_function(FnKind kind);

  Val from_json(const json::Value& v);
  json::Value to_json(Val v);

  // ---- evaluation ----
  Val eval(const Node* node, Val input, Env* env);
  // Applies a function value to arguments (validating its signature); `context` is the
  // context item used for `-` parameters.
  Val apply(Val fn, Val* args, int nargs, Val context, int64_t position = -1);
  Env* new_env(Env* parent);
  void bind(Env* env, std::string_view name, Val value);
  Val lookup(Env* env, std::string_view name);
  // The same, with the builtin's index resolved at compile time (-1: not a builtin name).
  Val lookup(Env* env, std::string_view name, int builtin_index);
  Val builtin(int index);
  int arity(Val fn) const;

  // $eval: parses and evaluates text with the given input and environment.
  Val eval_text(std::string_view text, Val input, Env* env);
  Env* current_env() const { return current_env_; }
  // The time of this evaluation ($now, $millis): fixed for its whole length.
  int64_t timestamp() const { return timestamp_; }

  // ---- shared semantics ----
  bool truthy(Val v);  // $boolean, undefined for undefined
  Val boolean(Val v);  // $boolean as a Val
  bool deep_equal(Val a, Val b);
  Val string_of(Val v, bool pretty = false);  // $string
  void append_json(std::string& out, Val v, bool pretty, int indent);
  Val flatten_append(Val a, Val b);  // fn.append
  Val deep_clone(Val v);
  // Numbers of a result must be finite (D1001 otherwise).
  bool check_number(double d);
  // False (with U1001 recorded) once the evaluation has used its stack budget.
  bool stack_ok() {
    char probe = 0;
    if (stack_base_ - &probe <= limits_.max_stack_bytes) return true;
    return stack_exhausted();
  }
  static bool is_integer(double d);

 private:
  Val eval_node(const Node* node, Val input, Env* env);
  Val eval_path(const Node* node, Val input, Env* env);
  Val eval_step(const Node* step, Array* input, Env* env, bool last);
  Val eval_tuple_step(const Node* step, Array* input, Array* tuples, Env* env);
  Val eval_stages(const std::vector<Stage>& stages, Val input, Env* env);
  Val eval_filter(const Node* predicate, Val input, Env* env);
  Val eval_binary(const Node* node, Val input, Env* env);
  Val eval_name(const Node* node, Val input);
  Val eval_wildcard(Val input);
  Val eval_descendants(Val input);
  Val eval_group(const GroupBy& group, Val input, Env* env);
  Val eval_sort(const Node* node, Val input, Env* env);
  Val eval_function_call(const Node* node, Val input, Env* env, const Val* applyto);
  Val eval_partial(const Node* node, Val input, Env* env);
  Val eval_apply(const Node* node, Val input, Env* env);
  Val eval_transform(const Node* node, Val input, Env* env);
  Val eval_array_cons(const Node* node, Val input, Env* env);
  Val eval_object_cons(const Node* node, Val input, Env* env);
  Val apply_inner(Val fn, Val* args, int nargs, Val context);
  Val apply_lambda(Function* f, Val* args, int nargs);
  Val run_transform(Function* f, Val obj);
  bool fast_validate(const Signature& sig, Val* args, int nargs, Val context);
  bool validate(const Signature& sig, Val* args, int nargs, Val context, std::vector<Val>& out);
  Env* frame_from_tuple(Env* env, Val tuple);
  Val lookup_in(Val input, std::string_view key);
  void recurse_descendants(Val v, Array* out);
  bool tick();
  bool stack_exhausted();

  Arena& arena_;
  Limits limits_;
  int64_t depth_ = 0;
  uint32_t ticks_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool has_deadline_ = false;
  int64_t timestamp_ = 0;
  const char* stack_base_ = nullptr;
  bool failed_ = false;
  EvalError error_;
  Env* global_ = nullptr;
  Env* current_env_ = nullptr;
  std::vector<std::unique_ptr<Program>> eval_programs_;
  Function** builtins_ = nullptr;
  bool builtins_shadowed_ = false;
  std::vector<std::unique_ptr<std::string>> eval_texts_;
};

// The built-in function table: name, implementation, signature, arity (as jsonata-js reports
// it to higher-order functions).
struct BuiltinInfo {
  std::string_view name;
  Builtin fn;
  const char* signature;
  int arity;
};
const std::vector<BuiltinInfo>& builtin_table();
const Signature* builtin_signature(size_t index);
// Index of a builtin function by name, -1 when there is none.
int builtin_index(std::string_view name);

// Number and string conversions shared with the function library.
std::string format_number_js(double d);  // JavaScript Number#toString
double round15(double d);                // Number(d.toPrecision(15))
size_t utf8_length(std::string_view s);  // code points
// Byte offset of code point `index` (clamped to the string).
size_t utf8_offset(std::string_view s, size_t index);

}  // namespace canonry::expr
