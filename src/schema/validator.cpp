// The compiler turns a schema into a graph of Nodes (one per subschema) holding Keyword checks;
// references are resolved while compiling, so evaluation only follows pointers. Evaluation keeps
// the instance path and the dynamic scope as linked frames on the C++ stack: nothing is
// allocated unless an error is reported or annotations are collected for unevaluated*.
#include "schema/validator.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "json/parser.h"
#include "json/writer.h"
#include "schema/validator_internal.h"

namespace canonry::schema {
namespace {

using json::Type;
using json::Value;
using namespace detail;

enum class Draft { k7, k2020 };

struct Dialect {
  Draft draft = Draft::k2020;
  bool validation = true;         // the validation vocabulary is in use
  bool format_assertion = false;  // the format-assertion vocabulary is in use
};

struct Node;

// A schema resource: a document or a subschema with an `$id`.
struct Resource {
  std::string uri;
  const Value* root = nullptr;
  std::string location;  // the root's location ("" for the root document, "uri#" for others)
  Dialect dialect;
  std::unordered_map<std::string, const Value*> dynamic_anchors;
  std::unordered_map<std::string, const Node*> dynamic_nodes;
};

// The instance location, one frame per step down the instance.
struct Path {
  const Path* parent;
  std::string_view key;
  size_t index;
  bool is_index;
};

// The dynamic scope: the resources evaluation went through, innermost first.
struct Scope {
  const Scope* parent;
  const Resource* resource;
};

// What the keywords of a schema evaluated at the instance's own location: member and item
// indices, for unevaluatedProperties / unevaluatedItems.
struct Annotations {
  std::vector<bool> props;
  std::vector<bool> items;
  void size_for(const Value& v) {
    if (v.is_object()) props.assign(v.size(), false);
    if (v.is_array()) items.assign(v.size(), false);
  }
  void merge(const Annotations& other) {
    for (size_t i = 0; i < props.size() && i < other.props.size(); ++i) {
      if (other.props[i]) props[i] = true;
    }
    for (size_t i = 0; i < items.size() && i < other.items.size(); ++i) {
      if (other.items[i]) items[i] = true;
    }
  }
};

void append_pointer_token(std::string& out, std::string_view token) {
  out += '/';
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

std::string pointer_of(const Path* path) {
  std::vector<const Path*> frames;
  for (; path != nullptr; path = path->parent) frames.push_back(path);
  std::string out;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    if ((*it)->is_index) {
      out += '/';
      out += std::to_string((*it)->index);
    } else {
      append_pointer_token(out, (*it)->key);
    }
  }
  return out;
}

constexpr int kMaxEvaluationDepth = 2000;

// The references being followed, innermost first: a reference that comes back to a schema it is
// already applying to the same instance value would recurse forever.
struct RefFrame {
  const RefFrame* parent;
  const Node* target;
  const Value* instance;
};

struct Eval {
  std::vector<ValidationError>* errors = nullptr;  // nullptr: only the verdict is wanted
  const RefFrame* refs = nullptr;
  size_t max_errors = 16;
  bool dynamic = false;  // the schema uses $dynamicRef: keep the dynamic scope
  int depth = 0;

  // Whether evaluation must go on after a failure (to report more errors).
  bool keep_going() const { return errors != nullptr && errors->size() < max_errors; }
  void report(const Path* path, const std::string& location, std::string message) {
    if (errors == nullptr || errors->size() >= max_errors) return;
    errors->push_back({pointer_of(path), location, std::move(message)});
  }
};

// Evaluation with error reporting switched off, for subschemas whose failure is not itself an
// error (anyOf branches, not, if, contains).
class Quiet {
 public:
  explicit Quiet(Eval& ev) : ev_(ev), saved_(ev.errors) { ev.errors = nullptr; }
  ~Quiet() { ev_.errors = saved_; }
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  Eval& ev_;
  std::vector<ValidationError>* saved_;
};

class Keyword {
 public:
  explicit Keyword(std::string location) : location_(std::move(location)) {}
  virtual ~Keyword() = default;
  // `ann` is non-null when the enclosing schema collects annotations for unevaluated*.
  virtual bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
                     Annotations* ann) const = 0;

 protected:
  std::string location_;
};

struct Node {
  int boolean = -1;       // 0 or 1 for the boolean schemas false and true
  bool collects = false;  // has unevaluatedProperties / unevaluatedItems
  const Resource* resource = nullptr;
  std::string location;
  std::vector<std::unique_ptr<Keyword>> keywords;
};

bool evaluate(const Node& node, const Value& v, Eval& ev, const Path* path, const Scope* scope,
              Annotations* ann) {
  if (node.boolean >= 0) {
    if (node.boolean == 0) ev.report(path, node.location, "no value is allowed here");
    return node.boolean == 1;
  }
  if (ev.depth >= kMaxEvaluationDepth) {
    ev.report(path, node.location, "schema references recurse without end");
    return false;
  }
  ++ev.depth;
  Scope frame{scope, node.resource};
  if (ev.dynamic && (scope == nullptr || scope->resource != node.resource)) scope = &frame;
  bool ok = true;
  if (ann == nullptr && !node.collects) {
    for (const auto& keyword : node.keywords) {
      if (!keyword->check(v, ev, path, scope, nullptr)) {
        ok = false;
        if (!ev.keep_going()) break;
      }
    }
  } else {
    Annotations local;
    local.size_for(v);
    for (const auto& keyword : node.keywords) {
      if (!keyword->check(v, ev, path, scope, &local)) {
        ok = false;
        if (!ev.keep_going()) break;
      }
    }
    if (ok && ann != nullptr) ann->merge(local);
  }
  --ev.depth;
  return ok;
}

std::string describe(const Value& v) {
  std::string text = json::to_json(v);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// ---- validation vocabulary ----

class TypeKeyword : public Keyword {
 public:
  TypeKeyword(std::string location, unsigned mask, std::string names)
      : Keyword(std::move(location)), mask_(mask), names_(std::move(names)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (type_bits(v) & mask_) return true;
    ev.report(path, location_,
              fmt::format("must be of type {}, not {}", names_, json::type_name(v.type())));
    return false;
  }

 private:
  unsigned mask_;
  std::string names_;
};

class EnumKeyword : public Keyword {
 public:
  EnumKeyword(std::string location, std::vector<Value> values, bool is_const)
      : Keyword(std::move(location)), values_(std::move(values)), is_const_(is_const) {
    for (const Value& value : values_) {
      if (value.is_string()) strings_.push_back(value.as_string());
    }
    only_plain_strings_ = strings_.size() == values_.size();
  }
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (v.is_string() && only_plain_strings_) {
      // The common enum of strings: compare bytes, no generic equality.
      for (std::string_view candidate : strings_) {
        if (candidate == v.as_string()) return true;
      }
    } else {
      for (const Value& candidate : values_) {
        if (schema_equal(v, candidate)) return true;
      }
    }
    if (is_const_) {
      ev.report(path, location_, fmt::format("must be {}", describe(values_[0])));
    } else {
      std::string list;
      for (size_t i = 0; i < values_.size() && i < 8; ++i) {
        list += i ? ", " : "";
        list += describe(values_[i]);
      }
      if (values_.size() > 8) list += ", ...";
      ev.report(path, location_, fmt::format("must be one of {}", list));
    }
    return false;
  }

 private:
  std::vector<Value> values_;
  std::vector<std::string_view> strings_;
  bool only_plain_strings_ = false;
  bool is_const_;
};

class NumberBoundKeyword : public Keyword {
 public:
  enum Kind { kMinimum, kMaximum, kExclusiveMinimum, kExclusiveMaximum };
  NumberBoundKeyword(std::string location, Kind kind, Value bound)
      : Keyword(std::move(location)), kind_(kind), bound_(bound) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (!is_numeric(v)) return true;
    int order = compare_numbers(v, bound_);
    bool ok = order != 2 && (kind_ == kMinimum            ? order >= 0
                             : kind_ == kMaximum          ? order <= 0
                             : kind_ == kExclusiveMinimum ? order > 0
                                                          : order < 0);
    if (ok) return true;
    static constexpr const char* kOps[] = {">=", "<=", ">", "<"};
    ev.report(path, location_, fmt::format("must be {} {}", kOps[kind_], describe(bound_)));
    return false;
  }

