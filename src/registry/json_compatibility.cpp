#include "registry/json_compatibility.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <utility>

namespace canonry::registry {

namespace {

using json::Value;
using D = DifferenceType;

struct DifferenceInfo {
  std::string_view name;
  bool strict;
  bool lenient;
};

constexpr DifferenceInfo kDifferences[] = {
#define CANONRY_DIFFERENCE_INFO(name, strict, lenient) {#name, strict, lenient},
    CANONRY_JSON_DIFFERENCES(CANONRY_DIFFERENCE_INFO)
#undef CANONRY_DIFFERENCE_INFO
};

// Nesting beyond this is not compared further (schemas this deep are not written by people, and
// recursion through $ref stops here too).
constexpr int kMaxDepth = 64;

bool is_true_schema(const Value& schema) {
  return schema.is_bool() && schema.as_bool();
}
bool is_false_schema(const Value& schema) {
  return schema.is_bool() && !schema.as_bool();
}

bool is_annotation(std::string_view key) {
  return key == "$id" || key == "id" || key == "$schema" || key == "title" ||
         key == "description" || key == "default" || key == "examples" || key == "$comment" ||
         key == "$defs" || key == "definitions";
}

// `true`, `{}` and schemas with only annotations accept everything.
bool is_empty_schema(const Value& schema) {
  if (is_true_schema(schema)) return true;
  if (!schema.is_object()) return false;
  for (const auto& member : schema.members()) {
    if (!is_annotation(member.key)) return false;
  }
  return true;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

const Value* follow_pointer(const Value* node, std::string_view pointer) {
  while (node && !pointer.empty()) {
    if (pointer.front() != '/') return nullptr;
    pointer.remove_prefix(1);
    size_t slash = pointer.find('/');
    std::string_view raw = pointer.substr(0, slash);
    pointer = slash == std::string_view::npos ? std::string_view{} : pointer.substr(slash);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) {
        token += raw[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += raw[i];
      }
    }
    if (node->is_object()) {
      node = node->find(token);
    } else if (node->is_array()) {
      size_t index = 0;
      bool digits = !token.empty();
      for (char c : token) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) index = index * 10 + static_cast<size_t>(c - '0');
      }
      node = digits ? node->at(index) : nullptr;
    } else {
      node = nullptr;
    }
  }
  return node;
}

// The set of JSON types a schema's "type" allows; `all` when it has none.
struct TypeSet {
  bool all = true;
  std::set<std::string, std::less<>> names;

  bool accepts(std::string_view type) const {
    if (all) return true;
    if (names.count(type)) return true;
    return type == "integer" && names.count("number");
  }
  // Every type `other` allows is allowed here.
  bool covers(const TypeSet& other) const {
    if (all) return true;
    if (other.all) return false;
    return std::all_of(other.names.begin(), other.names.end(),
                       [&](const std::string& t) { return accepts(t); });
  }
  bool operator==(const TypeSet& other) const { return covers(other) && other.covers(*this); }
};

TypeSet type_set(const Value& schema) {
  TypeSet set;
  const Value* type = schema.find("type");
  if (!type) return set;
  if (type->is_string()) {
    set.all = false;
    set.names.emplace(type->as_string());
  } else if (type->is_array()) {
    set.all = false;
    for (const Value& item : type->items()) {
      if (item.is_string()) set.names.emplace(item.as_string());
    }
  }
  return set;
}

std::optional<double> number_keyword(const Value& schema, std::string_view key) {
  const Value* value = schema.find(key);
  if (!value || !value->is_numeric()) return std::nullopt;
  return value->as_double();
}

bool contains_equal(std::span<const Value> values, const Value& value) {
  return std::any_of(values.begin(), values.end(),
                     [&](const Value& v) { return json::equal(v, value); });
}

// Every item of `small` is in `large`.
bool is_subset(std::span<const Value> small, std::span<const Value> large) {
  return std::all_of(small.begin(), small.end(),
                     [&](const Value& v) { return contains_equal(large, v); });
}

