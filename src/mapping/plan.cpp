#include "mapping/plan.h"

#include <cstring>
#include <functional>

#include "common/time.h"
#include "expr/expression.h"
#include "json/writer.h"
#include "jsonpath/jsonpath.h"
#include "mapping/transforms.h"

namespace canonry::mapping {

using json::Value;

namespace {

// A node of the canonical record's template: an object with named children, an array whose
// elements share one template, or a leaf written by one field mapping (or only by `defaults`).
struct Node {
  enum class Kind { kObject, kArray, kLeaf } kind = Kind::kObject;
  std::vector<int> children;      // object: child node indices, in spec order
  std::string name;               // the member name of this node in its parent object
  std::string key_json;           // "\"name\":", written before the value
  int element = -1;               // array: the element template
  int position = -1;              // index among the parent object's children
  int field = -1;                 // leaf: the field mapping that writes it, -1 for defaults only
  std::optional<Value> fallback;  // top-level: the `defaults` value
};

// The runtime counterpart of a node for one record, allocated in the record's arena.
struct Slot {
  enum class State : uint8_t { kEmpty, kRaw, kFinal };
  State state = State::kEmpty;
  bool touched = false;    // already listed for the current field's transform pass
  Value value;             // leaf
  Slot** slots = nullptr;  // object: one per child (null = unset); array: the elements
  uint32_t count = 0;      // array: number of elements
  uint32_t capacity = 0;
};

// One alternative `src` path with the positions of the wildcard segments that line up with the
// `[*]` of `dst`.
struct Source {
  jsonpath::JsonPath path;
  std::vector<size_t> wildcards;  // segment indices, as many as dst has [*]
  bool collect = false;           // the rest after the last aligned wildcard yields a list
  bool fast_singular = false;     // whole path singular and dst has no [*]
};

struct Field {
  std::string dst;
  std::string src_text;  // for messages
  std::string pointer;
  std::vector<Source> sources;
  std::optional<expr::Expression> expression;
  std::vector<std::unique_ptr<Transform>> transforms;
  bool runs_on_missing = false;
  // Node index reached after each dst step.
  std::vector<int> chain;
  std::vector<size_t> dst_wildcards;  // step indices of [*] in dst
};

struct Touched {
  Slot* slot;
  uint32_t index_begin;  // into the index scratch: the element indices leading to the slot
  uint32_t index_count;
};

}  // namespace

struct Plan::Impl {
  MappingSpec spec;
  std::vector<Node> nodes;  // nodes[0] is the record
  std::vector<Field> fields;
  std::vector<std::string> key_steps;
  std::vector<std::string> time_steps;

  // ---- compile -------------------------------------------------------------------------------

  Status error(const std::string& pointer, const std::string& message) const {
    return Status(ErrorCode::kSpec, spec.file + ": " + pointer + ": " + message, pointer);
  }

  int add_node(Node::Kind kind, const std::string& name) {
    Node n;
    n.kind = kind;
    n.name = name;
    json::append_quoted(n.key_json, name);
    n.key_json += ':';
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }

  int find_child(int parent, const std::string& name) const {
    for (int c : nodes[parent].children) {
      if (nodes[c].name == name) return c;
    }
    return -1;
  }