 private:
  Kind kind_;
  Value bound_;
};

class MultipleOfKeyword : public Keyword {
 public:
  MultipleOfKeyword(std::string location, Value divisor)
      : Keyword(std::move(location)), divisor_(divisor) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (!is_numeric(v) || is_multiple_of(v, divisor_)) return true;
    ev.report(path, location_, fmt::format("must be a multiple of {}", describe(divisor_)));
    return false;
  }

 private:
  Value divisor_;
};

class CountKeyword : public Keyword {
 public:
  enum What { kLength, kItems, kProperties };
  CountKeyword(std::string location, What what, bool is_max, uint64_t limit)
      : Keyword(std::move(location)), what_(what), is_max_(is_max), limit_(limit) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    uint64_t count;
    if (what_ == kLength) {
      std::string scratch;
      std::string_view text;
      if (!string_form(v, scratch, text)) return true;
      count = code_points(text);
    } else if (what_ == kItems) {
      if (!v.is_array()) return true;
      count = v.size();
    } else {
      if (!v.is_object()) return true;
      count = v.size();
    }
    if (is_max_ ? count <= limit_ : count >= limit_) return true;
    static constexpr const char* kUnits[2][3] = {{"character", "item", "property"},
                                                 {"characters", "items", "properties"}};
    ev.report(path, location_,
              fmt::format("must have {} {} {}, has {}", is_max_ ? "at most" : "at least", limit_,
                          kUnits[limit_ != 1][what_], count));
    return false;
  }

 private:
  What what_;
  bool is_max_;
  uint64_t limit_;
};

class PatternKeyword : public Keyword {
 public:
  PatternKeyword(std::string location, std::shared_ptr<const Pattern> re, std::string source)
      : Keyword(std::move(location)), re_(std::move(re)), source_(std::move(source)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    std::string scratch;
    std::string_view text;
    if (!string_form(v, scratch, text) || re_->search(text)) return true;
    ev.report(path, location_, fmt::format("must match the pattern {}", source_));
    return false;
  }

 private:
  std::shared_ptr<const Pattern> re_;
  std::string source_;
};

class FormatKeyword : public Keyword {
 public:
  FormatKeyword(std::string location, FormatCheck format, std::string name)
      : Keyword(std::move(location)), format_(format), name_(std::move(name)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    std::string scratch;
    std::string_view text;
    if (!string_form(v, scratch, text) || format_(text)) return true;
    ev.report(path, location_, fmt::format("must be a valid {}", name_));
    return false;
  }

 private:
  FormatCheck format_;
  std::string name_;
};

class UniqueItemsKeyword : public Keyword {
 public:
  using Keyword::Keyword;
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (!v.is_array()) return true;
    auto items = v.items();
    size_t first = 0, second = 0;
    if (!find_duplicate(items, first, second)) return true;
    ev.report(path, location_,
              fmt::format("must not have equal items (items {} and {} are equal)", first, second));
    return false;
  }

 private:
  static bool find_duplicate(std::span<const Value> items, size_t& first, size_t& second) {
    if (items.size() <= 16) {
      for (size_t i = 0; i < items.size(); ++i) {
        for (size_t j = i + 1; j < items.size(); ++j) {
          if (schema_equal(items[i], items[j])) {
            first = i;
            second = j;
            return true;
          }
        }
      }
      return false;
    }
    // Large arrays: compare only items whose hashes collide.
    std::vector<std::pair<size_t, size_t>> hashed(items.size());
    for (size_t i = 0; i < items.size(); ++i) hashed[i] = {schema_hash(items[i]), i};
    std::sort(hashed.begin(), hashed.end());
    bool found = false;
    for (size_t i = 0; i < hashed.size(); ++i) {
      for (size_t j = i + 1; j < hashed.size() && hashed[j].first == hashed[i].first; ++j) {
        size_t a = std::min(hashed[i].second, hashed[j].second);
        size_t b = std::max(hashed[i].second, hashed[j].second);
        if (schema_equal(items[a], items[b]) &&
            (!found || a < first || (a == first && b < second))) {
          first = a;
          second = b;
          found = true;
        }
      }
    }
    return found;
  }
};

class RequiredKeyword : public Keyword {
 public:
  RequiredKeyword(std::string location, std::vector<std::string> names)
      : Keyword(std::move(location)), names_(std::move(names)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const std::string& name : names_) {
      if (v.find(name) != nullptr) continue;
      ok = false;
      ev.report(path, location_, fmt::format("missing required property \"{}\"", name));
      if (!ev.keep_going()) break;
    }
    return ok;
  }

 private:
  std::vector<std::string> names_;
};

class DependentRequiredKeyword : public Keyword {
 public:
  DependentRequiredKeyword(std::string location,
                           std::vector<std::pair<std::string, std::vector<std::string>>> rules)
      : Keyword(std::move(location)), rules_(std::move(rules)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope*,
             Annotations*) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const auto& [trigger, names] : rules_) {
      if (v.find(trigger) == nullptr) continue;
      for (const std::string& name : names) {
        if (v.find(name) != nullptr) continue;
        ok = false;
        ev.report(
            path, location_,
            fmt::format("missing property \"{}\", required when \"{}\" is present", name, trigger));
        if (!ev.keep_going()) return false;
      }
    }
    return ok;
  }

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> rules_;
};

// ---- applicators ----

// properties, patternProperties and additionalProperties in one pass over the members, with
// the `required` names that are also properties checked on the way (a bit per name).
class ObjectKeyword : public Keyword {
 public:
  struct PatternNode {
    std::shared_ptr<const Pattern> re;
    const Node* node;
  };
  ObjectKeyword(std::string location, std::vector<std::pair<std::string, const Node*>> properties,
                std::vector<PatternNode> patterns, const Node* additional,
                std::vector<std::string> required, std::string required_location)
      : Keyword(std::move(location)),
        patterns_(std::move(patterns)),
        additional_(additional),
        required_(std::move(required)),
        required_location_(std::move(required_location)) {
    for (auto& [name, node] : properties) {
      int bit = -1;
      auto it = std::find(required_.begin(), required_.end(), name);
      if (it != required_.end()) bit = static_cast<int>(it - required_.begin());
      properties_.push_back({std::move(name), node, bit});
    }
    if (!required_.empty()) required_all_ = ~0ULL >> (64 - required_.size());
    for (size_t i = 0; i < properties_.size(); ++i) {
      size_t length = std::min(properties_[i].name.size(), kLongName);
      if (by_length_.size() <= length) by_length_.resize(length + 1);
      by_length_[length].push_back(static_cast<uint32_t>(i));
    }
  }