enum class Openness { kOpen, kPartiallyOpen, kClosed };

class Comparer {
 public:
  Comparer(const Value& original_root, const Value& update_root,
           const ExternalRefResolver& external)
      : original_root_(original_root), update_root_(update_root), external_(external) {}

  void compare(const Value& original, const Value& update, const std::string& path) {
    compare_at(original, update, path, 0);
  }

  std::vector<Difference> take() { return std::move(differences_); }

 private:
  void add(D type, const std::string& path) { differences_.push_back({type, path}); }

  // The schema a local or external $ref names (itself when it has no $ref).
  const Value& resolve(const Value& schema, const Value& root, int& hops) const {
    const Value* node = &schema;
    while (node->is_object() && hops < kMaxDepth) {
      const Value* ref = node->find("$ref");
      if (!ref || !ref->is_string()) break;
      std::string_view target = ref->as_string();
      const Value* next = nullptr;
      if (!target.empty() && target.front() == '#') {
        next = follow_pointer(&root, target.substr(1));
      } else if (external_) {
        size_t hash = target.find('#');
        const Value* document = external_(target.substr(0, hash));
        next = document && hash != std::string_view::npos
                   ? follow_pointer(document, target.substr(hash + 1))
                   : document;
      }
      if (!next) break;
      node = next;
      ++hops;
    }
    return *node;
  }

  // Whether `update` accepts everything `original` does, judged by the strict rules: used to
  // decide whether a partially open content model covers a property or item.
  bool is_covered(const Value& original, const Value& update, int depth) {
    Comparer nested(original_root_, update_root_, external_);
    nested.compare_at(original, update, "#", depth + 1);
    for (const Difference& difference : nested.differences_) {
      if (!is_compatible(difference.type, JsonPolicy::kStrict)) return false;
    }
    return true;
  }

  void compare_at(const Value& original_in, const Value& update_in, const std::string& path,
                  int depth) {
    if (depth > kMaxDepth) return;
    int hops = 0;
    const Value& original = resolve(original_in, original_root_, hops);
    const Value& update = resolve(update_in, update_root_, hops);
    if (json::equal(original, update)) return;
    if (is_empty_schema(update)) return;    // anything can change to the empty schema
    if (is_false_schema(original)) return;  // nothing was written
    if (is_false_schema(update) || is_empty_schema(original) || !original.is_object() ||
        !update.is_object()) {
      compare_annotations(original, update, path);
      add(D::TYPE_NARROWED, path);
      return;
    }
    compare_annotations(original, update, path);
    if (compare_combined(original, update, path, depth)) return;
    compare_not(original, update, path, depth);
    compare_enum(original, update, path);
    TypeSet original_types = type_set(original), update_types = type_set(update);
    if (!(original_types == update_types)) {
      if (update_types.covers(original_types)) {
        add(D::TYPE_EXTENDED, path);
      } else if (original_types.covers(update_types)) {
        add(D::TYPE_NARROWED, path);
      } else {
        add(D::TYPE_CHANGED, path);
        return;  // nothing else about the two is comparable
      }
    }
    compare_string(original, update, path);
    compare_number(original, update, path);
    compare_object(original, update, path, depth);
    compare_array(original, update, path, depth);
  }

  void compare_annotations(const Value& original, const Value& update, const std::string& path) {
    static constexpr std::pair<std::string_view, D> kAnnotations[] = {
        {"$id", D::ID_CHANGED},
        {"title", D::TITLE_CHANGED},
        {"description", D::DESCRIPTION_CHANGED},
        {"default", D::DEFAULT_CHANGED}};
    for (auto [key, type] : kAnnotations) {
      const Value* a = original.is_object() ? original.find(key) : nullptr;
      const Value* b = update.is_object() ? update.find(key) : nullptr;
      if ((a == nullptr) != (b == nullptr) || (a && !json::equal(*a, *b))) add(type, path);
    }
  }

