// Evaluation of the processed AST, following the semantics of jsonata-js 2.x: sequences are
// flattened and unwrapped as its `evaluate` does, paths map step by step, tuple streams carry the
// `@`/`#`/`%` bindings.
#include "expr/evaluator.h"
#include "common/utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>
#include <unordered_map>

#include "common/base64.h"
#include "common/time.h"
#include "json/writer.h"

namespace canonry::expr {

#define TRY(var, expr) \
  Val var = (expr);    \
  if (failed_) return Val()

Evaluator::Evaluator(Arena& arena, const Limits& limits) : arena_(arena), limits_(limits) {
  if (limits_.timeout_ms > 0) {
    has_deadline_ = true;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits_.timeout_ms);
  }
  global_ = new_env(nullptr);
  char probe = 0;
  stack_base_ = &probe;
  timestamp_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
}

Val Evaluator::fail(const char* code, int64_t position, std::string value, std::string token) {
  if (!failed_) {
    failed_ = true;
    error_.code = code;
    error_.position = position;
    error_.value = std::move(value);
    error_.token = std::move(token);
  }
  return Val();
}

void Evaluator::set_position_if_unset(int64_t position) {
  if (failed_ && error_.position < 0) error_.position = position;
}

// ---- values ----
Array* Evaluator::new_array(uint32_t cap) {
  Array* a = new (arena_.allocate(sizeof(Array), alignof(Array))) Array();
  if (cap > 0) {
    a->data = arena_.allocate_array<Val>(cap);
    a->cap = cap;
  }
  return a;
}

void Evaluator::push(Array* a, Val v) {
  if (a->size == a->cap) {
    uint32_t cap = a->cap < 4 ? 4 : a->cap * 2;
    Val* data = arena_.allocate_array<Val>(cap);
    if (a->size) std::memcpy(static_cast<void*>(data), a->data, sizeof(Val) * a->size);
    a->data = data;
    a->cap = cap;
  }
  a->data[a->size++] = v;
}

Object* Evaluator::new_object(uint32_t cap) {
  Object* o = new (arena_.allocate(sizeof(Object), alignof(Object))) Object();
  if (cap > 0) {
    o->data = arena_.allocate_array<Member>(cap);
    o->cap = cap;
  }
  return o;
}

namespace {
// Name comparison for the hot lookups: length and first byte decide most mismatches without a
// call to memcmp.
inline bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

uint32_t hash_key(std::string_view k) {
  uint32_t h = 2166136261u;
  for (char c : k) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}
constexpr uint32_t kIndexThreshold = 32;

void rebuild_index(Arena& arena, Object* o) {
  uint32_t cap = 32;
  while (cap < o->size * 2) cap *= 2;
  o->index = arena.allocate_array<int32_t>(cap);
  o->index_cap = cap;
  std::fill(o->index, o->index + cap, -1);
  for (uint32_t i = 0; i < o->size; ++i) {
    uint32_t h = hash_key(o->data[i].key) & (cap - 1);
    while (o->index[h] >= 0) h = (h + 1) & (cap - 1);
    o->index[h] = static_cast<int32_t>(i);
  }
}
}  // namespace

const Val* Evaluator::get(const Object* o, std::string_view key) {
  if (o->index) {
    uint32_t mask = o->index_cap - 1;
    uint32_t h = hash_key(key) & mask;
    while (o->index[h] >= 0) {
      const Member& m = o->data[o->index[h]];
      if (m.key == key) return &m.value;
      h = (h + 1) & mask;
    }
    return nullptr;
  }
  for (uint32_t i = 0; i < o->size; ++i) {
    if (same_name(o->data[i].key, key)) return &o->data[i].value;
  }
  return nullptr;
}

void Evaluator::set(Object* o, std::string_view key, Val v) {
  Val* existing = const_cast<Val*>(get(o, key));
  if (existing) {
    *existing = v;
    return;
  }
  if (o->size == o->cap) {
    uint32_t cap = o->cap < 4 ? 4 : o->cap * 2;
    Member* data = arena_.allocate_array<Member>(cap);
    for (uint32_t i = 0; i < o->size; ++i) new (&data[i]) Member(o->data[i]);
    o->data = data;
    o->cap = cap;
  }
  new (&o->data[o->size++]) Member{key, v};
  if (o->size >= kIndexThreshold) {
    if (!o->index || o->size * 2 > o->index_cap) {
      rebuild_index(arena_, o);
    } else {
      uint32_t mask = o->index_cap - 1;
      uint32_t h = hash_key(key) & mask;
      while (o->index[h] >= 0) h = (h + 1) & mask;
      o->index[h] = static_cast<int32_t>(o->size - 1);
    }
  }
}

void Evaluator::remove(Object* o, std::string_view key) {
  for (uint32_t i = 0; i < o->size; ++i) {
    if (o->data[i].key == key) {
      for (uint32_t j = i + 1; j < o->size; ++j) o->data[j - 1] = o->data[j];
      --o->size;
      if (o->index) rebuild_index(arena_, o);
      return;
    }
  }
}

Function* Evaluator::new_function(FnKind kind) {
  Function* f = new (arena_.allocate(sizeof(Function), alignof(Function))) Function();
  f->kind = kind;
  return f;
}

Val Evaluator::from_json(const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
    case json::Type::kMinKey:
    case json::Type::kMaxKey:
      return Val::null();
    case json::Type::kBool:
      return Val::boolean(v.as_bool());
    case json::Type::kInteger:
      return Val::number(v.is_big_integer() ? v.as_double() : static_cast<double>(v.as_int()));
    case json::Type::kNumber:
      return Val::number(v.as_double());
    case json::Type::kString:
      return Val::string(v.as_string());
    case json::Type::kDecimal: {
      std::string text(v.as_string());
      return Val::number(std::strtod(text.c_str(), nullptr));
    }
    case json::Type::kObjectId:
      return str(json::object_id_hex(v));
    case json::Type::kDate:
      return str(format_rfc3339_millis(v.as_int()));
    case json::Type::kBinary:
      return str(base64_encode(v.as_string()));
    case json::Type::kTimestamp:
      return Val::number(static_cast<double>(v.timestamp_seconds()));
    case json::Type::kRegex: {
      std::string text =
          "/" + std::string(v.regex_pattern()) + "/" + std::string(v.regex_options());
      return str(text);
    }
    case json::Type::kArray: {
      Array* a = new_array(v.size());
      for (const json::Value& item : v.items()) a->data[a->size++] = from_json(item);
      return Val::array(a);
    }
    case json::Type::kObject: {
      Object* o = new_object(v.size());
      for (const json::Member& m : v.members()) set(o, m.key, from_json(m.value));
      return Val::object(o);
    }
  }
  return Val::null();
}

json::Value Evaluator::to_json(Val v) {
  if (!stack_ok()) return json::Value::null();
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNull:
    case Kind::kFunction:
      return json::Value::null();
    case Kind::kBool:
      return json::Value::boolean(v.b);
    case Kind::kNumber:
      if (is_integer(v.num) && std::fabs(v.num) < 9007199254740992.0) {
        return json::Value::integer(static_cast<int64_t>(v.num));
      }
      if (!std::isfinite(v.num)) return json::Value::null();
      // written as JavaScript writes numbers, and without the writer's own formatting
      return json::Value::number(v.num, arena_.copy_string(format_number_js(v.num)));
    case Kind::kString:
      // copied: a string may live in the program (literals) or in a $eval text, and the result
      // must only depend on the arena
      return json::Value::string(arena_.copy_string(v.sv()));
    case Kind::kArray: {
      json::Value* items = arena_.allocate_array<json::Value>(v.arr->size);
      uint32_t n = 0;
      for (uint32_t i = 0; i < v.arr->size; ++i) {
        if (v.arr->data[i].undef()) continue;
        new (&items[n++]) json::Value(to_json(v.arr->data[i]));
      }
      return json::Value::array(items, n);
    }
    case Kind::kObject: {
      json::Member* members = arena_.allocate_array<json::Member>(v.obj->size);
      uint32_t n = 0;
      for (uint32_t i = 0; i < v.obj->size; ++i) {
        const Member& m = v.obj->data[i];
        if (m.value.undef() || m.value.is_fn()) continue;
        new (&members[n++]) json::Member{arena_.copy_string(m.key), to_json(m.value)};
      }
      return json::Value::object(members, n);
    }
  }
  return json::Value::null();
}