  Status place(Field& field, size_t field_index, const std::vector<TargetStep>& steps) {
    int current = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
      bool last = i + 1 == steps.size();
      Node::Kind want =
          last ? Node::Kind::kLeaf
               : (steps[i + 1].is_wildcard() ? Node::Kind::kArray : Node::Kind::kObject);
      int next;
      if (steps[i].is_wildcard()) {
        next = nodes[current].element;
        if (next < 0) {
          next = add_node(want, "");
          nodes[current].element = next;
        }
      } else {
        next = find_child(current, steps[i].name);
        if (next < 0) {
          next = add_node(want, steps[i].name);
          nodes[next].position = static_cast<int>(nodes[current].children.size());
          nodes[current].children.push_back(next);
        }
      }
      if (nodes[next].kind != want) {
        return error(
            field.pointer + "/dst",
            "\"" + field.dst + "\" conflicts with the shape another field mapping gives " +
                target_path_text({steps.begin(), steps.begin() + static_cast<long>(i) + 1}));
      }
      if (last) {
        if (nodes[next].field >= 0) {
          return error(field.pointer + "/dst",
                       "\"" + field.dst + "\" is already written by fieldMappings/" +
                           std::to_string(nodes[next].field) +
                           " (list alternative sources in one `src` instead)");
        }
        nodes[next].field = static_cast<int>(field_index);
      }
      field.chain.push_back(next);
      current = next;
    }
    return Status::ok();
  }

  Status compile_field(const FieldMappingSpec& f, size_t index) {
    Field field;
    field.dst = f.dst;
    field.pointer = f.pointer;
    auto steps = parse_target_path(f.dst);
    if (!steps) return error(f.pointer + "/dst", steps.status().message());
    for (size_t i = 0; i < steps->size(); ++i) {
      if ((*steps)[i].is_wildcard()) field.dst_wildcards.push_back(i);
    }
    if (!f.expr.empty()) {
      if (!field.dst_wildcards.empty()) {
        return error(f.pointer + "/dst",
                     "a computed field (expr) writes one value: its dst cannot contain [*]");
      }
      auto compiled = expr::Expression::compile(f.expr);
      if (!compiled) return error(f.pointer + "/expr", compiled.status().message());
      field.expression.emplace(std::move(*compiled));
      field.src_text = "expr";
    }
    for (size_t a = 0; a < f.src.size(); ++a) {
      std::string where = f.pointer + "/src" + (f.src.size() > 1 ? "/" + std::to_string(a) : "");
      auto path = jsonpath::JsonPath::parse(f.src[a]);
      if (!path) return error(where, path.status().message());
      Source source{std::move(*path), {}, false, false};
      for (size_t s = 0;
           s < source.path.segment_count() && source.wildcards.size() < field.dst_wildcards.size();
           ++s) {
        if (source.path.is_wildcard_segment(s)) source.wildcards.push_back(s);
      }
      if (source.wildcards.size() < field.dst_wildcards.size()) {
        return error(where, "dst \"" + f.dst + "\" has " +
                                std::to_string(field.dst_wildcards.size()) + " [*] but src \"" +
                                f.src[a] + "\" has only " +
                                std::to_string(source.wildcards.size()) +
                                ": each [*] of dst follows a [*] of src");
      }
      size_t rest_begin = source.wildcards.empty() ? 0 : source.wildcards.back() + 1;
      source.collect = !source.path.is_singular_range(rest_begin, source.path.segment_count());
      source.fast_singular = field.dst_wildcards.empty() && source.path.is_singular();
      if (!field.src_text.empty()) field.src_text += ", ";
      field.src_text += f.src[a];
      field.sources.push_back(std::move(source));
    }
    if (f.transform != nullptr) {
      const Value& t = *f.transform;
      std::string where = f.pointer + "/transform";
      std::span<const Value> list = t.is_array() ? t.items() : std::span<const Value>(&t, 1);
      for (size_t i = 0; i < list.size(); ++i) {
        auto made = make_transform(list[i], t.is_array() ? where + "/" + std::to_string(i) : where);
        if (!made) {
          return error(made.status().path(), made.status().message());
        }
        field.runs_on_missing = field.runs_on_missing || (*made)->sees_nulls();
        field.transforms.push_back(std::move(*made));
      }
    }
    CANONRY_RETURN_IF_ERROR(place(field, index, *steps));
    fields.push_back(std::move(field));
    return Status::ok();
  }