  // allOf / anyOf / oneOf. Returns true when the rest of the two schemas was compared (or need
  // not be) here.
  bool compare_combined(const Value& original, const Value& update, const std::string& path,
                        int depth) {
    auto combined = [](const Value& schema) -> std::pair<std::string_view, const Value*> {
      for (std::string_view key : {"allOf", "anyOf", "oneOf"}) {
        const Value* value = schema.find(key);
        if (value && value->is_array()) return {key, value};
      }
      return {{}, nullptr};
    };
    auto [original_kind, original_list] = combined(original);
    auto [update_kind, update_list] = combined(update);
    if (!original_list && !update_list) return false;
    // A schema without a combination meets one with it as a combination of itself alone.
    std::span<const Value> original_items =
        original_list ? original_list->items() : std::span<const Value>(&original, 1);
    std::span<const Value> update_items =
        update_list ? update_list->items() : std::span<const Value>(&update, 1);
    if (!original_list) original_kind = update_kind;
    if (!update_list) update_kind = original_kind;
    if (original_kind != update_kind) {
      bool widened = (original_kind == "allOf" && update_kind != "allOf") ||
                     (original_kind == "oneOf" && update_kind == "anyOf");
      add(widened ? D::COMBINED_TYPE_EXTENDED : D::COMBINED_TYPE_CHANGED, path);
      if (!widened) return true;
    }
    bool product = update_kind == "allOf";
    std::string items_path = path + "/" + std::string(update_kind);
    if (update_items.size() > original_items.size()) {
      add(product ? D::PRODUCT_TYPE_EXTENDED : D::SUM_TYPE_EXTENDED, items_path);
    } else if (update_items.size() < original_items.size()) {
      add(product ? D::PRODUCT_TYPE_NARROWED : D::SUM_TYPE_NARROWED, items_path);
    }
    // Each writer alternative must be readable by some reader alternative (sums); each reader
    // constraint must be implied by some writer constraint (products).
    std::span<const Value> must_match = product ? update_items : original_items;
    std::span<const Value> candidates = product ? original_items : update_items;
    std::vector<int> owner(candidates.size(), -1);
    auto covered = [&](size_t must, size_t candidate) {
      return product ? is_covered(candidates[candidate], must_match[must], depth)
                     : is_covered(must_match[must], candidates[candidate], depth);
    };
    // Bipartite matching by augmenting paths; the lists are short.
    std::function<bool(size_t, std::vector<bool>&)> augment = [&](size_t must,
                                                                  std::vector<bool>& seen) {
      for (size_t c = 0; c < candidates.size(); ++c) {
        if (seen[c] || !covered(must, c)) continue;
        seen[c] = true;
        if (owner[c] < 0 || augment(static_cast<size_t>(owner[c]), seen)) {
          owner[c] = static_cast<int>(must);
          return true;
        }
      }
      return false;
    };
    size_t matched = 0;
    for (size_t must = 0; must < must_match.size(); ++must) {
      std::vector<bool> seen(candidates.size(), false);
      if (augment(must, seen)) ++matched;
    }
    // A narrowed sum (or an extended product) leaves some unmatched, already reported above;
    // more unmatched than that means the alternatives themselves changed.
    size_t unavoidable =
        must_match.size() > candidates.size() ? must_match.size() - candidates.size() : 0;
    if (must_match.size() - matched > unavoidable) {
      add(D::COMBINED_TYPE_SUBSCHEMAS_CHANGED, items_path);
    }
    return !(original_list && update_list);
  }

  void compare_not(const Value& original, const Value& update, const std::string& path, int depth) {
    const Value* a = original.find("not");
    const Value* b = update.find("not");
    if (!a && !b) return;
    if (a && b) {
      if (json::equal(*a, *b)) return;
      // The reader rejects less when its negated schema accepts less.
      add(is_covered(*b, *a, depth) ? D::NOT_TYPE_NARROWED : D::NOT_TYPE_EXTENDED, path + "/not");
      return;
    }
    add(a ? D::NOT_TYPE_NARROWED : D::NOT_TYPE_EXTENDED, path + "/not");
  }