  // Whether `required` can be checked here: every name is a property, at most 64 of them.
  static bool can_take_required(const std::vector<std::pair<std::string, const Node*>>& properties,
                                const std::vector<std::string>& required) {
    if (required.size() > 64) return false;
    for (const std::string& name : required) {
      bool found = false;
      for (const auto& property : properties) found = found || property.first == name;
      if (!found) return false;
    }
    return true;
  }

  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    uint64_t seen = 0;
    auto members = v.members();
    for (size_t i = 0; i < members.size(); ++i) {
      const json::Member& member = members[i];
      Path child{path, member.key, 0, false};
      bool matched = false;
      if (const Property* property = find_property(member.key)) {
        matched = true;
        if (property->required_bit >= 0) seen |= 1ULL << property->required_bit;
        if (!evaluate(*property->node, member.value, ev, &child, scope, nullptr)) {
          ok = false;
          if (!ev.keep_going()) return false;
        }
      }
      for (const PatternNode& pattern : patterns_) {
        if (!pattern.re->search(member.key)) continue;
        matched = true;
        if (!evaluate(*pattern.node, member.value, ev, &child, scope, nullptr)) {
          ok = false;
          if (!ev.keep_going()) return false;
        }
      }
      if (!matched && additional_ != nullptr) {
        matched = true;
        if (additional_->boolean == 0) {
          ev.report(&child, additional_->location,
                    fmt::format("property \"{}\" is not allowed", member.key));
          ok = false;
          if (!ev.keep_going()) return false;
        } else if (!evaluate(*additional_, member.value, ev, &child, scope, nullptr)) {
          ok = false;
          if (!ev.keep_going()) return false;
        }
      }
      if (ann != nullptr && matched) ann->props[i] = true;
    }
    if (seen != required_all_) {
      for (size_t bit = 0; bit < required_.size(); ++bit) {
        if (seen & (1ULL << bit)) continue;
        ev.report(path, required_location_,
                  fmt::format("missing required property \"{}\"", required_[bit]));
        if (!ev.keep_going()) break;
      }
      return false;
    }
    return ok;
  }

 private:
  static constexpr size_t kLongName = 64;  // names this long and longer share one bucket
  struct Property {
    std::string name;
    const Node* node;
    int required_bit;
  };

  const Property* find_property(std::string_view key) const {
    size_t length = std::min(key.size(), kLongName);
    if (length >= by_length_.size()) return nullptr;
    for (uint32_t index : by_length_[length]) {
      const Property& property = properties_[index];
      // Names of one length usually differ at their ends: check those before all the bytes.
      if (property.name.size() == key.size() &&
          (key.empty() ||
           (property.name.back() == key.back() && property.name.front() == key.front())) &&
          property.name == key) {
        return &property;
      }
    }
    return nullptr;
  }

  std::vector<Property> properties_;
  std::vector<std::vector<uint32_t>> by_length_;  // property indices by name length
  std::vector<PatternNode> patterns_;
  const Node* additional_;
  std::vector<std::string> required_;
  std::string required_location_;
  uint64_t required_all_ = 0;
};

class PropertyNamesKeyword : public Keyword {
 public:
  PropertyNamesKeyword(std::string location, const Node* node)
      : Keyword(std::move(location)), node_(node) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations*) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const json::Member& member : v.members()) {
      Path child{path, member.key, 0, false};
      bool passed;
      {
        Quiet quiet(ev);
        passed = evaluate(*node_, Value::string(member.key), ev, &child, scope, nullptr);
      }
      if (passed) continue;
      ok = false;
      ev.report(&child, location_, fmt::format("property name \"{}\" is not allowed", member.key));
      if (!ev.keep_going()) return false;
    }
    return ok;
  }

 private:
  const Node* node_;
};

class DependentSchemasKeyword : public Keyword {
 public:
  DependentSchemasKeyword(std::string location,
                          std::vector<std::pair<std::string, const Node*>> rules)
      : Keyword(std::move(location)), rules_(std::move(rules)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const auto& [trigger, node] : rules_) {
      if (v.find(trigger) == nullptr) continue;
      if (!evaluate(*node, v, ev, path, scope, ann)) {
        ok = false;
        if (!ev.keep_going()) return false;
      }
    }
    return ok;
  }

 private:
  std::vector<std::pair<std::string, const Node*>> rules_;
};

// prefixItems + items (2020-12), or items as an array + additionalItems (draft 7).
class ItemsKeyword : public Keyword {
 public:
  ItemsKeyword(std::string location, std::vector<const Node*> prefix, const Node* rest)
      : Keyword(std::move(location)), prefix_(std::move(prefix)), rest_(rest) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    if (!v.is_array()) return true;
    bool ok = true;
    auto items = v.items();
    for (size_t i = 0; i < items.size(); ++i) {
      const Node* node = i < prefix_.size() ? prefix_[i] : rest_;
      if (node == nullptr) break;
      Path child{path, {}, i, true};
      if (node->boolean == 0 && node == rest_) {
        ev.report(&child, node->location,
                  fmt::format("must have at most {} item{}, has {}", prefix_.size(),
                              prefix_.size() == 1 ? "" : "s", items.size()));
        return false;
      }
      if (!evaluate(*node, items[i], ev, &child, scope, nullptr)) {
        ok = false;
        if (!ev.keep_going()) return false;
      }
      if (ann != nullptr) ann->items[i] = true;
    }
    return ok;
  }

 private:
  std::vector<const Node*> prefix_;
  const Node* rest_;
};

class ContainsKeyword : public Keyword {
 public:
  ContainsKeyword(std::string location, const Node* node, uint64_t min, uint64_t max)
      : Keyword(std::move(location)), node_(node), min_(min), max_(max) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    if (!v.is_array()) return true;
    uint64_t count = 0;
    bool unbounded = max_ == std::numeric_limits<uint64_t>::max();
    auto items = v.items();
    {
      Quiet quiet(ev);
      for (size_t i = 0; i < items.size(); ++i) {
        Path child{path, {}, i, true};
        if (evaluate(*node_, items[i], ev, &child, scope, nullptr)) {
          ++count;
          if (ann != nullptr) {
            ann->items[i] = true;
          } else if (count >= min_ && (unbounded || count > max_)) {
            break;
          }
        }
      }
    }
    if (count >= min_ && count <= max_) return true;
    if (count < min_) {
      ev.report(path, location_,
                min_ == 1 ? std::string("must contain an item matching the contains schema")
                          : fmt::format("must contain at least {} items matching the contains "
                                        "schema, has {}",
                                        min_, count));
    } else {
      ev.report(path, location_,
                fmt::format("must contain at most {} items matching the contains schema", max_));
    }
    return false;
  }

 private:
  const Node* node_;
  uint64_t min_;
  uint64_t max_;
};

class AllOfKeyword : public Keyword {
 public:
  AllOfKeyword(std::string location, std::vector<const Node*> nodes)
      : Keyword(std::move(location)), nodes_(std::move(nodes)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    bool ok = true;
    for (const Node* node : nodes_) {
      if (!evaluate(*node, v, ev, path, scope, ann)) {
        ok = false;
        if (!ev.keep_going()) return false;
      }
    }
    return ok;
  }

 private:
  std::vector<const Node*> nodes_;
};

class AnyOfKeyword : public Keyword {
 public:
  AnyOfKeyword(std::string location, std::vector<const Node*> nodes)
      : Keyword(std::move(location)), nodes_(std::move(nodes)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    bool any = false;
    {
      Quiet quiet(ev);
      for (const Node* node : nodes_) {
        if (evaluate(*node, v, ev, path, scope, ann)) {
          any = true;
          if (ann == nullptr) break;  // annotations need every passing branch
        }
      }
    }
    if (!any) {
      ev.report(path, location_,
                fmt::format("must match at least one of the {} anyOf schemas", nodes_.size()));
    }
    return any;
  }