// ---- environments ----
Env* Evaluator::new_env(Env* parent) {
  Env* e = new (arena_.allocate(sizeof(Env), alignof(Env))) Env();
  e->parent = parent;
  return e;
}

void Evaluator::bind(Env* env, std::string_view name, Val value) {
  for (uint32_t i = 0; i < env->size; ++i) {
    if (env->data[i].name == name) {
      env->data[i].value = value;
      return;
    }
  }
  if (env->size == env->cap) {
    uint32_t cap = env->cap < 4 ? 4 : env->cap * 2;
    Binding* data = arena_.allocate_array<Binding>(cap);
    for (uint32_t i = 0; i < env->size; ++i) new (&data[i]) Binding(env->data[i]);
    env->data = data;
    env->cap = cap;
  }
  new (&env->data[env->size++]) Binding{name, value};
}

Val Evaluator::lookup(Env* env, std::string_view name) {
  return lookup(env, name, builtin_index(name));
}

Val Evaluator::lookup(Env* env, std::string_view name, int builtin_index) {
  for (Env* e = env; e; e = e->parent) {
    for (uint32_t i = 0; i < e->size; ++i) {
      if (same_name(e->data[i].name, name)) return e->data[i].value;
    }
  }
  if (builtin_index < 0) return Val();
  return builtin(builtin_index);
}

Val Evaluator::builtin(int index) {
  // One function value per builtin and evaluation, made on first use.
  if (!builtins_) {
    size_t n = builtin_table().size();
    builtins_ = arena_.allocate_array<Function*>(n);
    std::fill(builtins_, builtins_ + n, nullptr);
  }
  Function*& f = builtins_[static_cast<size_t>(index)];
  if (!f) {
    const BuiltinInfo& info = builtin_table()[static_cast<size_t>(index)];
    f = new_function(FnKind::kBuiltin);
    f->builtin = info.fn;
    f->name = info.name;
    f->arity = info.arity;
    f->signature = builtin_signature(static_cast<size_t>(index));
  }
  return Val::function(f);
}