  Status compile_top_path(const std::string& path, const char* name,
                          std::vector<std::string>& out) {
    if (path.empty()) return Status::ok();
    auto steps = parse_target_path(path);
    if (!steps) return error(std::string("/") + name, steps.status().message());
    int current = 0;
    for (const TargetStep& step : *steps) {
      current = find_child(current, step.name);
      if (current < 0) break;
      out.push_back(step.name);
    }
    if (current < 0 || nodes[current].kind != Node::Kind::kLeaf) {
      return error(std::string("/") + name,
                   "\"" + path + "\" is not a field that a field mapping or `defaults` writes");
    }
    return Status::ok();
  }

  Status compile() {
    add_node(Node::Kind::kObject, "");
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      CANONRY_RETURN_IF_ERROR(compile_field(spec.fields[i], i));
    }
    if (spec.defaults != nullptr) {
      for (const json::Member& m : spec.defaults->members()) {
        int child = find_child(0, std::string(m.key));
        if (child < 0) {
          child = add_node(Node::Kind::kLeaf, std::string(m.key));
          nodes[child].position = static_cast<int>(nodes[0].children.size());
          nodes[0].children.push_back(child);
        }
        nodes[child].fallback = m.value;
      }
    }
    CANONRY_RETURN_IF_ERROR(compile_top_path(spec.key, "key", key_steps));
    CANONRY_RETURN_IF_ERROR(compile_top_path(spec.event_time, "eventTime", time_steps));
    return Status::ok();
  }

  // ---- execute -------------------------------------------------------------------------------

  // Per-thread scratch reused across records, so that mapping a record allocates from the heap
  // only when a record is larger than every one before it.
  struct Scratch {
    std::vector<Touched> touched;
    std::vector<uint32_t> indices;      // element indices of the current position, while descending
    std::vector<uint32_t> index_store;  // copies for touched slots
  };

  struct Run {
    const Value& document;
    Arena& arena;
    std::vector<Touched>& touched;
    std::vector<uint32_t>& indices;
    std::vector<uint32_t>& index_store;
  };

  static Slot* new_slot(Arena& arena) {
    Slot* s = static_cast<Slot*>(arena.allocate(sizeof(Slot), alignof(Slot)));
    return new (s) Slot();
  }

  Slot* child_slot(Run& run, Slot* object, int node, int child) {
    const Node& n = nodes[node];
    if (object->slots == nullptr) {
      object->slots = run.arena.allocate_array<Slot*>(n.children.size());
      std::memset(object->slots, 0, n.children.size() * sizeof(Slot*));
    }
    size_t i = static_cast<size_t>(nodes[child].position);
    if (object->slots[i] == nullptr) object->slots[i] = new_slot(run.arena);
    return object->slots[i];
  }

  static Slot* element_slot(Run& run, Slot* array, uint32_t index) {
    if (index >= array->capacity) {
      uint32_t capacity = std::max<uint32_t>(8, std::max(index + 1, array->capacity * 2));
      Slot** grown = run.arena.allocate_array<Slot*>(capacity);
      if (array->count) std::memcpy(grown, array->slots, array->count * sizeof(Slot*));
      std::memset(grown + array->count, 0, (capacity - array->count) * sizeof(Slot*));
      array->slots = grown;
      array->capacity = capacity;
    }
    while (array->count <= index) array->slots[array->count++] = nullptr;
    if (array->slots[index] == nullptr) array->slots[index] = new_slot(run.arena);
    return array->slots[index];
  }

  // Walks dst steps [from, to) below `slot` (which sits at node chain[from-1] or the root),
  // creating slots; `to` must not pass a wildcard step.
  Slot* walk(Run& run, const Field& field, Slot* slot, size_t from, size_t to) {
    int node = from == 0 ? 0 : field.chain[from - 1];
    for (size_t i = from; i < to; ++i) {
      slot = child_slot(run, slot, node, field.chain[i]);
      node = field.chain[i];
    }
    return slot;
  }

  void touch(Run& run, Slot* leaf) {
    if (leaf->touched) return;
    leaf->touched = true;
    uint32_t begin = static_cast<uint32_t>(run.index_store.size());
    run.index_store.insert(run.index_store.end(), run.indices.begin(), run.indices.end());
    run.touched.push_back({leaf, begin, static_cast<uint32_t>(run.indices.size())});
  }

  // Stores a raw source value unless an earlier alternative already found a non-null one.
  void offer(Run& run, const Field& field, Slot* leaf, const Value* raw) {
    if (raw == nullptr) {
      if (field.runs_on_missing) touch(run, leaf);
      return;
    }
    touch(run, leaf);
    if (leaf->state == Slot::State::kRaw && !leaf->value.is_null()) return;
    leaf->value = *raw;
    leaf->state = Slot::State::kRaw;
  }

  void descend(Run& run, const Field& field, const Source& source, size_t level, const Value& start,
               Slot* slot, size_t dst_step) {
    size_t seg_begin = level == 0 ? 0 : source.wildcards[level - 1] + 1;
    if (level < source.wildcards.size()) {
      size_t wildcard = source.wildcards[level];
      size_t dst_wildcard = field.dst_wildcards[level];
      // The array slot sits at the step before the [*].
      Slot* array = nullptr;
      uint32_t next_index = 0;
      source.path.evaluate_range(seg_begin, wildcard, run.document, start, [&](const Value& node) {
        if (!node.is_container()) return;
        if (array == nullptr) array = walk(run, field, slot, dst_step, dst_wildcard);
        auto visit_child = [&](const Value& child) {
          Slot* element = element_slot(run, array, next_index);
          run.indices.push_back(next_index++);
          descend(run, field, source, level + 1, child, element, dst_wildcard + 1);
          run.indices.pop_back();
        };
        if (node.is_array()) {
          for (const Value& child : node.items()) visit_child(child);
        } else {
          for (const json::Member& m : node.members()) visit_child(m.value);
        }
      });
      return;
    }
    size_t end = source.path.segment_count();
    const size_t last_step = field.chain.size();
    if (!source.collect) {
      const Value* found = nullptr;
      source.path.evaluate_range(seg_begin, end, run.document, start, [&](const Value& node) {
        if (found == nullptr) found = &node;
      });
      if (found == nullptr && !field.runs_on_missing) return;
      offer(run, field, walk(run, field, slot, dst_step, last_step), found);
      return;
    }
    std::vector<Value> items;
    source.path.evaluate_range(seg_begin, end, run.document, start,
                               [&](const Value& node) { items.push_back(node); });
    if (items.empty()) {
      if (field.runs_on_missing)
        offer(run, field, walk(run, field, slot, dst_step, last_step), nullptr);
      return;
    }
    Value list = json::make_array(run.arena, items);
    offer(run, field, walk(run, field, slot, dst_step, last_step), &list);
  }

  Result<Value> transform(const Field& field, const Value& input, Run& run) const {
    Value value = input;
    for (const auto& t : field.transforms) {
      if (value.is_null() && !t->sees_nulls()) continue;
      if (value.is_array() && t->elementwise()) {
        std::vector<Value> out;
        out.reserve(value.size());
        for (const Value& item : value.items()) {
          if (item.is_null()) {
            out.push_back(item);
            continue;
          }
          auto converted = t->apply(item, run.arena, run.document);
          if (!converted) return converted.take_status();
          out.push_back(*converted);
        }
        value = json::make_array(run.arena, out);
        continue;
      }
      auto converted = t->apply(value, run.arena, run.document);
      if (!converted) return converted.take_status();
      value = *converted;
    }
    return value;
  }

  std::string concrete_dst(const Field& field, const Run& run, const Touched& t) const {
    std::string out = "$";
    size_t wildcard = 0;
    for (size_t i = 0; i < field.chain.size(); ++i) {
      const Node& n = nodes[field.chain[i]];
      if (n.name.empty()) {
        out += "[" + std::to_string(run.index_store[t.index_begin + wildcard++]) + "]";
      } else {
        out += "." + n.name;
      }
    }
    return out;
  }

  bool run_field(Run& run, const Field& field, Slot* root, MapError& error) {
    run.touched.clear();
    run.index_store.clear();
    run.indices.clear();
    if (field.expression) {
      auto result = field.expression->evaluate(run.document, run.arena);
      if (!result) {
        error.status = Status(ErrorCode::kExpression, result.status().message());
        error.dst = field.dst;
        return false;
      }
      if (result->has_value() || field.runs_on_missing) {
        offer(run, field, walk(run, field, root, 0, field.chain.size()),
              result->has_value() ? &**result : nullptr);
      }
    }
    for (const Source& source : field.sources) {
      if (source.fast_singular) {
        const Value* found = source.path.select_singular(run.document);
        if (found != nullptr || field.runs_on_missing) {
          offer(run, field, walk(run, field, root, 0, field.chain.size()), found);
        }
        continue;
      }
      descend(run, field, source, 0, run.document, root, 0);
    }
    for (const Touched& t : run.touched) {
      Slot* leaf = t.slot;
      leaf->touched = false;
      Value raw = leaf->state == Slot::State::kRaw ? leaf->value : Value::null();
      auto converted = transform(field, raw, run);
      if (!converted) {
        error.dst = concrete_dst(field, run, t);
        error.status = Status(
            ErrorCode::kTransform,
            converted.status().message() + " (from " + field.src_text + " to " + error.dst + ")",
            error.dst);
        return false;
      }
      leaf->value = *converted;
      leaf->state = Slot::State::kFinal;
    }
    return true;
  }

  const Slot* find_top(const Slot* root, const std::vector<std::string>& steps) const {
    int node = 0;
    const Slot* slot = root;
    for (const std::string& name : steps) {
      if (slot == nullptr || slot->slots == nullptr) return nullptr;
      const Node& n = nodes[node];
      const Slot* next = nullptr;
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (nodes[n.children[i]].name == name) {
          next = slot->slots[i];
          node = n.children[i];
          break;
        }
      }
      slot = next;
    }
    return slot;
  }

  bool execute(const Value& document, Arena& arena, Slot*& root, MapInfo& info, MapError& error) {
    thread_local Scratch scratch;
    Run run{document, arena, scratch.touched, scratch.indices, scratch.index_store};
    root = new_slot(arena);
    for (const Field& field : fields) {
      if (!run_field(run, field, root, error)) return false;
    }
    info = MapInfo{};
    if (!key_steps.empty()) {
      const Value* key = value_at(root, key_steps);
      if (key == nullptr || key->is_null()) {
        error.status =
            Status(ErrorCode::kMissingKey,
                   "the record has no key: " + spec.key + " is missing or null", spec.key);
        error.dst = spec.key;
        return false;
      }
      info.key = *key;
    }
    if (!time_steps.empty()) {
      if (const Value* t = value_at(root, time_steps)) info.event_time_ms = epoch_millis(*t);
    }
    return true;
  }

  // A leaf's value, or the default standing in for it.
  const Value* value_at(const Slot* root, const std::vector<std::string>& steps) const {
    const Slot* slot = find_top(root, steps);
    if (slot != nullptr && slot->state == Slot::State::kFinal) return &slot->value;
    if (steps.size() == 1) {
      int child = find_child(0, steps[0]);
      if (child >= 0 && nodes[child].fallback) return &*nodes[child].fallback;
    }
    return nullptr;
  }

  static std::optional<int64_t> epoch_millis(const Value& v) {
    if (v.type() == json::Type::kDate) return v.as_int();
    if (v.is_integer() && !v.is_big_integer()) return v.as_int();
    if (v.is_string()) {
      if (auto micros = parse_iso8601_micros(v.as_string())) return floor_div(*micros, 1000);
    }
    return std::nullopt;
  }

  // ---- output --------------------------------------------------------------------------------

  void write_value(std::string& out, int node, const Slot* slot) const {
    const Node& n = nodes[node];
    switch (n.kind) {
      case Node::Kind::kLeaf:
        if (slot != nullptr && slot->state == Slot::State::kFinal) {
          json::append_value(out, slot->value);
        } else {
          out += "null";  // an array element whose source element lacked the field
        }
        return;
      case Node::Kind::kObject: {
        out += '{';
        bool first = true;
        for (size_t i = 0; i < n.children.size(); ++i) {
          int c = n.children[i];
          const Slot* s = slot != nullptr && slot->slots != nullptr ? slot->slots[i] : nullptr;
          bool present = s != nullptr &&
                         (nodes[c].kind != Node::Kind::kLeaf || s->state == Slot::State::kFinal);
          if (!present && !nodes[c].fallback) continue;
          if (!first) out += ',';
          first = false;
          out += nodes[c].key_json;
          if (present) {
            write_value(out, c, s);
          } else {
            json::append_value(out, *nodes[c].fallback);
          }
        }
        out += '}';
        return;
      }
      case Node::Kind::kArray: {
        out += '[';
        uint32_t count = slot != nullptr ? slot->count : 0;
        for (uint32_t i = 0; i < count; ++i) {
          if (i) out += ',';
          write_value(out, n.element, slot->slots[i]);
        }
        out += ']';
        return;
      }
    }
  }

  Value build_value(Arena& arena, int node, const Slot* slot) const {
    const Node& n = nodes[node];
    switch (n.kind) {
      case Node::Kind::kLeaf:
        return slot != nullptr && slot->state == Slot::State::kFinal ? slot->value : Value::null();
      case Node::Kind::kObject: {
        std::vector<json::Member> members;
        for (size_t i = 0; i < n.children.size(); ++i) {
          int c = n.children[i];
          const Slot* s = slot != nullptr && slot->slots != nullptr ? slot->slots[i] : nullptr;
          bool present = s != nullptr &&
                         (nodes[c].kind != Node::Kind::kLeaf || s->state == Slot::State::kFinal);
          if (present) {
            members.push_back({nodes[c].name, build_value(arena, c, s)});
          } else if (nodes[c].fallback) {
            members.push_back({nodes[c].name, *nodes[c].fallback});
          }
        }
        return json::make_object(arena, members);
      }
      case Node::Kind::kArray: {
        std::vector<Value> items;
        uint32_t count = slot != nullptr ? slot->count : 0;
        for (uint32_t i = 0; i < count; ++i)
          items.push_back(build_value(arena, n.element, slot->slots[i]));
        return json::make_array(arena, items);
      }
    }
    return Value::null();
  }
};

Plan::Plan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Plan::~Plan() = default;

Result<std::shared_ptr<const Plan>> Plan::compile(const MappingSpec& spec) {
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  CANONRY_RETURN_IF_ERROR(impl->compile());
  return std::shared_ptr<const Plan>(new Plan(std::move(impl)));
}

const std::string& Plan::mapping_id() const {
  return impl_->spec.mapping_id;
}
const MappingSpec& Plan::spec() const {
  return impl_->spec;
}

bool Plan::map(const Value& document, Arena& arena, std::string& out, MapInfo& info,
               MapError& error) const {
  Slot* root = nullptr;
  if (!impl_->execute(document, arena, root, info, error)) return false;
  impl_->write_value(out, 0, root);
  return true;
}

bool Plan::map_to_value(const Value& document, Arena& arena, Value& record, MapInfo& info,
                        MapError& error) const {
  Slot* root = nullptr;
  if (!impl_->execute(document, arena, root, info, error)) return false;
  record = impl_->build_value(arena, 0, root);
  return true;
}

}  // namespace canonry::mapping