 private:
  std::vector<const Node*> nodes_;
};

class OneOfKeyword : public Keyword {
 public:
  OneOfKeyword(std::string location, std::vector<const Node*> nodes)
      : Keyword(std::move(location)), nodes_(std::move(nodes)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    size_t passed = 0, first = 0, second = 0;
    Annotations collected;
    if (ann != nullptr) collected.size_for(v);
    {
      Quiet quiet(ev);
      for (size_t i = 0; i < nodes_.size() && passed < 2; ++i) {
        if (!evaluate(*nodes_[i], v, ev, path, scope, ann != nullptr ? &collected : nullptr)) {
          continue;
        }
        (passed == 0 ? first : second) = i;
        ++passed;
      }
    }
    if (passed == 1) {
      if (ann != nullptr) ann->merge(collected);
      return true;
    }
    ev.report(path, location_,
              passed == 0 ? fmt::format("must match exactly one of the {} oneOf schemas, matches "
                                        "none",
                                        nodes_.size())
                          : fmt::format("must match exactly one oneOf schema, matches {} and {}",
                                        first, second));
    return false;
  }

 private:
  std::vector<const Node*> nodes_;
};

class NotKeyword : public Keyword {
 public:
  NotKeyword(std::string location, const Node* node) : Keyword(std::move(location)), node_(node) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations*) const override {
    bool passed;
    {
      Quiet quiet(ev);
      passed = evaluate(*node_, v, ev, path, scope, nullptr);
    }
    if (passed) ev.report(path, location_, "must not match the schema in not");
    return !passed;
  }

 private:
  const Node* node_;
};

class IfKeyword : public Keyword {
 public:
  IfKeyword(std::string location, const Node* if_node, const Node* then_node, const Node* else_node)
      : Keyword(std::move(location)), if_(if_node), then_(then_node), else_(else_node) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    if (then_ == nullptr && else_ == nullptr && ann == nullptr) return true;
    bool condition;
    {
      Quiet quiet(ev);
      condition = evaluate(*if_, v, ev, path, scope, ann);
    }
    const Node* branch = condition ? then_ : else_;
    return branch == nullptr || evaluate(*branch, v, ev, path, scope, ann);
  }

 private:
  const Node* if_;
  const Node* then_;
  const Node* else_;
};

// Applies a reference's target, failing instead of recursing when it is already being applied to
// this very value (only in-place applicators lie between, so the frames to look at are the
// innermost ones with the same instance).
bool follow(const Node& target, const Value& v, Eval& ev, const Path* path, const Scope* scope,
            Annotations* ann, const std::string& location) {
  for (const RefFrame* frame = ev.refs; frame != nullptr && frame->instance == &v;
       frame = frame->parent) {
    if (frame->target == &target) {
      ev.report(path, location, "the schema refers to itself without end for this value");
      return false;
    }
  }
  RefFrame frame{ev.refs, &target, &v};
  ev.refs = &frame;
  bool ok = evaluate(target, v, ev, path, scope, ann);
  ev.refs = frame.parent;
  return ok;
}

class RefKeyword : public Keyword {
 public:
  RefKeyword(std::string location, const Node* target)
      : Keyword(std::move(location)), target_(target) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    return follow(*target_, v, ev, path, scope, ann, location_);
  }

 private:
  const Node* target_;
};

class DynamicRefKeyword : public Keyword {
 public:
  // `anchor` is empty when the reference resolves like $ref (its target has no $dynamicAnchor
  // of the fragment's name).
  DynamicRefKeyword(std::string location, const Node* target, std::string anchor)
      : Keyword(std::move(location)), target_(target), anchor_(std::move(anchor)) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    const Node* target = target_;
    if (!anchor_.empty()) {
      // The outermost resource in the dynamic scope that has the anchor wins.
      for (const Scope* s = scope; s != nullptr; s = s->parent) {
        auto it = s->resource->dynamic_nodes.find(anchor_);
        if (it != s->resource->dynamic_nodes.end()) target = it->second;
      }
    }
    return follow(*target, v, ev, path, scope, ann, location_);
  }

 private:
  const Node* target_;
  std::string anchor_;
};

class UnevaluatedKeyword : public Keyword {
 public:
  UnevaluatedKeyword(std::string location, const Node* node, bool properties)
      : Keyword(std::move(location)), node_(node), properties_(properties) {}
  bool check(const Value& v, Eval& ev, const Path* path, const Scope* scope,
             Annotations* ann) const override {
    bool ok = true;
    if (properties_ && v.is_object()) {
      auto members = v.members();
      for (size_t i = 0; i < members.size(); ++i) {
        if (ann->props[i]) continue;
        Path child{path, members[i].key, 0, false};
        if (node_->boolean == 0) {
          ev.report(&child, location_,
                    fmt::format("property \"{}\" is not allowed (unevaluated)", members[i].key));
          ok = false;
        } else if (!evaluate(*node_, members[i].value, ev, &child, scope, nullptr)) {
          ok = false;
        }
        if (!ok && !ev.keep_going()) return false;
        ann->props[i] = true;
      }
    } else if (!properties_ && v.is_array()) {
      auto items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (ann->items[i]) continue;
        Path child{path, {}, i, true};
        if (node_->boolean == 0) {
          ev.report(&child, location_, "item is not allowed (unevaluated)");
          ok = false;
        } else if (!evaluate(*node_, items[i], ev, &child, scope, nullptr)) {
          ok = false;
        }
        if (!ok && !ev.keep_going()) return false;
        ann->items[i] = true;
      }
    }
    return ok;
  }

 private:
  const Node* node_;
  bool properties_;
};

}  // namespace

struct Validator::Compiled {
  Arena arena;
  std::vector<std::unique_ptr<Resource>> resources;
  std::vector<std::unique_ptr<Node>> nodes;
  const Node* root = nullptr;
  bool dynamic = false;
  size_t max_errors = 16;
};

namespace {

constexpr std::string_view kVocabValidation =
    "https://json-schema.org/draft/2020-12/vocab/validation";
constexpr std::string_view kVocabFormatAssertion =
    "https://json-schema.org/draft/2020-12/vocab/format-assertion";

class Compiler {
 public:
  Compiler(Validator::Compiled& out, const ValidatorOptions& options)
      : out_(out), options_(options) {}

  Status compile(const Value& schema) {
    Value* root = out_.arena.allocate_array<Value>(1);
    *root = json::deep_copy(schema, out_.arena);
    std::string_view base, fragment;
    split_fragment(options_.base_uri, base, fragment);
    Dialect dialect;
    if (options_.default_draft == schema::Draft::k7) dialect.draft = Draft::k7;
    auto resource = add_document(root, std::string(base), "", dialect);
    if (!resource) return resource.take_status();
    auto node = node_for(root);
    if (!node) return node.take_status();
    out_.root = *node;
    // Every resource's dynamic anchors get nodes, so that $dynamicRef finds them at run time;
    // compiling them may load more resources, hence the index loop.
    for (size_t i = 0; i < out_.resources.size(); ++i) {
      Resource& r = *out_.resources[i];
      for (const auto& [name, value] : r.dynamic_anchors) {
        auto anchor_node = node_for(value);
        if (!anchor_node) return anchor_node.take_status();
        r.dynamic_nodes[name] = *anchor_node;
      }
    }
    out_.dynamic = uses_dynamic_ref_;
    return Status::ok();
  }

 private:
  struct Info {
    std::string base;
    Resource* resource;
    std::string location;
    Dialect dialect;
  };