int builtin_index(std::string_view name) {
  static const std::unordered_map<std::string_view, int> index = [] {
    std::unordered_map<std::string_view, int> m;
    const auto& table = builtin_table();
    for (size_t i = 0; i < table.size(); ++i) m.emplace(table[i].name, static_cast<int>(i));
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

int Evaluator::arity(Val fn) const {
  if (!fn.is_fn()) return 0;
  Function* f = fn.fn;
  switch (f->kind) {
    case FnKind::kLambda:
      return static_cast<int>(f->node->params.size());
    case FnKind::kPartial: {
      int n = 0;
      for (int i = 0; i < f->nargs; ++i) n += (f->args[i].undef() && f->args[i].b) ? 1 : 0;
      return n;
    }
    case FnKind::kBuiltin:
      return f->arity;
    default:
      return 1;
  }
}

// ---- evaluation ----
bool Evaluator::stack_exhausted() {
  if (!failed_) {
    fail("U1001");
    error_.message = "Stack overflow error: the expression nests deeper than the stack allows";
  }
  return false;
}

bool Evaluator::tick() {
  if (!has_deadline_) return true;
  if ((++ticks_ & 255) != 0) return true;
  if (std::chrono::steady_clock::now() > deadline_) {
    fail("U1001");
    error_.message = "Expression evaluation timeout: Check for infinite loop";
    return false;
  }
  return true;
}

Val Evaluator::eval(const Node* node, Val input, Env* env) {
  if (failed_) return Val();
  if (++depth_ > limits_.max_depth || !stack_ok()) {
    --depth_;
    fail("U1001", node->position);
    error_.message =
        "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting "
        "as tail-recursive.";
    return Val();
  }
  if (has_deadline_ && !tick()) {
    --depth_;
    return Val();
  }
  Val result = eval_node(node, input, env);
  if (!failed_ && !node->predicates.empty()) {
    for (const Stage& stage : node->predicates) {
      result = eval_filter(stage.expr, result, env);
      if (failed_) break;
    }
  }
  if (!failed_ && node->type != NodeType::kPath && node->group) {
    result = eval_group(*node->group, result, env);
  }
  --depth_;
  if (failed_) return Val();
  if (result.is_arr() && result.arr->sequence && !result.arr->tuple_stream) {
    if (node->keep_array) result.arr->keep_singleton = true;
    if (result.arr->size == 0) return Val();
    if (result.arr->size == 1 && !result.arr->keep_singleton) return result.arr->data[0];
  }
  return result;
}

Val Evaluator::eval_node(const Node* node, Val input, Env* env) {
  switch (node->type) {
    case NodeType::kPath:
      return eval_path(node, input, env);
    case NodeType::kBinary:
      return eval_binary(node, input, env);
    case NodeType::kAnd:
    case NodeType::kOr: {
      TRY(lhs, eval(node->lhs, input, env));
      bool l = truthy(lhs);
      if (node->type == NodeType::kAnd) {
        if (!l) return Val::boolean(false);
      } else if (l) {
        return Val::boolean(true);
      }
      TRY(rhs, eval(node->rhs, input, env));
      return Val::boolean(truthy(rhs));
    }
    case NodeType::kUnaryMinus: {
      TRY(v, eval(node->lhs, input, env));
      if (v.undef()) return v;
      if (v.is_num()) return Val::number(-v.num);
      return fail("D1002", node->position, std::string(string_of(v).sv()), "-");
    }
    case NodeType::kArrayCons:
      return eval_array_cons(node, input, env);
    case NodeType::kObjectCons:
      if (node->is_constant) return node->constant;
      return eval_object_cons(node, input, env);
    case NodeType::kName:
      return eval_name(node, input);
    case NodeType::kString:
      return Val::string(node->text);
    case NodeType::kNumber:
    case NodeType::kValue:
      return node->literal;
    case NodeType::kWildcard:
      return eval_wildcard(input);
    case NodeType::kDescendant:
      return eval_descendants(input);
    case NodeType::kParent:
      return lookup(env, node->slot->label);
    case NodeType::kCondition: {
      TRY(cond, eval(node->lhs, input, env));
      if (truthy(cond)) return eval(node->rhs, input, env);
      if (node->third) return eval(node->third, input, env);
      return Val();
    }
    case NodeType::kElvis: {
      TRY(cond, eval(node->lhs, input, env));
      if (truthy(cond)) return cond;
      return eval(node->rhs, input, env);
    }
    case NodeType::kCoalesce: {
      TRY(cond, eval(node->lhs, input, env));
      if (!cond.undef()) return cond;
      return eval(node->rhs, input, env);
    }
    case NodeType::kBlock: {
      Env* frame = new_env(env);
      Val result;
      for (const Node* item : node->items) {
        result = eval(item, input, frame);
        if (failed_) return Val();
      }
      return result;
    }
    case NodeType::kBind: {
      TRY(value, eval(node->rhs, input, env));
      bind(env, node->lhs->text, value);
      return value;
    }
    case NodeType::kRegex: {
      Function* f = new_function(FnKind::kRegex);
      f->regex = node->regex.get();
      f->node = node;
      f->arity = 1;
      return Val::function(f);
    }
    case NodeType::kFunctionCall:
      return eval_function_call(node, input, env, nullptr);
    case NodeType::kPartial:
      return eval_partial(node, input, env);
    case NodeType::kVariable:
      if (node->text.empty()) {
        if (input.is_arr() && input.arr->outer_wrapper && input.arr->size > 0) {
          return input.arr->data[0];
        }
        return input;
      }
      if (node->direct_builtin && !builtins_shadowed_) return builtin(node->builtin);
      return lookup(env, node->text, node->builtin);
    case NodeType::kLambda: {
      Function* f = new_function(FnKind::kLambda);
      f->node = node;
      f->env = env;
      f->input = input;
      f->thunk = node->thunk;
      f->signature = node->signature.get();
      f->arity = static_cast<int>(node->params.size());
      return Val::function(f);
    }
    case NodeType::kApply:
      return eval_apply(node, input, env);
    case NodeType::kTransform: {
      Function* f = new_function(FnKind::kTransform);
      f->node = node;
      f->env = env;
      f->arity = 1;
      return Val::function(f);
    }
    case NodeType::kSort: {
      Array* seq;
      if (input.is_arr()) {
        seq = input.arr;
      } else {
        seq = new_seq(1);
        push(seq, input);
      }
      return eval_sort(node, Val::array(seq), env);
    }
    case NodeType::kPlaceholder:
      return Val();
  }
  return Val();
}

namespace {
// A step that only looks a name up: no predicates, bindings, grouping or singleton keeping.
bool plain_step(const Node* step, NodeType type) {
  return step->type == type && step->stages.empty() && step->predicates.empty() && !step->tuple &&
         step->focus.empty() && step->index.empty() && !step->ancestor && !step->keep_array &&
         !step->group;
}
}  // namespace

Val Evaluator::eval_path(const Node* node, Val input, Env* env) {
  if (!node->keep_singleton_array && !node->group && !node->tuple) {
    // Fast path for `a.b.c` through objects: no sequences to build. Anything else (an array on
    // the way, a step with predicates) takes the general path below from the start.
    size_t n = node->steps.size();
    size_t i = 0;
    Val v = input;
    bool fast = true;
    if (plain_step(node->steps[0], NodeType::kVariable)) {
      v = eval(node->steps[0], input, env);
      if (failed_) return Val();
      i = 1;
    } else if (input.is_arr()) {
      fast = false;
    }
    for (; fast && i < n; ++i) {
      const Node* step = node->steps[i];
      if (!plain_step(step, NodeType::kName) || v.is_arr()) {
        fast = false;
        break;
      }
      if (!v.is_obj()) return Val();
      const Val* field = get(v.obj, step->text);
      if (!field) return Val();
      v = *field;
    }
    if (fast && !(v.is_arr() && v.arr->sequence)) return v;
  }
  Array* input_seq;
  if (node->steps[0]->type == NodeType::kVariable || !input.is_arr()) {
    input_seq = new_seq(1);
    push(input_seq, input);
  } else {
    input_seq = input.arr;
  }
  Val result;
  bool tuple_stream = false;
  Array* tuples = nullptr;
  size_t n = node->steps.size();
  for (size_t i = 0; i < n; ++i) {
    const Node* step = node->steps[i];
    if (step->tuple) tuple_stream = true;
    if (i == 0 && step->cons_array) {
      result = eval(step, Val::array(input_seq), env);
    } else if (tuple_stream) {
      TRY(t, eval_tuple_step(step, input_seq, tuples, env));
      tuples = t.arr;
    } else {
      result = eval_step(step, input_seq, env, i == n - 1);
    }
    if (failed_) return Val();
    if (!tuple_stream && (result.undef() || (result.is_arr() && result.arr->size == 0))) break;
    if (step->focus.empty()) {
      if (tuple_stream) {
        // the next step's input is the tuples' context items (only used when it is a plain step)
      } else if (result.is_arr()) {
        input_seq = result.arr;
      } else {
        input_seq = new_seq(1);
        push(input_seq, result);
      }
    }
  }
  if (tuple_stream) {
    if (node->tuple) {
      if (!tuples) {
        tuples = new_seq(0);
        tuples->tuple_stream = true;
      }
      result = Val::array(tuples);
    } else {
      Array* seq = new_seq(tuples ? tuples->size : 0);
      if (tuples) {
        for (uint32_t i = 0; i < tuples->size; ++i) {
          const Val* ctx = get(tuples->data[i].obj, "@");
          push(seq, ctx ? *ctx : Val());
        }
      }
      result = Val::array(seq);
    }
  }
  if (node->keep_singleton_array && !result.undef()) {
    if (result.is_arr() && result.arr->cons && !result.arr->sequence) {
      Array* seq = new_seq(1);
      push(seq, result);
      result = Val::array(seq);
    }
    if (result.is_arr()) {
      result.arr->keep_singleton = true;
    } else {
      Array* seq = new_seq(1);
      push(seq, result);
      seq->keep_singleton = true;
      result = Val::array(seq);
    }
  }
  if (node->group) {
    if (tuple_stream && !tuples) {
      tuples = new_seq(0);
      tuples->tuple_stream = true;
    }
    result = eval_group(*node->group, tuple_stream ? Val::array(tuples) : result, env);
  }
  return result;
}

Val Evaluator::eval_step(const Node* step, Array* input, Env* env, bool last) {
  if (step->type == NodeType::kSort) {
    TRY(result, eval_sort(step, Val::array(input), env));
    if (!step->stages.empty()) return eval_stages(step->stages, result, env);
    return result;
  }
  Array* result = new_seq(input->size);
  for (uint32_t i = 0; i < input->size; ++i) {
    TRY(res, eval(step, input->data[i], env));
    for (const Stage& stage : step->stages) {
      res = eval_filter(stage.expr, res, env);
      if (failed_) return Val();
    }
    if (!res.undef()) push(result, res);
  }
  if (last && result->size == 1 && result->data[0].is_arr() && !result->data[0].arr->sequence) {
    return result->data[0];
  }
  Array* out = new_seq(result->size);
  for (uint32_t i = 0; i < result->size; ++i) {
    Val res = result->data[i];
    if (!res.is_arr() || res.arr->cons) {
      push(out, res);
    } else {
      for (uint32_t j = 0; j < res.arr->size; ++j) push(out, res.arr->data[j]);
    }
  }
  return Val::array(out);
}

Env* Evaluator::frame_from_tuple(Env* env, Val tuple) {
  Env* frame = new_env(env);
  if (tuple.is_obj()) {
    for (uint32_t i = 0; i < tuple.obj->size; ++i) {
      bind(frame, tuple.obj->data[i].key, tuple.obj->data[i].value);
    }
  }
  return frame;
}

Val Evaluator::eval_tuple_step(const Node* step, Array* input, Array* tuples, Env* env) {
  if (step->type == NodeType::kSort) {
    Val result;
    if (tuples) {
      TRY(sorted, eval_sort(step, Val::array(tuples), env));
      result = sorted;
    } else {
      TRY(sorted, eval_sort(step, Val::array(input), env));
      Array* stream = new_seq();
      stream->tuple_stream = true;
      Array* items = sorted.is_arr() ? sorted.arr : nullptr;
      uint32_t count = items ? items->size : (sorted.undef() ? 0 : 1);
      for (uint32_t i = 0; i < count; ++i) {
        Object* t = new_object(2);
        set(t, "@", items ? items->data[i] : sorted);
        if (!step->index.empty()) set(t, step->index, Val::number(i));
        push(stream, Val::object(t));
      }
      result = Val::array(stream);
    }
    if (!step->stages.empty()) return eval_stages(step->stages, result, env);
    return result;
  }
  Array* result = new_seq();
  result->tuple_stream = true;
  if (!tuples) {
    tuples = new_array(input->size);
    for (uint32_t i = 0; i < input->size; ++i) {
      Object* t = new_object(1);
      set(t, "@", input->data[i]);
      push(tuples, Val::object(t));
    }
  }
  for (uint32_t e = 0; e < tuples->size; ++e) {
    Val tuple = tuples->data[e];
    Env* frame = frame_from_tuple(env, tuple);
    const Val* ctx_ptr = get(tuple.obj, "@");
    Val ctx = ctx_ptr ? *ctx_ptr : Val();
    TRY(res, eval(step, ctx, frame));
    if (res.undef()) continue;
    Array* items;
    if (res.is_arr()) {
      items = res.arr;
    } else {
      items = new_array(1);
      push(items, res);
    }
    for (uint32_t b = 0; b < items->size; ++b) {
      Object* t = new_object(tuple.obj->size + 3);
      for (uint32_t k = 0; k < tuple.obj->size; ++k) {
        set(t, tuple.obj->data[k].key, tuple.obj->data[k].value);
      }
      if (items->tuple_stream) {
        Val other = items->data[b];
        for (uint32_t k = 0; k < other.obj->size; ++k) {
          set(t, other.obj->data[k].key, other.obj->data[k].value);
        }
      } else {
        if (!step->focus.empty()) {
          set(t, step->focus, items->data[b]);
          set(t, "@", ctx);
        } else {
          set(t, "@", items->data[b]);
        }
        if (!step->index.empty()) set(t, step->index, Val::number(b));
        if (step->ancestor) set(t, step->ancestor->label, ctx);
      }
      push(result, Val::object(t));
    }
  }
  if (!step->stages.empty()) return eval_stages(step->stages, Val::array(result), env);
  return Val::array(result);
}

Val Evaluator::eval_stages(const std::vector<Stage>& stages, Val input, Env* env) {
  Val result = input;
  for (const Stage& stage : stages) {
    if (stage.is_index) {
      if (result.is_arr()) {
        for (uint32_t i = 0; i < result.arr->size; ++i) {
          Val t = result.arr->data[i];
          if (t.is_obj()) set(t.obj, stage.var, Val::number(i));
        }
      }
    } else {
      result = eval_filter(stage.expr, result, env);
      if (failed_) return Val();
    }
  }
  return result;
}

Val Evaluator::eval_filter(const Node* predicate, Val input, Env* env) {
  Array* results = new_seq();
  Array* in;
  if (input.is_arr()) {
    in = input.arr;
    if (in->tuple_stream) results->tuple_stream = true;
  } else {
    in = new_seq(1);
    if (!input.undef()) push(in, input);
  }
  if (predicate->type == NodeType::kNumber) {
    double idx = std::floor(predicate->number);
    if (idx < 0) idx += in->size;
    if (idx >= 0 && idx < in->size) {
      Val item = in->data[static_cast<uint32_t>(idx)];
      if (item.is_arr()) return item;
      push(results, item);
    }
    return Val::array(results);
  }
  for (uint32_t index = 0; index < in->size; ++index) {
    Val item = in->data[index];
    Val context = item;
    Env* frame = env;
    if (in->tuple_stream) {
      const Val* c = get(item.obj, "@");
      context = c ? *c : Val();
      frame = frame_from_tuple(env, item);
    }
    TRY(res, eval(predicate, context, frame));
    if (res.is_num()) {
      double ii = std::floor(res.num);
      if (ii < 0) ii += in->size;
      if (ii == index) push(results, item);
      continue;
    }
    if (res.is_arr() && res.arr->size > 0) {
      bool all_numbers = true;
      for (uint32_t k = 0; k < res.arr->size; ++k) all_numbers &= res.arr->data[k].is_num();
      if (all_numbers) {
        for (uint32_t k = 0; k < res.arr->size; ++k) {
          double ii = std::floor(res.arr->data[k].num);
          if (ii < 0) ii += in->size;
          if (ii == index) push(results, item);
        }
        continue;
      }
    } else if (res.is_arr()) {
      continue;
    }
    if (truthy(res)) push(results, item);
    if (failed_) return Val();
  }
  return Val::array(results);
}

Val Evaluator::lookup_in(Val input, std::string_view key) {
  if (input.is_arr()) {
    Array* result = new_seq();
    for (uint32_t i = 0; i < input.arr->size; ++i) {
      Val res = lookup_in(input.arr->data[i], key);
      if (res.undef()) continue;
      if (res.is_arr()) {
        for (uint32_t j = 0; j < res.arr->size; ++j) push(result, res.arr->data[j]);
      } else {
        push(result, res);
      }
    }
    return Val::array(result);
  }
  if (input.is_obj()) {
    const Val* v = get(input.obj, key);
    return v ? *v : Val();
  }
  return Val();
}

Val Evaluator::eval_name(const Node* node, Val input) {
  return lookup_in(input, node->text);
}

namespace {
void flatten_into(Evaluator& ev, Val v, Array* out) {
  if (!ev.stack_ok()) return;
  if (v.is_arr()) {
    for (uint32_t i = 0; i < v.arr->size; ++i) flatten_into(ev, v.arr->data[i], out);
  } else {
    ev.push(out, v);
  }
}
}  // namespace

Val Evaluator::eval_wildcard(Val input) {
  Array* results = new_seq();
  if (input.is_arr() && input.arr->outer_wrapper && input.arr->size > 0) input = input.arr->data[0];
  auto add = [&](Val value) {
    if (value.is_arr()) {
      flatten_into(*this, value, results);
    } else {
      push(results, value);
    }
  };
  if (input.is_obj()) {
    for (uint32_t i = 0; i < input.obj->size; ++i) add(input.obj->data[i].value);
  } else if (input.is_arr()) {
    for (uint32_t i = 0; i < input.arr->size; ++i) add(input.arr->data[i]);
  }
  return Val::array(results);
}

void Evaluator::recurse_descendants(Val v, Array* out) {
  if (!stack_ok()) return;
  if (!v.is_arr()) push(out, v);
  if (v.is_arr()) {
    for (uint32_t i = 0; i < v.arr->size; ++i) recurse_descendants(v.arr->data[i], out);
  } else if (v.is_obj()) {
    for (uint32_t i = 0; i < v.obj->size; ++i) recurse_descendants(v.obj->data[i].value, out);
  }
}

Val Evaluator::eval_descendants(Val input) {
  if (input.undef()) return Val();
  Array* results = new_seq();
  recurse_descendants(input, results);
  if (results->size == 1) return results->data[0];
  return Val::array(results);
}

bool Evaluator::is_integer(double d) {
  return std::isfinite(d) && std::floor(d) == d;
}

bool Evaluator::check_number(double d) {
  if (!std::isfinite(d)) {
    fail("D1001", -1, format_number_js(d));
    return false;
  }
  return true;
}

Val Evaluator::eval_binary(const Node* node, Val input, Env* env) {
  TRY(lhs, eval(node->lhs, input, env));
  TRY(rhs, eval(node->rhs, input, env));
  auto err = [&](const char* code, Val value) {
    return fail(code, node->position, value.undef() ? "" : std::string(string_of(value).sv()),
                node->text);
  };
  switch (node->op) {
    case BinOp::kAdd:
    case BinOp::kSub:
    case BinOp::kMul:
    case BinOp::kDiv:
    case BinOp::kMod: {
      if (!lhs.undef() && !lhs.is_num()) return err("T2001", lhs);
      if (!rhs.undef() && !rhs.is_num()) return err("T2002", rhs);
      if (lhs.is_num() && !check_number(lhs.num)) return Val();
      if (rhs.is_num() && !check_number(rhs.num)) return Val();
      if (lhs.undef() || rhs.undef()) return Val();
      double a = lhs.num, b = rhs.num, r = 0;
      switch (node->op) {
        case BinOp::kAdd:
          r = a + b;
          break;
        case BinOp::kSub:
          r = a - b;
          break;
        case BinOp::kMul:
          r = a * b;
          break;
        case BinOp::kDiv:
          r = a / b;
          break;
        default:
          r = std::fmod(a, b);
          break;
      }
      return Val::number(r);
    }
    case BinOp::kEq:
    case BinOp::kNe: {
      if (lhs.undef() || rhs.undef()) return Val::boolean(false);
      bool eq = deep_equal(lhs, rhs);
      return Val::boolean(node->op == BinOp::kEq ? eq : !eq);
    }
    case BinOp::kLt:
    case BinOp::kLe:
    case BinOp::kGt:
    case BinOp::kGe: {
      bool lc = lhs.undef() || lhs.is_str() || lhs.is_num();
      bool rc = rhs.undef() || rhs.is_str() || rhs.is_num();
      if (!lc || !rc) return err("T2010", !(lhs.is_str() || lhs.is_num()) ? lhs : rhs);
      if (lhs.undef() || rhs.undef()) return Val();
      if (lhs.kind != rhs.kind) return err("T2009", lhs);
      int c;
      if (lhs.is_num()) {
        c = lhs.num < rhs.num ? -1 : (lhs.num > rhs.num ? 1 : 0);
      } else {
        int k = lhs.sv().compare(rhs.sv());
        c = k < 0 ? -1 : (k > 0 ? 1 : 0);
      }
      switch (node->op) {
        case BinOp::kLt:
          return Val::boolean(c < 0);
        case BinOp::kLe:
          return Val::boolean(c <= 0);
        case BinOp::kGt:
          return Val::boolean(c > 0);
        default:
          return Val::boolean(c >= 0);
      }
    }
    case BinOp::kConcat: {
      std::string_view l, r;
      if (!lhs.undef()) {
        TRY(ls, string_of(lhs));
        l = ls.sv();
      }
      if (!rhs.undef()) {
        TRY(rs, string_of(rhs));
        r = rs.sv();
      }
      if (l.empty()) return Val::string(r.data() ? r : std::string_view("", 0));
      if (r.empty()) return Val::string(l);
      char* out = static_cast<char*>(arena_.allocate(l.size() + r.size(), 1));
      std::memcpy(out, l.data(), l.size());
      std::memcpy(out + l.size(), r.data(), r.size());
      return Val::string(std::string_view(out, l.size() + r.size()));
    }
    case BinOp::kRange: {
      if (!lhs.undef() && !(lhs.is_num() && is_integer(lhs.num))) return err("T2003", lhs);
      if (!rhs.undef() && !(rhs.is_num() && is_integer(rhs.num))) return err("T2004", rhs);
      if (lhs.undef() || rhs.undef()) return Val();
      if (lhs.num > rhs.num) return Val();
      double size = rhs.num - lhs.num + 1;
      if (size > 1e7) return err("D2014", Val::number(size));
      Array* a = new_seq(static_cast<uint32_t>(size));
      for (uint32_t i = 0; i < static_cast<uint32_t>(size); ++i) {
        a->data[a->size++] = Val::number(lhs.num + i);
      }
      return Val::array(a);
    }
    case BinOp::kIn: {
      if (lhs.undef() || rhs.undef()) return Val::boolean(false);
      auto same = [&](Val a, Val b) {
        if (a.kind != b.kind) return false;
        switch (a.kind) {
          case Kind::kNull:
            return true;
          case Kind::kBool:
            return a.b == b.b;
          case Kind::kNumber:
            return a.num == b.num;
          case Kind::kString:
            return a.sv() == b.sv();
          case Kind::kArray:
            return a.arr == b.arr;
          case Kind::kObject:
            return a.obj == b.obj;
          case Kind::kFunction:
            return a.fn == b.fn;
          default:
            return false;
        }
      };
      if (rhs.is_arr()) {
        for (uint32_t i = 0; i < rhs.arr->size; ++i) {
          if (same(lhs, rhs.arr->data[i])) return Val::boolean(true);
        }
        return Val::boolean(false);
      }
      return Val::boolean(same(lhs, rhs));
    }
  }
  return Val();
}

Val Evaluator::eval_array_cons(const Node* node, Val input, Env* env) {
  Array* result = new_array(static_cast<uint32_t>(node->items.size()));
  for (const Node* item : node->items) {
    TRY(value, eval(item, input, env));
    if (value.undef()) continue;
    if (item->type == NodeType::kArrayCons || !value.is_arr()) {
      push(result, value);
    } else {
      for (uint32_t i = 0; i < value.arr->size; ++i) push(result, value.arr->data[i]);
    }
  }
  if (node->cons_array) result->cons = true;
  return Val::array(result);
}

Val Evaluator::eval_object_cons(const Node* node, Val input, Env* env) {
  GroupBy group;
  group.pairs = node->pairs;
  group.position = node->position;
  return eval_group(group, input, env);
}

Val Evaluator::flatten_append(Val a, Val b) {
  if (a.undef()) return b;
  if (b.undef()) return a;
  Array* out = new_array((a.is_arr() ? a.arr->size : 1) + (b.is_arr() ? b.arr->size : 1));
  if (a.is_arr()) {
    for (uint32_t i = 0; i < a.arr->size; ++i) push(out, a.arr->data[i]);
  } else {
    push(out, a);
  }
  if (b.is_arr()) {
    for (uint32_t i = 0; i < b.arr->size; ++i) push(out, b.arr->data[i]);
  } else {
    push(out, b);
  }
  return Val::array(out);
}

Val Evaluator::eval_group(const GroupBy& group, Val input, Env* env) {
  if (!input.is_arr()) {
    // One context item (an object constructor's usual case): each pair is evaluated once, no
    // grouping is needed; a key made by two different pairs is still D1009.
    Object* result = new_object(static_cast<uint32_t>(group.pairs.size()));
    size_t n = group.pairs.size();
    std::string_view key_buf[16];
    std::vector<std::string_view> heap_keys;
    std::string_view* keys = key_buf;
    if (n > 16) {
      heap_keys.resize(n);
      keys = heap_keys.data();
    }
    for (size_t p = 0; p < n; ++p) {
      TRY(key, eval(group.pairs[p].first, input, env));
      if (key.undef()) {
        keys[p] = std::string_view();
        continue;
      }
      if (!key.is_str()) return fail("T1003", group.position, std::string(string_of(key).sv()));
      for (size_t q = 0; q < p; ++q) {
        if (keys[q].data() && keys[q] == key.sv()) {
          return fail("D1009", group.position, std::string(key.sv()));
        }
      }
      keys[p] = key.len ? key.sv() : std::string_view("", 0);
    }
    for (size_t p = 0; p < n; ++p) {
      if (!keys[p].data()) continue;
      TRY(value, eval(group.pairs[p].second, input, env));
      if (!value.undef()) set(result, keys[p], value);
    }
    return Val::object(result);
  }
  Object* result = new_object();
  bool reduce = input.is_arr() && input.arr->tuple_stream;
  Array* in;
  if (input.is_arr()) {
    in = input.arr;
  } else {
    in = new_seq(1);
    if (!input.undef()) push(in, input);
  }
  if (in->size == 0) {
    in = new_seq(1);
    push(in, Val());
  }
  struct Entry {
    std::string_view key;
    Val data;
    size_t expr_index;
  };
  std::vector<Entry> entries;
  std::unordered_map<std::string_view, size_t> positions;
  for (uint32_t i = 0; i < in->size; ++i) {
    Val item = in->data[i];
    Env* frame = reduce ? frame_from_tuple(env, item) : env;
    Val context = item;
    if (reduce && item.is_obj()) {
      const Val* c = get(item.obj, "@");
      context = c ? *c : Val();
    }
    for (size_t p = 0; p < group.pairs.size(); ++p) {
      TRY(key, eval(group.pairs[p].first, context, frame));
      if (key.undef()) continue;
      if (!key.is_str()) {
        return fail("T1003", group.position, std::string(string_of(key).sv()));
      }
      auto it = positions.find(key.sv());
      if (it != positions.end()) {
        Entry& e = entries[it->second];
        if (e.expr_index != p) return fail("D1009", group.position, std::string(key.sv()));
        e.data = flatten_append(e.data, item);
      } else {
        positions.emplace(key.sv(), entries.size());
        entries.push_back({key.sv(), item, p});
      }
    }
  }
  for (const Entry& e : entries) {
    Val context = e.data;
    Env* frame = env;
    if (reduce) {
      // Merge the tuples of the group: every binding becomes the sequence of its values.
      Object* tuple = new_object();
      if (e.data.is_arr()) {
        for (uint32_t i = 0; i < e.data.arr->size; ++i) {
          Val t = e.data.arr->data[i];
          if (!t.is_obj()) continue;
          for (uint32_t k = 0; k < t.obj->size; ++k) {
            const Member& m = t.obj->data[k];
            const Val* existing = get(tuple, m.key);
            set(tuple, m.key, i == 0 || !existing ? m.value : flatten_append(*existing, m.value));
          }
        }
      } else if (e.data.is_obj()) {
        for (uint32_t k = 0; k < e.data.obj->size; ++k) {
          set(tuple, e.data.obj->data[k].key, e.data.obj->data[k].value);
        }
      }
      const Val* c = get(tuple, "@");
      context = c ? *c : Val();
      remove(tuple, "@");
      frame = frame_from_tuple(env, Val::object(tuple));
    }
    TRY(value, eval(group.pairs[e.expr_index].second, context, frame));
    if (!value.undef()) set(result, arena_.copy_string(e.key), value);
  }
  return Val::object(result);
}

Val Evaluator::eval_sort(const Node* node, Val input, Env* env) {
  if (input.undef()) return input;
  if (!input.is_arr() || input.arr->size <= 1) return input;
  Array* in = input.arr;
  bool tuple_sort = in->tuple_stream;
  size_t nterms = node->terms.size();
  std::vector<Val> keys(in->size * nterms);
  for (uint32_t i = 0; i < in->size; ++i) {
    Val context = in->data[i];
    Env* frame = env;
    if (tuple_sort) {
      const Val* c = get(context.obj, "@");
      frame = frame_from_tuple(env, context);
      context = c ? *c : Val();
    }
    for (size_t t = 0; t < nterms; ++t) {
      TRY(k, eval(node->terms[t].expr, context, frame));
      if (!k.undef() && !k.is_num() && !k.is_str()) {
        return fail("T2008", node->position, std::string(string_of(k).sv()));
      }
      keys[i * nterms + t] = k;
    }
  }
  std::vector<uint32_t> order(in->size);
  for (uint32_t i = 0; i < in->size; ++i) order[i] = i;
  bool type_error = false;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    for (size_t t = 0; t < nterms; ++t) {
      Val x = keys[a * nterms + t], y = keys[b * nterms + t];
      int comp;
      if (x.undef()) {
        comp = y.undef() ? 0 : 1;
      } else if (y.undef()) {
        comp = -1;
      } else if (x.kind != y.kind) {
        type_error = true;
        return false;
      } else if (x.is_num()) {
        comp = x.num == y.num ? 0 : (x.num < y.num ? -1 : 1);
      } else {
        int c = x.sv().compare(y.sv());
        comp = c == 0 ? 0 : (c < 0 ? -1 : 1);
      }
      if (comp == 0) continue;
      if (node->terms[t].descending) comp = -comp;
      return comp < 0;
    }
    return false;
  });
  if (type_error) return fail("T2007", node->position);
  Array* out = new_array(in->size);
  out->tuple_stream = in->tuple_stream;
  for (uint32_t i : order) push(out, in->data[i]);
  return Val::array(out);
}