  void compare_enum(const Value& original, const Value& update, const std::string& path) {
    auto values = [](const Value& schema) -> std::optional<std::span<const Value>> {
      if (const Value* e = schema.find("enum"); e && e->is_array()) return e->items();
      if (const Value* c = schema.find("const")) return std::span<const Value>(c, 1);
      return std::nullopt;
    };
    auto a = values(original), b = values(update);
    if (!a && !b) return;
    std::string enum_path = path + "/enum";
    if (!a) return add(D::ENUM_ARRAY_NARROWED, enum_path);
    if (!b) return add(D::ENUM_ARRAY_EXTENDED, enum_path);
    bool a_in_b = is_subset(*a, *b), b_in_a = is_subset(*b, *a);
    if (a_in_b && b_in_a) return;
    add(a_in_b   ? D::ENUM_ARRAY_EXTENDED
        : b_in_a ? D::ENUM_ARRAY_NARROWED
                 : D::ENUM_ARRAY_CHANGED,
        enum_path);
  }

  // A bound whose growth relaxes the schema (a maximum) or tightens it (a minimum).
  void compare_bound(const Value& original, const Value& update, std::string_view key,
                     const std::string& path, D added, D removed, D increased, D decreased) {
    auto a = number_keyword(original, key), b = number_keyword(update, key);
    if (!a && !b) return;
    if (!a) return add(added, path);
    if (!b) return add(removed, path);
    if (*b > *a) add(increased, path);
    if (*b < *a) add(decreased, path);
  }

  void compare_string(const Value& original, const Value& update, const std::string& path) {
    compare_bound(original, update, "maxLength", path, D::MAX_LENGTH_ADDED, D::MAX_LENGTH_REMOVED,
                  D::MAX_LENGTH_INCREASED, D::MAX_LENGTH_DECREASED);
    compare_bound(original, update, "minLength", path, D::MIN_LENGTH_ADDED, D::MIN_LENGTH_REMOVED,
                  D::MIN_LENGTH_INCREASED, D::MIN_LENGTH_DECREASED);
    const Value* a = original.find("pattern");
    const Value* b = update.find("pattern");
    if (a && !b) add(D::PATTERN_REMOVED, path);
    if (!a && b) add(D::PATTERN_ADDED, path);
    if (a && b && !json::equal(*a, *b)) add(D::PATTERN_CHANGED, path);
  }

  void compare_number(const Value& original, const Value& update, const std::string& path) {
    compare_bound(original, update, "maximum", path, D::MAXIMUM_ADDED, D::MAXIMUM_REMOVED,
                  D::MAXIMUM_INCREASED, D::MAXIMUM_DECREASED);
    compare_bound(original, update, "minimum", path, D::MINIMUM_ADDED, D::MINIMUM_REMOVED,
                  D::MINIMUM_INCREASED, D::MINIMUM_DECREASED);
    compare_bound(original, update, "exclusiveMaximum", path, D::EXCLUSIVE_MAXIMUM_ADDED,
                  D::EXCLUSIVE_MAXIMUM_REMOVED, D::EXCLUSIVE_MAXIMUM_INCREASED,
                  D::EXCLUSIVE_MAXIMUM_DECREASED);
    compare_bound(original, update, "exclusiveMinimum", path, D::EXCLUSIVE_MINIMUM_ADDED,
                  D::EXCLUSIVE_MINIMUM_REMOVED, D::EXCLUSIVE_MINIMUM_INCREASED,
                  D::EXCLUSIVE_MINIMUM_DECREASED);
    auto a = number_keyword(original, "multipleOf"), b = number_keyword(update, "multipleOf");
    if (!a && !b) return;
    if (!a) return add(D::MULTIPLE_OF_ADDED, path);
    if (!b) return add(D::MULTIPLE_OF_REMOVED, path);
    if (*a == *b || *a <= 0 || *b <= 0) return;
    auto divides = [](double divisor, double value) {
      double quotient = value / divisor;
      return std::fabs(quotient - std::round(quotient)) < 1e-9;
    };
    if (divides(*a, *b)) {
      add(D::MULTIPLE_OF_EXPANDED, path);  // every new multiple is an old multiple: fewer values
    } else if (divides(*b, *a)) {
      add(D::MULTIPLE_OF_REDUCED, path);
    } else {
      add(D::MULTIPLE_OF_CHANGED, path);
    }
  }