  static Status schema_error(const std::string& location, std::string message) {
    return Status(ErrorCode::kSchema, std::move(message), location.empty() ? "/" : location);
  }

  // ---- dialects ----

  Dialect dialect_of(const Value& schema, Dialect inherited, int depth = 0) {
    const Value* uri = schema.find("$schema");
    if (uri == nullptr || !uri->is_string()) return inherited;
    std::string_view text = uri->as_string();
    if (text.ends_with("#")) text.remove_suffix(1);
    if (text == "http://json-schema.org/draft-07/schema" ||
        text == "http://json-schema.org/draft-06/schema" ||
        text == "http://json-schema.org/draft-04/schema") {
      return Dialect{Draft::k7};
    }
    if (text == "https://json-schema.org/draft/2020-12/schema" ||
        text == "https://json-schema.org/draft/2019-09/schema") {
      return Dialect{Draft::k2020};
    }
    // A custom metaschema: its $vocabulary says which keywords apply.
    if (!options_.resolve_remote || depth > 8) return inherited;
    auto text_of = options_.resolve_remote(text);
    if (!text_of) return inherited;
    auto meta = json::parse(*text_of, out_.arena, plain_json());
    if (!meta) return inherited;
    const Value* vocabulary = meta->find("$vocabulary");
    if (vocabulary == nullptr || !vocabulary->is_object()) {
      return dialect_of(*meta, inherited, depth + 1);
    }
    Dialect dialect{Draft::k2020, false, false};
    for (const json::Member& member : vocabulary->members()) {
      if (member.key == kVocabValidation) dialect.validation = true;
      if (member.key == kVocabFormatAssertion) dialect.format_assertion = true;
    }
    return dialect;
  }

  static json::ParseOptions plain_json() {
    json::ParseOptions options;
    options.extended_json = false;
    return options;
  }

  // ---- indexing: identifiers, anchors and the base URI of every subschema ----

  Result<Resource*> add_document(const Value* root, std::string uri, std::string location,
                                 Dialect inherited) {
    Dialect dialect = root->is_object() ? dialect_of(*root, inherited) : inherited;
    Resource* resource = new_resource(uri, root, location, dialect);
    CANONRY_RETURN_IF_ERROR(index(root, uri, resource, location, dialect, true));
    return resource;
  }

  Resource* new_resource(const std::string& uri, const Value* root, const std::string& location,
                         Dialect dialect) {
    out_.resources.push_back(std::make_unique<Resource>());
    Resource* resource = out_.resources.back().get();
    resource->uri = uri;
    resource->root = root;
    resource->location = location;
    resource->dialect = dialect;
    resources_.emplace(uri, resource);  // the first one registered under a URI wins
    return resource;
  }

  Status index(const Value* v, std::string base, Resource* resource, const std::string& location,
               Dialect dialect, bool is_root) {
    if (!v->is_object()) {
      infos_.emplace(v, Info{base, resource, location, dialect});
      return Status::ok();
    }
    bool draft7 = dialect.draft == Draft::k7;
    const Value* id = v->find("$id");
    if (id != nullptr && id->is_string() && !(draft7 && v->find("$ref") != nullptr)) {
      std::string resolved = resolve_uri(base, id->as_string());
      std::string_view without, fragment;
      split_fragment(resolved, without, fragment);
      if (draft7 && id->as_string().starts_with('#')) {
        anchors_.emplace(resolved, v);
      } else {
        if (!is_root) {
          dialect = dialect_of(*v, dialect);
          draft7 = dialect.draft == Draft::k7;
          resource = new_resource(std::string(without), v, location, dialect);
        } else if (resource->uri != without) {
          resources_.emplace(std::string(without), resource);
          resource->uri = std::string(without);
        }
        base = std::string(without);
        if (draft7 && !fragment.empty()) anchors_.emplace(resolved, v);
      }
    }
    if (!draft7) {
      for (const char* keyword : {"$anchor", "$dynamicAnchor"}) {
        const Value* anchor = v->find(keyword);
        if (anchor == nullptr) continue;
        if (!anchor->is_string()) {
          return schema_error(location + "/" + keyword, std::string(keyword) + " must be a string");
        }
        anchors_.emplace(resource->uri + "#" + std::string(anchor->as_string()), v);
        if (keyword[1] == 'd') resource->dynamic_anchors.emplace(anchor->as_string(), v);
      }
    }
    infos_.emplace(v, Info{base, resource, location, dialect});
    for (const json::Member& member : v->members()) {
      std::string at = location;
      append_pointer_token(at, member.key);
      const Value& value = member.value;
      std::string_view key = member.key;
      bool single = key == "additionalProperties" || key == "propertyNames" || key == "not" ||
                    key == "if" || key == "then" || key == "else" || key == "contains" ||
                    key == "items" || (draft7 && key == "additionalItems") ||
                    (!draft7 && (key == "unevaluatedProperties" || key == "unevaluatedItems" ||
                                 key == "contentSchema"));
      bool list = key == "allOf" || key == "anyOf" || key == "oneOf" ||
                  (!draft7 && key == "prefixItems") || (draft7 && key == "items");
      bool map = key == "properties" || key == "patternProperties" || key == "dependencies" ||
                 (draft7 ? key == "definitions" : key == "$defs" || key == "dependentSchemas");
      if (single && (value.is_object() || value.type() == Type::kBool)) {
        CANONRY_RETURN_IF_ERROR(index(&value, base, resource, at, dialect, false));
      } else if (list && value.is_array()) {
        auto items = value.items();
        for (size_t i = 0; i < items.size(); ++i) {
          CANONRY_RETURN_IF_ERROR(
              index(&items[i], base, resource, at + "/" + std::to_string(i), dialect, false));
        }
      } else if (map && value.is_object()) {
        for (const json::Member& entry : value.members()) {
          std::string entry_at = at;
          append_pointer_token(entry_at, entry.key);
          if (entry.value.is_object() || entry.value.type() == Type::kBool) {
            CANONRY_RETURN_IF_ERROR(index(&entry.value, base, resource, entry_at, dialect, false));
          }
        }
      }
    }
    return Status::ok();
  }

  // ---- references ----

  Result<Resource*> resource_for(const std::string& uri, const Info& from) {
    if (auto it = resources_.find(uri); it != resources_.end()) return it->second;
    Result<std::string> text =
        options_.resolve_remote
            ? options_.resolve_remote(uri)
            : Result<std::string>(Status(ErrorCode::kSchema, "no remote resolver"));
    if (!text) {
      // The metaschemas are known without asking anyone.
      std::string_view builtin = builtin_metaschema(uri);
      if (builtin.empty()) {
        return Status(ErrorCode::kSchema,
                      "cannot resolve \"" + uri + "\": " + text.status().message());
      }
      text = std::string(builtin);
    }
    auto parsed = json::parse(*text, out_.arena, plain_json());
    if (!parsed) {
      return Status(ErrorCode::kSchema,
                    "the schema at \"" + uri + "\" is not JSON: " + parsed.status().message());
    }
    Value* root = out_.arena.allocate_array<Value>(1);
    *root = *parsed;
    auto added = add_document(root, uri, uri + "#", from.dialect);
    if (!added) return added.take_status();
    resources_.emplace(uri, *added);
    return *added;
  }