// ---- functions ----
Val Evaluator::eval_function_call(const Node* node, Val input, Env* env, const Val* applyto) {
  TRY(proc, eval(node->body, input, env));
  std::string_view proc_name;
  if (node->body->type == NodeType::kPath) {
    proc_name = node->body->steps[0]->text;
  } else {
    proc_name = node->body->text;
  }
  if (proc.undef() && node->body->type == NodeType::kPath &&
      !lookup(env, node->body->steps[0]->text).undef()) {
    return fail("T1005", node->position, "", std::string(proc_name));
  }
  int nargs = static_cast<int>(node->items.size()) + (applyto ? 1 : 0);
  Val* args = arena_.allocate_array<Val>(nargs > 0 ? nargs : 1);
  int k = 0;
  if (applyto) args[k++] = *applyto;
  for (const Node* arg : node->items) {
    TRY(v, eval(arg, input, env));
    args[k++] = v;
  }
  Env* saved_env = current_env_;
  current_env_ = env;
  Val result = apply(proc, args, nargs, input, node->position);
  current_env_ = saved_env;
  if (failed_) {
    if (error_.position < 0) error_.position = node->position;
    if (error_.token.empty()) error_.token = std::string(proc_name);
    return Val();
  }
  return result;
}

Val Evaluator::eval_partial(const Node* node, Val input, Env* env) {
  int nargs = static_cast<int>(node->items.size());
  Val* args = arena_.allocate_array<Val>(nargs > 0 ? nargs : 1);
  for (int i = 0; i < nargs; ++i) {
    const Node* arg = node->items[i];
    if (arg->type == NodeType::kPlaceholder) {
      args[i] = Val();
      args[i].b = true;  // marks a placeholder
    } else {
      TRY(v, eval(arg, input, env));
      args[i] = v;
      args[i].b = v.is_bool() ? v.b : false;
    }
  }
  TRY(proc, eval(node->body, input, env));
  if (proc.undef() && node->body->type == NodeType::kPath &&
      !lookup(env, node->body->steps[0]->text).undef()) {
    return fail("T1007", node->position, "", node->body->steps[0]->text);
  }
  if (!proc.is_fn()) return fail("T1008", node->position);
  Function* f = new_function(FnKind::kPartial);
  f->target = proc.fn;
  f->args = args;
  f->nargs = nargs;
  return Val::function(f);
}