  static Openness openness(const Value& schema, std::string_view additional_key) {
    const Value* additional = schema.find(additional_key);
    const Value* patterns = schema.find("patternProperties");
    bool has_patterns = additional_key == "additionalProperties" && patterns &&
                        patterns->is_object() && patterns->size() > 0;
    if (!has_patterns && (!additional || is_true_schema(*additional))) return Openness::kOpen;
    if (!has_patterns && is_false_schema(*additional)) return Openness::kClosed;
    return Openness::kPartiallyOpen;
  }

  // The schema a partially open object gives an undeclared property: the first patternProperties
  // entry whose pattern matches its name, else additionalProperties; nullptr when none does.
  static const Value* covering_schema(const Value& schema, std::string_view name) {
    if (const Value* patterns = schema.find("patternProperties");
        patterns && patterns->is_object()) {
      for (const auto& member : patterns->members()) {
        RE2 pattern(re2::StringPiece(member.key.data(), member.key.size()), RE2::Quiet);
        if (pattern.ok() &&
            RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), pattern)) {
          return &member.value;
        }
      }
    }
    const Value* additional = schema.find("additionalProperties");
    if (additional && !is_false_schema(*additional)) return additional;
    return nullptr;
  }

  static bool is_required(const Value& schema, std::string_view name) {
    const Value* required = schema.find("required");
    if (!required || !required->is_array()) return false;
    for (const Value& item : required->items()) {
      if (item.is_string() && item.as_string() == name) return true;
    }
    return false;
  }

  static bool has_default(const Value* property) {
    return property && property->is_object() && property->find("default") != nullptr;
  }

  // additionalProperties / additionalItems: absent or true allows anything, false nothing,
  // a schema what it accepts.
  void compare_additional(const Value& original, const Value& update, std::string_view key,
                          const std::string& path, int depth, D added, D removed, D extended,
                          D narrowed) {
    const Value* a = original.find(key);
    const Value* b = update.find(key);
    auto kind = [](const Value* v) {
      return !v || is_true_schema(*v) ? 0 : is_false_schema(*v) ? 1 : 2;
    };
    int ka = kind(a), kb = kind(b);
    std::string sub_path = path + "/" + std::string(key);
    if (ka == kb) {
      if (ka == 2) compare_at(*a, *b, sub_path, depth + 1);
      return;
    }
    if (ka == 0) return add(kb == 1 ? removed : narrowed, sub_path);
    if (ka == 1) return add(kb == 0 ? added : extended, sub_path);
    add(kb == 0 ? extended : narrowed, sub_path);
  }

  void compare_object(const Value& original, const Value& update, const std::string& path,
                      int depth) {
    compare_bound(original, update, "maxProperties", path, D::MAX_PROPERTIES_ADDED,
                  D::MAX_PROPERTIES_REMOVED, D::MAX_PROPERTIES_INCREASED,
                  D::MAX_PROPERTIES_DECREASED);
    compare_bound(original, update, "minProperties", path, D::MIN_PROPERTIES_ADDED,
                  D::MIN_PROPERTIES_REMOVED, D::MIN_PROPERTIES_INCREASED,
                  D::MIN_PROPERTIES_DECREASED);
    compare_additional(original, update, "additionalProperties", path, depth,
                       D::ADDITIONAL_PROPERTIES_ADDED, D::ADDITIONAL_PROPERTIES_REMOVED,
                       D::ADDITIONAL_PROPERTIES_EXTENDED, D::ADDITIONAL_PROPERTIES_NARROWED);
    compare_dependencies(original, update, path, depth);

    static const Value kNoProperties = Value::object(nullptr, 0);
    const Value* a = original.find("properties");
    const Value* b = update.find("properties");
    const Value& original_properties = a && a->is_object() ? *a : kNoProperties;
    const Value& update_properties = b && b->is_object() ? *b : kNoProperties;
    Openness original_model = openness(original, "additionalProperties");
    Openness update_model = openness(update, "additionalProperties");

    for (const auto& member : update_properties.members()) {
      std::string property_path = path + "/properties/" + escape_pointer_token(member.key);
      if (const Value* before = original_properties.find(member.key)) {
        compare_at(*before, member.value, property_path, depth + 1);
        continue;
      }
      const Value* covering = original_model == Openness::kPartiallyOpen
                                  ? covering_schema(original, member.key)
                                  : nullptr;
      if (original_model == Openness::kOpen) {
        add(is_empty_schema(member.value)
                ? D::PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                : D::PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
            property_path);
      } else if (covering) {
        add(is_covered(*covering, member.value, depth)
                ? D::PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                : D::PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            property_path);
      } else if (is_required(update, member.key)) {
        add(has_default(&member.value)
                ? D::REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                : D::REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
            property_path);
      } else {
        add(D::OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, property_path);
      }
    }
    for (const auto& member : original_properties.members()) {
      if (update_properties.find(member.key)) continue;
      std::string property_path = path + "/properties/" + escape_pointer_token(member.key);
      const Value* covering =
          update_model == Openness::kPartiallyOpen ? covering_schema(update, member.key) : nullptr;
      if (update_model == Openness::kOpen) {
        add(D::PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, property_path);
      } else if (covering) {
        add(is_covered(member.value, *covering, depth)
                ? D::PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                : D::PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            property_path);
      } else if (is_false_schema(member.value)) {
        add(D::PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, property_path);
      } else {
        add(D::PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, property_path);
      }
    }
    if (const Value* patterns_a = original.find("patternProperties");
        patterns_a && patterns_a->is_object()) {
      if (const Value* patterns_b = update.find("patternProperties");
          patterns_b && patterns_b->is_object()) {
        for (const auto& member : patterns_b->members()) {
          if (const Value* before = patterns_a->find(member.key)) {
            compare_at(*before, member.value,
                       path + "/patternProperties/" + escape_pointer_token(member.key), depth + 1);
          }
        }
      }
    }
    // Required names: compared on their own, whether or not the property is declared.
    if (const Value* required = update.find("required"); required && required->is_array()) {
      for (const Value& name : required->items()) {
        if (!name.is_string() || is_required(original, name.as_string())) continue;
        add(has_default(update_properties.find(name.as_string()))
                ? D::REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                : D::REQUIRED_ATTRIBUTE_ADDED,
            path + "/required/" + escape_pointer_token(name.as_string()));
      }
    }
    if (const Value* required = original.find("required"); required && required->is_array()) {
      for (const Value& name : required->items()) {
        if (!name.is_string() || is_required(update, name.as_string())) continue;
        add(D::REQUIRED_ATTRIBUTE_REMOVED,
            path + "/required/" + escape_pointer_token(name.as_string()));
      }
    }
  }

  // Draft 7 `dependencies` (arrays and schemas) and 2020-12 `dependentRequired` /
  // `dependentSchemas`, compared per property.
  void compare_dependencies(const Value& original, const Value& update, const std::string& path,
                            int depth) {
    auto collect = [](const Value& schema, bool arrays) {
      std::vector<const Member*> out;
      for (std::string_view key :
           {"dependencies", arrays ? "dependentRequired" : "dependentSchemas"}) {
        const Value* deps = schema.find(key);
        if (!deps || !deps->is_object()) continue;
        for (const auto& member : deps->members()) {
          if (member.value.is_array() == arrays) out.push_back(&member);
        }
      }
      return out;
    };
    auto find = [](const std::vector<const Member*>& list, std::string_view key) -> const Value* {
      for (const Member* m : list) {
        if (m->key == key) return &m->value;
      }
      return nullptr;
    };
    for (bool arrays : {true, false}) {
      auto a = collect(original, arrays), b = collect(update, arrays);
      for (const Member* member : b) {
        std::string dep_path = path + "/dependencies/" + escape_pointer_token(member->key);
        const Value* before = find(a, member->key);
        if (!before) {
          add(arrays ? D::DEPENDENCY_ARRAY_ADDED : D::DEPENDENCY_SCHEMA_ADDED, dep_path);
        } else if (!arrays) {
          compare_at(*before, member->value, dep_path, depth + 1);
        } else {
          bool old_in_new = is_subset(before->items(), member->value.items());
          bool new_in_old = is_subset(member->value.items(), before->items());
          if (old_in_new && new_in_old) continue;
          add(old_in_new   ? D::DEPENDENCY_ARRAY_EXTENDED
              : new_in_old ? D::DEPENDENCY_ARRAY_NARROWED
                           : D::DEPENDENCY_ARRAY_CHANGED,
              dep_path);
        }
      }
      for (const Member* member : a) {
        if (!find(b, member->key)) {
          add(arrays ? D::DEPENDENCY_ARRAY_REMOVED : D::DEPENDENCY_SCHEMA_REMOVED,
              path + "/dependencies/" + escape_pointer_token(member->key));
        }
      }
    }
  }

  // Array items as a tuple (draft 7 `items: [...]` or 2020-12 `prefixItems`) and the schema of
  // the items after it (`additionalItems`, or 2020-12 `items` beside `prefixItems`), or of all
  // items (`items: {...}` alone).
  struct ArrayShape {
    std::span<const Value> tuple;
    const Value* rest = nullptr;
    bool has_tuple = false;
  };

  static ArrayShape array_shape(const Value& schema) {
    ArrayShape shape;
    const Value* items = schema.find("items");
    if (const Value* prefix = schema.find("prefixItems"); prefix && prefix->is_array()) {
      shape.tuple = prefix->items();
      shape.has_tuple = true;
      shape.rest = items;
    } else if (items && items->is_array()) {
      shape.tuple = items->items();
      shape.has_tuple = true;
      shape.rest = schema.find("additionalItems");
    } else {
      shape.rest = items;
    }
    return shape;
  }

  void compare_array(const Value& original, const Value& update, const std::string& path,
                     int depth) {
    compare_bound(original, update, "maxItems", path, D::MAX_ITEMS_ADDED, D::MAX_ITEMS_REMOVED,
                  D::MAX_ITEMS_INCREASED, D::MAX_ITEMS_DECREASED);
    compare_bound(original, update, "minItems", path, D::MIN_ITEMS_ADDED, D::MIN_ITEMS_REMOVED,
                  D::MIN_ITEMS_INCREASED, D::MIN_ITEMS_DECREASED);
    auto unique = [](const Value& schema) {
      const Value* u = schema.find("uniqueItems");
      return u && u->is_bool() && u->as_bool();
    };
    if (!unique(original) && unique(update)) add(D::UNIQUE_ITEMS_ADDED, path);
    if (unique(original) && !unique(update)) add(D::UNIQUE_ITEMS_REMOVED, path);

    ArrayShape a = array_shape(original), b = array_shape(update);
    if (!a.has_tuple && !b.has_tuple) {
      std::string items_path = path + "/items";
      if (a.rest && b.rest) {
        compare_at(*a.rest, *b.rest, items_path, depth + 1);
      } else if (b.rest && !is_empty_schema(*b.rest)) {
        add(D::SCHEMA_ADDED, items_path);
      } else if (a.rest && !is_empty_schema(*a.rest)) {
        add(D::SCHEMA_REMOVED, items_path);
      }
      return;
    }
    auto rest_kind = [](const Value* rest) {
      return !rest || is_true_schema(*rest) ? Openness::kOpen
             : is_false_schema(*rest)       ? Openness::kClosed
                                            : Openness::kPartiallyOpen;
    };
    Openness original_model = rest_kind(a.rest), update_model = rest_kind(b.rest);
    size_t common = std::min(a.tuple.size(), b.tuple.size());
    for (size_t i = 0; i < common; ++i) {
      compare_at(a.tuple[i], b.tuple[i], path + "/items/" + std::to_string(i), depth + 1);
    }
    for (size_t i = common; i < b.tuple.size(); ++i) {
      std::string item_path = path + "/items/" + std::to_string(i);
      if (original_model == Openness::kOpen) {
        add(is_empty_schema(b.tuple[i]) ? D::ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                                        : D::ITEM_ADDED_TO_OPEN_CONTENT_MODEL,
            item_path);
      } else if (original_model == Openness::kClosed) {
        add(D::ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, item_path);
      } else {
        add(is_covered(*a.rest, b.tuple[i], depth)
                ? D::ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                : D::ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            item_path);
      }
    }
    for (size_t i = common; i < a.tuple.size(); ++i) {
      std::string item_path = path + "/items/" + std::to_string(i);
      if (update_model == Openness::kOpen) {
        add(D::ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL, item_path);
      } else if (update_model == Openness::kClosed) {
        add(is_false_schema(a.tuple[i]) ? D::ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                                        : D::ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL,
            item_path);
      } else {
        add(is_covered(a.tuple[i], *b.rest, depth)
                ? D::ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                : D::ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            item_path);
      }
    }
    std::string rest_path = path + "/additionalItems";
    if (original_model == update_model) {
      if (original_model == Openness::kPartiallyOpen) {
        compare_at(*a.rest, *b.rest, rest_path, depth + 1);
      }
    } else if (original_model == Openness::kOpen) {
      add(update_model == Openness::kClosed ? D::ADDITIONAL_ITEMS_REMOVED
                                            : D::ADDITIONAL_ITEMS_NARROWED,
          rest_path);
    } else if (original_model == Openness::kClosed) {
      add(update_model == Openness::kOpen ? D::ADDITIONAL_ITEMS_ADDED
                                          : D::ADDITIONAL_ITEMS_EXTENDED,
          rest_path);
    } else {
      add(update_model == Openness::kOpen ? D::ADDITIONAL_ITEMS_EXTENDED
                                          : D::ADDITIONAL_ITEMS_NARROWED,
          rest_path);
    }
  }

  using Member = json::Member;

  const Value& original_root_;
  const Value& update_root_;
  const ExternalRefResolver& external_;
  std::vector<Difference> differences_;
};

}  // namespace

std::string_view difference_name(DifferenceType type) {
  return kDifferences[static_cast<size_t>(type)].name;
}

bool is_compatible(DifferenceType type, JsonPolicy policy) {
  const DifferenceInfo& info = kDifferences[static_cast<size_t>(type)];
  return policy == JsonPolicy::kStrict ? info.strict : info.lenient;
}

std::vector<Difference> json_schema_differences(const json::Value& original,
                                                const json::Value& update,
                                                const ExternalRefResolver& external) {
  Comparer comparer(original, update, external);
  comparer.compare(original, update, "#");
  return comparer.take();
}

std::vector<Difference> json_incompatibilities(const json::Value& writer, const json::Value& reader,
                                               JsonPolicy policy,
                                               const ExternalRefResolver& external) {
  std::vector<Difference> incompatible;
  for (Difference& difference : json_schema_differences(writer, reader, external)) {
    if (!is_compatible(difference.type, policy)) incompatible.push_back(std::move(difference));
  }
  return incompatible;
}

std::string difference_message(const Difference& difference) {
  return "Found incompatible change: Difference{jsonPath='" + difference.path +
         "', type=" + std::string(difference_name(difference.type)) + "}";
}

}  // namespace canonry::registry