  // The schema a reference names, with its Info registered.
  Result<const Value*> resolve(std::string_view reference, const Info& from, std::string& fragment,
                               Resource*& resource) {
    std::string absolute = resolve_uri(from.base, reference);
    std::string_view without, raw_fragment;
    split_fragment(absolute, without, raw_fragment);
    auto found = resource_for(std::string(without), from);
    if (!found) return found.take_status();
    resource = *found;
    if (!percent_decode(raw_fragment, fragment)) {
      return Status(ErrorCode::kSchema, "malformed fragment in \"" + absolute + "\"");
    }
    if (fragment.empty()) return resource->root;
    if (fragment[0] != '/') {
      auto it = anchors_.find(resource->uri + "#" + fragment);
      if (it == anchors_.end()) {
        return Status(ErrorCode::kSchema,
                      "no anchor \"" + fragment + "\" in \"" + resource->uri + "\"");
      }
      return it->second;
    }
    // A JSON pointer from the resource's root; locations not indexed (inside unknown keywords)
    // take the base of the nearest indexed ancestor.
    const Value* at = resource->root;
    auto root_info = infos_.find(at);
    if (root_info == infos_.end()) return Status(ErrorCode::kInternal, "resource not indexed");
    Info info = root_info->second;
    size_t start = 1;
    while (start <= fragment.size()) {
      size_t end = fragment.find('/', start);
      if (end == std::string::npos) end = fragment.size();
      std::string token;
      for (size_t i = start; i < end; ++i) {
        if (fragment[i] == '~' && i + 1 < end &&
            (fragment[i + 1] == '0' || fragment[i + 1] == '1')) {
          token += fragment[++i] == '0' ? '~' : '/';
        } else {
          token += fragment[i];
        }
      }
      const Value* next = nullptr;
      if (at->is_object()) {
        next = at->find(token);
      } else if (at->is_array() && !token.empty() && token.size() <= 9 &&
                 token.find_first_not_of("0123456789") == std::string::npos) {
        next = at->at(std::strtoul(token.c_str(), nullptr, 10));
      }
      if (next == nullptr) {
        return Status(ErrorCode::kSchema, "\"" + absolute + "\" points to nothing");
      }
      at = next;
      if (auto it = infos_.find(at); it != infos_.end()) {
        info = it->second;
      } else {
        append_pointer_token(info.location, token);
      }
      start = end + 1;
    }
    if (!at->is_object() && at->type() != Type::kBool) {
      return Status(ErrorCode::kSchema, "\"" + absolute + "\" does not point to a schema");
    }
    if (!infos_.count(at)) {
      // Reached only through a pointer (inside an unknown keyword, or a keyword of another
      // draft): index it now, subschemas included.
      CANONRY_RETURN_IF_ERROR(
          index(at, info.base, info.resource, info.location, info.dialect, false));
    }
    return at;
  }

  // ---- compiling ----

  Result<const Node*> node_for(const Value* v) {
    if (auto it = nodes_.find(v); it != nodes_.end()) return it->second;
    auto found = infos_.find(v);
    if (found == infos_.end()) return Status(ErrorCode::kInternal, "schema location not indexed");
    const Info& info = found->second;
    out_.nodes.push_back(std::make_unique<Node>());
    Node* node = out_.nodes.back().get();
    nodes_.emplace(v, node);
    node->resource = info.resource;
    node->location = info.location;
    if (v->type() == Type::kBool) {
      node->boolean = v->as_bool() ? 1 : 0;
      return node;
    }
    if (!v->is_object())
      return schema_error(info.location, "a schema must be an object or a boolean");
    CANONRY_RETURN_IF_ERROR(compile_keywords(*v, Info(info), *node));
    return node;
  }

  Result<const Node*> subschema(const Value& value, const std::string& location) {
    if (!value.is_object() && value.type() != Type::kBool) {
      return schema_error(location, "must be a schema (an object or a boolean)");
    }
    return node_for(&value);
  }

  Result<std::vector<const Node*>> schema_list(const Value& value, const std::string& location,
                                               bool allow_empty = false) {
    if (!value.is_array() || (!allow_empty && value.size() == 0)) {
      return schema_error(location, "must be a non-empty array of schemas");
    }
    std::vector<const Node*> nodes;
    auto items = value.items();
    for (size_t i = 0; i < items.size(); ++i) {
      auto node = subschema(items[i], location + "/" + std::to_string(i));
      if (!node) return node.take_status();
      nodes.push_back(*node);
    }
    return nodes;
  }

  static Result<uint64_t> count_value(const Value& value, const std::string& location) {
    if (value.is_integer() && !value.is_big_integer() && value.as_int() >= 0) {
      return static_cast<uint64_t>(value.as_int());
    }
    if (is_numeric(value) && (type_bits(value) & kIntegerBit) && value.as_double() >= 0) {
      double d = value.as_double();
      return d >= 1.8e19 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(d);
    }
    return schema_error(location, "must be a non-negative integer");
  }