Val Evaluator::eval_apply(const Node* node, Val input, Env* env) {
  TRY(lhs, eval(node->lhs, input, env));
  if (node->rhs->type == NodeType::kFunctionCall) {
    return eval_function_call(node->rhs, input, env, &lhs);
  }
  TRY(func, eval(node->rhs, input, env));
  if (!func.is_fn()) {
    return fail("T2006", node->position, func.undef() ? "" : std::string(string_of(func).sv()));
  }
  if (lhs.is_fn()) {
    Function* f = new_function(FnKind::kCompose);
    f->target = lhs.fn;
    f->second = func.fn;
    f->arity = 1;
    return Val::function(f);
  }
  Val args[1] = {lhs};
  return apply(func, args, 1, input, node->position);
}

Val Evaluator::apply(Val fn, Val* args, int nargs, Val context, int64_t position) {
  Val result = apply_inner(fn, args, nargs, context);
  while (!failed_ && result.is_fn() && result.fn->thunk) {
    Function* t = result.fn;
    const Node* call = t->node->body;
    TRY(next, eval(call->body, t->input, t->env));
    int n = static_cast<int>(call->items.size());
    Val* next_args = arena_.allocate_array<Val>(n > 0 ? n : 1);
    for (int i = 0; i < n; ++i) {
      TRY(v, eval(call->items[i], t->input, t->env));
      next_args[i] = v;
    }
    if (!tick()) return Val();
    result = apply_inner(next, next_args, n, context);
    if (failed_ && error_.position < 0) error_.position = call->position;
  }
  if (failed_) {
    if (error_.position < 0) error_.position = position;
    return Val();
  }
  return result;
}