  Status compile_keywords(const Value& schema, Info info, Node& node) {
    auto at = [&](std::string_view key) {
      std::string location = info.location;
      append_pointer_token(location, key);
      return location;
    };
    std::vector<std::unique_ptr<Keyword>>& keywords = node.keywords;
    const Draft draft = info.dialect.draft;
    const bool draft7 = draft == Draft::k7;
    std::vector<std::string> required_names;

    auto add_ref = [&](std::string_view key, bool dynamic) -> Status {
      const Value* ref = schema.find(key);
      if (ref == nullptr) return Status::ok();
      if (!ref->is_string()) return schema_error(at(key), std::string(key) + " must be a string");
      std::string fragment;
      Resource* resource = nullptr;
      auto target = resolve(ref->as_string(), info, fragment, resource);
      if (!target) return schema_error(at(key), target.status().message());
      auto target_node = node_for(*target);
      if (!target_node) return target_node.take_status();
      if (!dynamic) {
        keywords.push_back(std::make_unique<RefKeyword>(at(key), *target_node));
        return Status::ok();
      }
      // Dynamic only when the statically found target has a $dynamicAnchor of that name.
      std::string anchor;
      if (!fragment.empty() && fragment[0] != '/' && resource->dynamic_anchors.count(fragment)) {
        anchor = fragment;
        uses_dynamic_ref_ = true;
      }
      keywords.push_back(std::make_unique<DynamicRefKeyword>(at(key), *target_node, anchor));
      return Status::ok();
    };

    if (draft7 && schema.find("$ref") != nullptr) {
      return add_ref("$ref", false);  // draft 7: $ref replaces its siblings
    }

    if (info.dialect.validation) {
      if (const Value* type = schema.find("type")) {
        CANONRY_RETURN_IF_ERROR(compile_type(*type, at("type"), keywords));
      }
      if (const Value* values = schema.find("enum")) {
        if (!values->is_array()) return schema_error(at("enum"), "enum must be an array");
        keywords.push_back(std::make_unique<EnumKeyword>(
            at("enum"), std::vector<Value>(values->items().begin(), values->items().end()), false));
      }
      if (const Value* value = schema.find("const")) {
        keywords.push_back(
            std::make_unique<EnumKeyword>(at("const"), std::vector<Value>{*value}, true));
      }
      static constexpr std::pair<const char*, NumberBoundKeyword::Kind> kBounds[] = {
          {"minimum", NumberBoundKeyword::kMinimum},
          {"maximum", NumberBoundKeyword::kMaximum},
          {"exclusiveMinimum", NumberBoundKeyword::kExclusiveMinimum},
          {"exclusiveMaximum", NumberBoundKeyword::kExclusiveMaximum}};
      for (const auto& [key, kind] : kBounds) {
        const Value* bound = schema.find(key);
        if (bound == nullptr) continue;
        if (!is_numeric(*bound) || type_bits(*bound) == 0) {
          return schema_error(at(key), std::string(key) + " must be a number");
        }
        keywords.push_back(std::make_unique<NumberBoundKeyword>(at(key), kind, *bound));
      }
      if (const Value* divisor = schema.find("multipleOf")) {
        if (!is_numeric(*divisor) || type_bits(*divisor) == 0 ||
            compare_numbers(*divisor, Value::integer(0)) <= 0) {
          return schema_error(at("multipleOf"), "multipleOf must be a number greater than 0");
        }
        keywords.push_back(std::make_unique<MultipleOfKeyword>(at("multipleOf"), *divisor));
      }
      static constexpr std::tuple<const char*, CountKeyword::What, bool> kCounts[] = {
          {"minLength", CountKeyword::kLength, false},
          {"maxLength", CountKeyword::kLength, true},
          {"minItems", CountKeyword::kItems, false},
          {"maxItems", CountKeyword::kItems, true},
          {"minProperties", CountKeyword::kProperties, false},
          {"maxProperties", CountKeyword::kProperties, true}};
      for (const auto& [key, what, is_max] : kCounts) {
        const Value* limit = schema.find(key);
        if (limit == nullptr) continue;
        auto count = count_value(*limit, at(key));
        if (!count) return count.take_status();
        keywords.push_back(std::make_unique<CountKeyword>(at(key), what, is_max, *count));
      }
      if (const Value* pattern = schema.find("pattern")) {
        if (!pattern->is_string()) return schema_error(at("pattern"), "pattern must be a string");
        auto re = compile_pattern(pattern->as_string());
        if (!re) return schema_error(at("pattern"), re.status().message());
        keywords.push_back(std::make_unique<PatternKeyword>(at("pattern"), *re,
                                                            std::string(pattern->as_string())));
      }
      if (const Value* unique = schema.find("uniqueItems")) {
        if (!unique->is_bool())
          return schema_error(at("uniqueItems"), "uniqueItems must be a boolean");
        if (unique->as_bool())
          keywords.push_back(std::make_unique<UniqueItemsKeyword>(at("uniqueItems")));
      }
      if (const Value* required = schema.find("required")) {
        auto names = string_list(*required, at("required"));
        if (!names) return names.take_status();
        required_names = std::move(*names);
      }
      if (!draft7) {
        if (const Value* rules = schema.find("dependentRequired")) {
          CANONRY_RETURN_IF_ERROR(
              compile_dependencies(*rules, at("dependentRequired"), keywords, true, false));
        }
      }
    }
    // Draft 7's keyword; 2020-12 split it in two but schemas written for both still use it.
    if (const Value* rules = schema.find("dependencies")) {
      CANONRY_RETURN_IF_ERROR(
          compile_dependencies(*rules, at("dependencies"), keywords, true, true));
    }
    if (const Value* format = schema.find("format")) {
      if (!format->is_string()) return schema_error(at("format"), "format must be a string");
      if (options_.assert_formats || info.dialect.format_assertion) {
        if (FormatCheck check = find_format(format->as_string())) {
          keywords.push_back(std::make_unique<FormatKeyword>(at("format"), check,
                                                             std::string(format->as_string())));
        }
      }
    }

    // Applicators.
    CANONRY_RETURN_IF_ERROR(add_ref("$ref", false));
    if (!draft7) CANONRY_RETURN_IF_ERROR(add_ref("$dynamicRef", true));
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      const Value* list = schema.find(key);
      if (list == nullptr) continue;
      auto nodes = schema_list(*list, at(key));
      if (!nodes) return nodes.take_status();
      if (key[0] == 'a' && key[1] == 'l') {
        keywords.push_back(std::make_unique<AllOfKeyword>(at(key), std::move(*nodes)));
      } else if (key[0] == 'a') {
        keywords.push_back(std::make_unique<AnyOfKeyword>(at(key), std::move(*nodes)));
      } else {
        keywords.push_back(std::make_unique<OneOfKeyword>(at(key), std::move(*nodes)));
      }
    }
    if (const Value* negated = schema.find("not")) {
      auto n = subschema(*negated, at("not"));
      if (!n) return n.take_status();
      keywords.push_back(std::make_unique<NotKeyword>(at("not"), *n));
    }
    if (const Value* condition = schema.find("if")) {
      auto if_node = subschema(*condition, at("if"));
      if (!if_node) return if_node.take_status();
      const Node* branches[2] = {nullptr, nullptr};
      int i = 0;
      for (const char* key : {"then", "else"}) {
        if (const Value* branch = schema.find(key)) {
          auto n = subschema(*branch, at(key));
          if (!n) return n.take_status();
          branches[i] = *n;
        }
        ++i;
      }
      if (branches[0] != nullptr || branches[1] != nullptr) {
        keywords.push_back(
            std::make_unique<IfKeyword>(at("if"), *if_node, branches[0], branches[1]));
      } else {
        // Alone, `if` only contributes annotations (for an unevaluated* here or further up).
        keywords.push_back(std::make_unique<IfKeyword>(at("if"), *if_node, nullptr, nullptr));
      }
    }
    CANONRY_RETURN_IF_ERROR(compile_object(schema, info, keywords, required_names));
    if (!required_names.empty()) {
      keywords.push_back(
          std::make_unique<RequiredKeyword>(at("required"), std::move(required_names)));
    }
    if (const Value* names = schema.find("propertyNames")) {
      auto n = subschema(*names, at("propertyNames"));
      if (!n) return n.take_status();
      keywords.push_back(std::make_unique<PropertyNamesKeyword>(at("propertyNames"), *n));
    }
    if (!draft7) {
      if (const Value* rules = schema.find("dependentSchemas")) {
        CANONRY_RETURN_IF_ERROR(
            compile_dependencies(*rules, at("dependentSchemas"), keywords, false, true));
      }
    }
    CANONRY_RETURN_IF_ERROR(compile_items(schema, info, keywords));
    if (const Value* contains = schema.find("contains")) {
      auto n = subschema(*contains, at("contains"));
      if (!n) return n.take_status();
      uint64_t min = 1, max = std::numeric_limits<uint64_t>::max();
      if (!draft7 && info.dialect.validation) {
        if (const Value* v = schema.find("minContains")) {
          auto count = count_value(*v, at("minContains"));
          if (!count) return count.take_status();
          min = *count;
        }
        if (const Value* v = schema.find("maxContains")) {
          auto count = count_value(*v, at("maxContains"));
          if (!count) return count.take_status();
          max = *count;
        }
      }
      keywords.push_back(std::make_unique<ContainsKeyword>(at("contains"), *n, min, max));
    }
    if (!draft7) {
      // Last: they see what every other keyword of this schema evaluated.
      for (const char* key : {"unevaluatedItems", "unevaluatedProperties"}) {
        const Value* v = schema.find(key);
        if (v == nullptr) continue;
        auto n = subschema(*v, at(key));
        if (!n) return n.take_status();
        keywords.push_back(std::make_unique<UnevaluatedKeyword>(at(key), *n, key[11] == 'P'));
        node.collects = true;
      }
    }
    return Status::ok();
  }