Val Evaluator::apply_inner(Val fn, Val* args, int nargs, Val context) {
  if (!fn.is_fn()) {
    return fail("T1006", -1, fn.undef() ? "" : std::string(string_of(fn).sv()));
  }
  Function* f = fn.fn;
  if (f->signature && !fast_validate(*f->signature, args, nargs, context)) {
    thread_local std::vector<Val> validated;
    validated.clear();
    if (!validate(*f->signature, args, nargs, context, validated)) return Val();
    nargs = static_cast<int>(validated.size());
    args = arena_.allocate_array<Val>(nargs > 0 ? nargs : 1);
    for (int i = 0; i < nargs; ++i) args[i] = validated[i];
  }
  switch (f->kind) {
    case FnKind::kLambda:
      return apply_lambda(f, args, nargs);
    case FnKind::kBuiltin:
      return f->builtin(*this, args, nargs, context);
    case FnKind::kPartial: {
      int total = f->nargs;
      Val* full = arena_.allocate_array<Val>(total > 0 ? total : 1);
      int k = 0;
      for (int i = 0; i < total; ++i) {
        if (f->args[i].undef() && f->args[i].b) {
          full[i] = k < nargs ? args[k] : Val();
          ++k;
        } else {
          full[i] = f->args[i];
        }
      }
      return apply(Val::function(f->target), full, total, context);
    }
    case FnKind::kCompose: {
      TRY(mid, apply(Val::function(f->target), args, nargs, context));
      Val a[1] = {mid};
      return apply(Val::function(f->second), a, 1, context);
    }
    case FnKind::kTransform: {
      if (nargs < 1 || args[0].undef()) return Val();
      if (!args[0].is_obj() && !args[0].is_arr()) return fail("T0410", -1, "", "");
      return run_transform(f, args[0]);
    }
    case FnKind::kRegex:
    case FnKind::kNext: {
      extern Val regex_match_object(Evaluator & ev, const RE2* re, std::string_view subject,
                                    size_t from, const Node* node);
      if (f->kind == FnKind::kRegex) {
        if (nargs < 1 || !args[0].is_str()) return Val();
        return regex_match_object(*this, f->regex, args[0].sv(), 0, f->node);
      }
      return regex_match_object(*this, f->regex, f->subject, f->offset, f->node);
    }
  }
  return Val();
}

Val Evaluator::apply_lambda(Function* f, Val* args, int nargs) {
  Env* env = new_env(f->env);
  const auto& params = f->node->params;
  for (size_t i = 0; i < params.size(); ++i) {
    bind(env, params[i], static_cast<int>(i) < nargs ? args[i] : Val());
  }
  return eval(f->node->body, f->input, env);
}

Val Evaluator::run_transform(Function* f, Val obj) {
  const Node* node = f->node;
  Env* env = f->env;
  Val result = deep_clone(obj);
  TRY(matches, eval(node->lhs, result, env));
  if (matches.undef()) return result;
  Array* list;
  if (matches.is_arr()) {
    list = matches.arr;
  } else {
    list = new_array(1);
    push(list, matches);
  }
  for (uint32_t i = 0; i < list->size; ++i) {
    Val match = list->data[i];
    TRY(update, eval(node->rhs, match, env));
    if (!update.undef()) {
      if (!update.is_obj()) {
        return fail("T2011", node->rhs->position, std::string(string_of(update).sv()));
      }
      if (match.is_obj()) {
        for (uint32_t k = 0; k < update.obj->size; ++k) {
          set(match.obj, update.obj->data[k].key, update.obj->data[k].value);
        }
      }
    }
    if (node->third) {
      TRY(deletions, eval(node->third, match, env));
      if (deletions.undef()) continue;
      Array* names;
      if (deletions.is_arr()) {
        names = deletions.arr;
      } else {
        names = new_array(1);
        push(names, deletions);
      }
      for (uint32_t k = 0; k < names->size; ++k) {
        if (!names->data[k].is_str()) {
          return fail("T2012", node->third->position, std::string(string_of(deletions).sv()));
        }
      }
      if (match.is_obj()) {
        for (uint32_t k = 0; k < names->size; ++k) remove(match.obj, names->data[k].sv());
      }
    }
  }
  return result;
}

Val Evaluator::deep_clone(Val v) {
  if (!stack_ok()) return Val();
  if (v.is_arr()) {
    Array* a = new_array(v.arr->size);
    for (uint32_t i = 0; i < v.arr->size; ++i) push(a, deep_clone(v.arr->data[i]));
    a->sequence = v.arr->sequence;
    return Val::array(a);
  }
  if (v.is_obj()) {
    Object* o = new_object(v.obj->size);
    for (uint32_t i = 0; i < v.obj->size; ++i) {
      set(o, v.obj->data[i].key, deep_clone(v.obj->data[i].value));
    }
    return Val::object(o);
  }
  return v;
}

// ---- signatures ----
namespace {
char symbol_of(Val v) {
  switch (v.kind) {
    case Kind::kFunction:
      return 'f';
    case Kind::kString:
      return 's';
    case Kind::kNumber:
      return 'n';
    case Kind::kBool:
      return 'b';
    case Kind::kNull:
      return 'l';
    case Kind::kArray:
      return 'a';
    case Kind::kObject:
      return 'o';
    default:
      return 'm';
  }
}

// Matches the argument symbols against the parameters like the regular expression jsonata-js
// builds from a signature (greedy, with backtracking); `counts` receives how many arguments each
// parameter took.
bool match_params(const std::vector<SigParam>& params, size_t p, std::string_view syms, size_t pos,
                  std::span<int> counts) {
  if (p == params.size()) return pos == syms.size();
  const SigParam& param = params[p];
  size_t max = 0;
  while (pos + max < syms.size() && param.symbols.find(syms[pos + max]) != std::string::npos) {
    ++max;
    if (!param.one_or_more) break;
  }
  size_t min = param.optional ? 0 : 1;
  for (size_t n = max + 1; n-- > min;) {
    counts[p] = static_cast<int>(n);
    if (match_params(params, p + 1, syms, pos + n, counts)) return true;
    if (n == 0) break;
  }
  return false;
}
}  // namespace

// The common case of a call, decided without the general matcher: one argument per parameter,
// each of an accepted type, and no array parameter (those may need wrapping or item checks).
// Then the arguments are already what validate() would produce.
bool Evaluator::fast_validate(const Signature& sig, Val* args, int nargs, Val context) {
  (void)context;
  if (static_cast<size_t>(nargs) != sig.params.size()) return false;
  for (int i = 0; i < nargs; ++i) {
    const SigParam& p = sig.params[static_cast<size_t>(i)];
    if (p.type == 'a' || p.one_or_more || p.symbols.find(symbol_of(args[i])) == std::string::npos) {
      return false;
    }
  }
  return true;
}

bool Evaluator::validate(const Signature& sig, Val* args, int nargs, Val context,
                         std::vector<Val>& out) {
  char sym_buf[32];
  std::string heap_syms;
  std::string_view syms;
  if (nargs <= 32) {
    for (int i = 0; i < nargs; ++i) sym_buf[i] = symbol_of(args[i]);
    syms = std::string_view(sym_buf, static_cast<size_t>(nargs));
  } else {
    for (int i = 0; i < nargs; ++i) heap_syms += symbol_of(args[i]);
    syms = heap_syms;
  }
  int count_buf[16];
  std::vector<int> heap_counts;
  int* counts_ptr = count_buf;
  if (sig.params.size() > 16) {
    heap_counts.resize(sig.params.size());
    counts_ptr = heap_counts.data();
  }
  std::span<int> counts(counts_ptr, sig.params.size());
  std::fill(counts.begin(), counts.end(), 0);
  if (!match_params(sig.params, 0, syms, 0, counts)) {
    // Find the first argument that breaks the signature, as jsonata-js reports it.
    size_t good = 0;
    for (size_t p = 0; p < sig.params.size(); ++p) {
      const SigParam& param = sig.params[p];
      size_t n = 0;
      while (good + n < syms.size() && param.symbols.find(syms[good + n]) != std::string::npos) {
        ++n;
        if (!param.one_or_more) break;
      }
      if (n == 0 && !param.optional) break;
      good += n;
    }
    fail("T0410", -1,
         good < static_cast<size_t>(nargs) ? std::string(string_of(args[good]).sv()) : "",
         std::to_string(good + 1));
    return false;
  }
  int arg_index = 0;
  for (size_t p = 0; p < sig.params.size(); ++p) {
    const SigParam& param = sig.params[p];
    if (counts[p] == 0) {
      if (param.context) {
        char c = symbol_of(context);
        if (param.symbols.find(c) == std::string::npos) {
          fail("T0411", -1, std::string(string_of(context).sv()), std::to_string(arg_index + 1));
          return false;
        }
        out.push_back(context);
      } else {
        out.push_back(arg_index < nargs ? args[arg_index] : Val());
        ++arg_index;
      }
      continue;
    }
    for (int k = 0; k < counts[p]; ++k) {
      Val arg = args[arg_index];
      char single = syms[arg_index];
      if (param.type == 'a') {
        if (single == 'm') {
          arg = Val();
        } else {
          if (!param.subtype.empty()) {
            bool ok = true;
            if (single != 'a') {
              ok = param.subtype.size() == 1 && param.subtype[0] == single;
            } else if (arg.arr->size > 0) {
              char item_type = symbol_of(arg.arr->data[0]);
              if (item_type != param.subtype[0]) {
                ok = false;
              } else {
                for (uint32_t i = 0; i < arg.arr->size; ++i) {
                  if (symbol_of(arg.arr->data[i]) != item_type) ok = false;
                }
              }
            }
            if (!ok) {
              fail("T0412", -1, std::string(string_of(arg).sv()), std::to_string(arg_index + 1));
              return false;
            }
          }
          if (single != 'a') {
            Array* a = new_array(1);
            push(a, arg);
            arg = Val::array(a);
          }
        }
      }
      out.push_back(arg);
      ++arg_index;
    }
  }
  return true;
}