  Status compile_type(const Value& type, const std::string& location,
                      std::vector<std::unique_ptr<Keyword>>& keywords) {
    static constexpr std::pair<std::string_view, unsigned> kTypes[] = {
        {"null", kNullBit},      {"boolean", kBooleanBit}, {"object", kObjectBit},
        {"array", kArrayBit},    {"number", kNumberBit},   {"string", kStringBit},
        {"integer", kIntegerBit}};
    unsigned mask = 0;
    std::string names;
    auto add = [&](const Value& name) -> bool {
      if (!name.is_string()) return false;
      for (const auto& [type_name, bit] : kTypes) {
        if (name.as_string() != type_name) continue;
        mask |= bit;
        if (!names.empty()) names += " or ";
        names += type_name;
        return true;
      }
      return false;
    };
    if (type.is_array()) {
      for (const Value& name : type.items()) {
        if (!add(name)) return schema_error(location, "unknown type " + describe(name));
      }
    } else if (!add(type)) {
      return schema_error(location, "unknown type " + describe(type));
    }
    if (names.empty()) names = "of no type";
    keywords.push_back(std::make_unique<TypeKeyword>(location, mask, names));
    return Status::ok();
  }

  static Result<std::vector<std::string>> string_list(const Value& value,
                                                      const std::string& location) {
    if (!value.is_array()) return schema_error(location, "must be an array of strings");
    std::vector<std::string> names;
    for (const Value& name : value.items()) {
      if (!name.is_string()) return schema_error(location, "must be an array of strings");
      names.emplace_back(name.as_string());
    }
    return names;
  }

  // dependentRequired (names), dependentSchemas (schemas), draft 7 dependencies (either).
  Status compile_dependencies(const Value& rules, const std::string& location,
                              std::vector<std::unique_ptr<Keyword>>& keywords, bool names,
                              bool schemas) {
    if (!rules.is_object()) return schema_error(location, "must be an object");
    std::vector<std::pair<std::string, std::vector<std::string>>> required;
    std::vector<std::pair<std::string, const Node*>> dependent;
    for (const json::Member& member : rules.members()) {
      std::string at = location;
      append_pointer_token(at, member.key);
      if (member.value.is_array() && names) {
        auto list = string_list(member.value, at);
        if (!list) return list.take_status();
        required.emplace_back(std::string(member.key), std::move(*list));
      } else if (schemas) {
        auto node = subschema(member.value, at);
        if (!node) return node.take_status();
        dependent.emplace_back(std::string(member.key), *node);
      } else {
        return schema_error(at, "must be an array of strings");
      }
    }
    if (!required.empty()) {
      keywords.push_back(std::make_unique<DependentRequiredKeyword>(location, std::move(required)));
    }
    if (!dependent.empty()) {
      keywords.push_back(std::make_unique<DependentSchemasKeyword>(location, std::move(dependent)));
    }
    return Status::ok();
  }

  // Takes `required` over (leaving it empty) when the object keyword can check it.
  Status compile_object(const Value& schema, const Info& info,
                        std::vector<std::unique_ptr<Keyword>>& keywords,
                        std::vector<std::string>& required) {
    const Value* properties = schema.find("properties");
    const Value* patterns = schema.find("patternProperties");
    const Value* additional = schema.find("additionalProperties");
    if (properties == nullptr && patterns == nullptr && additional == nullptr) return Status::ok();
    std::string location = info.location;
    std::vector<std::pair<std::string, const Node*>> property_nodes;
    std::vector<ObjectKeyword::PatternNode> pattern_nodes;
    const Node* additional_node = nullptr;
    if (properties != nullptr) {
      std::string at = location + "/properties";
      if (!properties->is_object()) return schema_error(at, "properties must be an object");
      for (const json::Member& member : properties->members()) {
        std::string member_at = at;
        append_pointer_token(member_at, member.key);
        auto node = subschema(member.value, member_at);
        if (!node) return node.take_status();
        property_nodes.emplace_back(std::string(member.key), *node);
      }
      location = at;
    }
    if (patterns != nullptr) {
      std::string at = info.location + "/patternProperties";
      if (!patterns->is_object()) return schema_error(at, "patternProperties must be an object");
      for (const json::Member& member : patterns->members()) {
        std::string member_at = at;
        append_pointer_token(member_at, member.key);
        auto re = compile_pattern(member.key);
        if (!re) return schema_error(member_at, re.status().message());
        auto node = subschema(member.value, member_at);
        if (!node) return node.take_status();
        pattern_nodes.push_back({*re, *node});
      }
      if (properties == nullptr) location = at;
    }
    if (additional != nullptr) {
      auto node = subschema(*additional, info.location + "/additionalProperties");
      if (!node) return node.take_status();
      additional_node = *node;
      if (properties == nullptr && patterns == nullptr)
        location = info.location + "/additionalProperties";
    }
    std::vector<std::string> taken;
    if (ObjectKeyword::can_take_required(property_nodes, required)) taken.swap(required);
    keywords.push_back(std::make_unique<ObjectKeyword>(
        location, std::move(property_nodes), std::move(pattern_nodes), additional_node,
        std::move(taken), info.location + "/required"));
    return Status::ok();
  }

  Status compile_items(const Value& schema, const Info& info,
                       std::vector<std::unique_ptr<Keyword>>& keywords) {
    std::vector<const Node*> prefix;
    const Node* rest = nullptr;
    const Value* items = schema.find("items");
    std::string location = info.location + "/items";
    if (info.dialect.draft == Draft::k7) {
      if (items != nullptr && items->is_array()) {
        auto nodes = schema_list(*items, location, true);
        if (!nodes) return nodes.take_status();
        prefix = std::move(*nodes);
        if (const Value* additional = schema.find("additionalItems")) {
          auto node = subschema(*additional, info.location + "/additionalItems");
          if (!node) return node.take_status();
          rest = *node;
        }
      } else if (items != nullptr) {
        auto node = subschema(*items, location);
        if (!node) return node.take_status();
        rest = *node;
      }
    } else {
      if (const Value* prefix_items = schema.find("prefixItems")) {
        auto nodes = schema_list(*prefix_items, info.location + "/prefixItems");
        if (!nodes) return nodes.take_status();
        prefix = std::move(*nodes);
        if (items == nullptr) location = info.location + "/prefixItems";
      }
      if (items != nullptr) {
        auto node = subschema(*items, location);
        if (!node) return node.take_status();
        rest = *node;
      }
    }
    if (prefix.empty() && rest == nullptr) return Status::ok();
    keywords.push_back(std::make_unique<ItemsKeyword>(location, std::move(prefix), rest));
    return Status::ok();
  }

  Validator::Compiled& out_;
  const ValidatorOptions& options_;
  std::unordered_map<std::string, Resource*> resources_;
  std::unordered_map<std::string, const Value*> anchors_;
  std::unordered_map<const Value*, Info> infos_;
  std::unordered_map<const Value*, const Node*> nodes_;
  bool uses_dynamic_ref_ = false;
};

}  // namespace

Result<Validator> Validator::compile(const json::Value& schema, ValidatorOptions options) {
  auto compiled = std::make_shared<Compiled>();
  compiled->max_errors = std::max<size_t>(options.max_errors, 1);
  Compiler compiler(*compiled, options);
  Status status = compiler.compile(schema);
  if (!status) return status;
  return Validator(std::move(compiled));
}

bool Validator::is_valid(const json::Value& instance) const {
  Eval ev;
  ev.dynamic = compiled_->dynamic;
  return evaluate(*compiled_->root, instance, ev, nullptr, nullptr, nullptr);
}

std::vector<ValidationError> Validator::validate(const json::Value& instance) const {
  std::vector<ValidationError> errors;
  Eval ev;
  ev.errors = &errors;
  ev.max_errors = compiled_->max_errors;
  ev.dynamic = compiled_->dynamic;
  if (!evaluate(*compiled_->root, instance, ev, nullptr, nullptr, nullptr) && errors.empty()) {
    errors.push_back({"", compiled_->root->location, "the value is not valid"});
  }
  return errors;
}

}  // namespace canonry::schema