bool parse_signature(std::string_view text, Signature& out, std::string& code, int& offset) {
  out.text = std::string(text);
  // text is "<params:return>"; the return type is not checked.
  size_t i = 1;
  size_t end = text.size() - 1;
  auto symbols_for = [](char t) -> std::string {
    switch (t) {
      case 'a':
        return "asnblfom";
      case 'x':
        return "asnblfom";
      case 'j':
        return "asnblom";
      case 'f':
        return "f";
      default:
        return std::string(1, t) + "m";
    }
  };
  while (i < end) {
    char c = text[i];
    if (c == ':') break;
    SigParam param;
    switch (c) {
      case 'b':
      case 'n':
      case 's':
      case 'l':
      case 'o':
      case 'a':
      case 'f':
      case 'x':
      case 'j':
        param.type = c;
        param.symbols = symbols_for(c);
        ++i;
        break;
      case '(': {
        size_t close = text.find(')', i);
        if (close == std::string_view::npos) {
          code = "S0402";
          offset = static_cast<int>(i);
          return false;
        }
        param.type = '(';
        param.choice = std::string(text.substr(i + 1, close - i - 1));
        if (param.choice.find('<') != std::string::npos) {
          code = "S0402";
          offset = static_cast<int>(i);
          return false;
        }
        for (char ch : param.choice) {
          if (ch == 'a' || ch == 'x' || ch == 'j') {
            param.symbols += symbols_for(ch);
          } else {
            param.symbols += ch;
          }
        }
        param.symbols += 'm';
        i = close + 1;
        break;
      }
      default:
        code = "S0401";
        offset = static_cast<int>(i);
        return false;
    }
    // subtype and modifiers
    while (i < end) {
      char m = text[i];
      if (m == '<') {
        if (param.type != 'a' && param.type != 'f') {
          code = "S0401";
          offset = static_cast<int>(i);
          return false;
        }
        int depth = 1;
        size_t j = i + 1;
        for (; j < end && depth > 0; ++j) {
          if (text[j] == '<') ++depth;
          if (text[j] == '>') --depth;
        }
        if (depth != 0) {
          code = "S0401";
          offset = static_cast<int>(i);
          return false;
        }
        param.subtype = std::string(text.substr(i + 1, j - i - 2));
        i = j;
      } else if (m == '?') {
        param.optional = true;
        ++i;
      } else if (m == '+') {
        param.one_or_more = true;
        ++i;
      } else if (m == '-') {
        param.context = true;
        param.optional = true;
        ++i;
      } else {
        break;
      }
    }
    if (param.type == 'f' && false) break;
    out.params.push_back(std::move(param));
  }
  return true;
}

// ---- shared semantics ----
Val Evaluator::boolean(Val v) {
  if (v.undef()) return v;
  return Val::boolean(truthy(v));
}

bool Evaluator::truthy(Val v) {
  if (!stack_ok()) return false;
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return v.b;
    case Kind::kNumber:
      return v.num != 0 && !std::isnan(v.num);
    case Kind::kString:
      return v.len > 0;
    case Kind::kObject:
      return v.obj->size > 0;
    case Kind::kFunction:
      return false;
    case Kind::kArray:
      if (v.arr->size == 1) return truthy(v.arr->data[0]);
      for (uint32_t i = 0; i < v.arr->size; ++i) {
        if (truthy(v.arr->data[i])) return true;
      }
      return false;
  }
  return false;
}

bool Evaluator::deep_equal(Val a, Val b) {
  if (a.kind != b.kind || !stack_ok()) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kNumber:
      return a.num == b.num;
    case Kind::kString:
      return a.sv() == b.sv();
    case Kind::kFunction:
      return a.fn == b.fn;
    case Kind::kArray:
      if (a.arr->size != b.arr->size) return false;
      for (uint32_t i = 0; i < a.arr->size; ++i) {
        if (!deep_equal(a.arr->data[i], b.arr->data[i])) return false;
      }
      return true;
    case Kind::kObject: {
      if (a.obj->size != b.obj->size) return false;
      for (uint32_t i = 0; i < a.obj->size; ++i) {
        const Val* other = get(b.obj, a.obj->data[i].key);
        if (!other || !deep_equal(a.obj->data[i].value, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

void Evaluator::append_json(std::string& out, Val v, bool pretty, int indent) {
  if (!stack_ok()) return;
  auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += v.b ? "true" : "false";
      return;
    case Kind::kNumber:
      if (!std::isfinite(v.num)) {
        fail("D1001", -1, format_number_js(v.num));
        out += "null";
      } else {
        out += format_number_js(is_integer(v.num) ? v.num : round15(v.num));
      }
      return;
    case Kind::kString:
      json::append_quoted(out, v.sv());
      return;
    case Kind::kFunction:
      out += "\"\"";
      return;
    case Kind::kArray: {
      out += '[';
      for (uint32_t i = 0; i < v.arr->size; ++i) {
        if (i) out += ',';
        newline(indent + 1);
        Val item = v.arr->data[i];
        if (item.undef()) {
          out += "null";
        } else {
          append_json(out, item, pretty, indent + 1);
        }
      }
      if (v.arr->size) newline(indent);
      out += ']';
      return;
    }
    case Kind::kObject: {
      out += '{';
      bool first = true;
      for (uint32_t i = 0; i < v.obj->size; ++i) {
        const Member& m = v.obj->data[i];
        if (m.value.undef()) continue;
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        json::append_quoted(out, m.key);
        out += pretty ? ": " : ":";
        append_json(out, m.value, pretty, indent + 1);
      }
      if (!first) newline(indent);
      out += '}';
      return;
    }
  }
}

Val Evaluator::string_of(Val v, bool pretty) {
  switch (v.kind) {
    case Kind::kUndefined:
      return v;
    case Kind::kString:
      return v;
    case Kind::kFunction:
      return Val::string("");
    case Kind::kNumber:
      if (!std::isfinite(v.num)) return fail("D3001", -1, format_number_js(v.num));
      return str(format_number_js(is_integer(v.num) ? v.num : round15(v.num)));
    default: {
      if (v.is_arr() && v.arr->outer_wrapper && v.arr->size > 0) v = v.arr->data[0];
      std::string out;
      append_json(out, v, pretty, 0);
      if (failed_) return Val();
      return str(out);
    }
  }
}

Val Evaluator::eval_text(std::string_view text, Val input, Env* env) {
  auto program = std::make_unique<Program>();
  ParseError perr;
  if (!parse_program(text, *program, perr, false)) {
    return fail("D3120", -1, perr.code);
  }
  const Node* root = program->root;
  eval_programs_.push_back(std::move(program));
  Val in = input;
  if (in.is_arr() && !in.arr->sequence) {
    Array* w = new_seq(1);
    push(w, in);
    w->outer_wrapper = true;
    in = Val::array(w);
  }
  Val result = eval(root, in, env);
  if (failed_ && error_.code.size() && error_.code[0] != 'D' && error_.code != "U1001") {
    std::string inner = error_.code;
    failed_ = false;
    return fail("D3121", -1, inner);
  }
  return result;
}

Val Evaluator::run(const Program& program, Val input, const Bindings* bindings) {
  if (bindings) {
    for (const auto& [name, value] : bindings->values) {
      bind(global_, name, from_json(value));
      if (builtin_index(name) >= 0) builtins_shadowed_ = true;
    }
  }
  if (input.is_arr() && !input.arr->sequence) {
    Array* w = new_seq(1);
    push(w, input);
    w->outer_wrapper = true;
    input = Val::array(w);
  }
  bind(global_, "$", input);
  current_env_ = global_;
  Val result = eval(program.root, input, global_);
  if (failed_) return Val();
  if (result.is_arr() && result.arr->sequence && !result.arr->tuple_stream) {
    // a keep-singleton sequence is still an array in the output
  }
  return result;
}

// ---- number and string helpers ----
double round15(double d) {
  if (!std::isfinite(d) || d == 0) return d;
  char buf[40];
  snprintf(buf, sizeof buf, "%.14e", d);
  return std::strtod(buf, nullptr);
}

std::string format_number_js(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]D[.DDD]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  int k = static_cast<int>(digits.size());
  int n = exp + 1;  // position of the decimal point
  std::string out = neg ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1) >= 0 ? "+" : "-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

size_t utf8_offset(std::string_view s, size_t index) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80) {
      if (count == index) return i;
      ++count;
    }
  }
  return s.size();
}

}  // namespace canonry::expr
