#include "mapping/check.h"

#include <optional>
#include <set>

#include "common/decimal.h"
#include "json/parser.h"
#include "json/writer.h"
#include "mapping/transforms.h"

namespace canonry::mapping {

using json::Type;
using json::Value;

namespace {

std::string field_label(const MappingSpec& spec, size_t index) {
  return spec.file + ": fieldMappings[" + std::to_string(index) + "] (dst " +
         spec.fields[index].dst + ")";
}

// Numbers and decimals compare by exact value, so that an expected 19.99 matches a decimal 19.99.
bool same_value(const Value& expected, const Value& actual) {
  auto numeric = [](const Value& v) { return v.is_numeric() || v.type() == Type::kDecimal; };
  if (numeric(expected) && numeric(actual)) {
    auto text = [](const Value& v) {
      return v.type() == Type::kDecimal ? std::string(v.as_string()) : string_form(v);
    };
    auto a = Decimal::parse(text(expected)), b = Decimal::parse(text(actual));
    return a && b && *a == *b;
  }
  if (expected.is_array() && actual.is_array()) {
    if (expected.size() != actual.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!same_value(expected.items()[i], actual.items()[i])) return false;
    }
    return true;
  }
  if (expected.is_object() && actual.is_object()) {
    if (expected.size() != actual.size()) return false;
    for (const json::Member& m : expected.members()) {
      const Value* other = actual.find(m.key);
      if (other == nullptr || !same_value(m.value, *other)) return false;
    }
    return true;
  }
  return json::equal(expected, actual);
}

// A path as plain steps ("name", or "*" for any element), when it is that simple.
std::optional<std::vector<std::string>> simple_steps(std::string_view path) {
  std::vector<std::string> steps;
  if (path.empty() || path[0] != '$') return std::nullopt;
  size_t pos = 1;
  while (pos < path.size()) {
    if (path[pos] == '.') {
      if (pos + 1 < path.size() && path[pos + 1] == '.') return std::nullopt;  // descendants
      size_t start = ++pos;
      while (pos < path.size() && path[pos] != '.' && path[pos] != '[') ++pos;
      std::string name(path.substr(start, pos - start));
      steps.push_back(name == "*" ? "[*]" : name);
    } else if (path[pos] == '[') {
      size_t close = path.find(']', pos);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inside = path.substr(pos + 1, close - pos - 1);
      if (inside == "*" ||
          (!inside.empty() && inside.find_first_not_of("0123456789-") == std::string_view::npos)) {
        steps.push_back("[*]");
      } else if (inside.size() >= 2 && (inside[0] == '\'' || inside[0] == '"') &&
                 inside.back() == inside[0]) {
        steps.emplace_back(inside.substr(1, inside.size() - 2));
      } else {
        return std::nullopt;  // filters, slices, unions: not followed through schemas
      }
      pos = close + 1;
    } else {
      return std::nullopt;
    }
  }
  return steps;
}

class SchemaWalker {
 public:
  explicit SchemaWalker(const Value& root) : root_(root) {}

  // The subschemas a value at `steps` may be described by; empty when the schema says no such
  // path exists; nullopt when the schema cannot tell (open content, patterns).
  std::optional<std::vector<const Value*>> at(const std::vector<std::string>& steps) const {
    std::vector<const Value*> current = {&root_};
    for (const std::string& step : steps) {
      std::vector<const Value*> next;
      bool unknown = false;
      for (const Value* schema : current) {
        for (const Value* s : expand(schema)) {
          step_into(*s, step, next, unknown);
        }
      }
      if (next.empty()) {
        if (unknown) return std::nullopt;
        return std::vector<const Value*>{};
      }
      current = std::move(next);
    }
    std::vector<const Value*> out;
    for (const Value* s : current) {
      for (const Value* e : expand(s)) out.push_back(e);
    }
    return out;
  }

  // All subschemas that apply together or alternatively: $ref targets and combinator branches.
  std::vector<const Value*> expand(const Value* schema, int depth = 0) const {
    std::vector<const Value*> out;
    if (schema == nullptr || !schema->is_object() || depth > 16) return out;
    out.push_back(schema);
    if (const Value* ref = schema->find("$ref"); ref && ref->is_string()) {
      if (const Value* target = resolve(ref->as_string())) {
        for (const Value* e : expand(target, depth + 1)) out.push_back(e);
      }
    }
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      if (const Value* list = schema->find(key); list && list->is_array()) {
        for (const Value& branch : list->items()) {
          for (const Value* e : expand(&branch, depth + 1)) out.push_back(e);
        }
      }
    }
    return out;
  }

 private:
  const Value* resolve(std::string_view ref) const {
    if (!ref.starts_with("#/")) return nullptr;
    const Value* node = &root_;
    size_t pos = 2;
    while (node != nullptr && pos <= ref.size()) {
      size_t slash = ref.find('/', pos);
      std::string token(
          ref.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
      node = node->find(token);
      if (slash == std::string_view::npos) break;
      pos = slash + 1;
    }
    return node;
  }

  static void step_into(const Value& schema, const std::string& step,
                        std::vector<const Value*>& next, bool& unknown) {
    if (step == "[*]") {
      if (const Value* items = schema.find("items")) {
        if (items->is_object()) next.push_back(items);
        if (items->is_array()) {
          for (const Value& i : items->items()) next.push_back(&i);
        }
      }
      if (const Value* prefix = schema.find("prefixItems"); prefix && prefix->is_array()) {
        for (const Value& i : prefix->items()) next.push_back(&i);
      }
      if (schema.find("items") == nullptr && schema.find("prefixItems") == nullptr) {
        const Value* type = schema.find("type");
        if (type == nullptr || (type->is_string() && type->as_string() == "array")) unknown = true;
      }
      return;
    }
    bool found = false;
    if (const Value* properties = schema.find("properties");
        properties && properties->is_object()) {
      if (const Value* p = properties->find(step)) {
        next.push_back(p);
        found = true;
      }
    }
    if (found) return;
    if (schema.find("patternProperties") != nullptr) unknown = true;
    if (const Value* additional = schema.find("additionalProperties")) {
      if (additional->is_object()) next.push_back(additional);
      if (additional->is_bool() && additional->as_bool()) unknown = true;
    } else if (schema.find("properties") == nullptr) {
      unknown = true;  // a schema that lists no properties says nothing about them
    }
  }

  const Value& root_;
};

// The value types a set of subschemas allows, from `type` and discovery's `x-bsonType`.
std::set<Type> schema_types(const std::vector<const Value*>& schemas, bool& any) {
  std::set<Type> types;
  any = false;
  bool saw_type = false;
  for (const Value* s : schemas) {
    if (const Value* bson = s->find("x-bsonType"); bson && bson->is_string()) {
      std::string_view b = bson->as_string();
      saw_type = true;
      if (b == "objectId") types.insert(Type::kObjectId);
      if (b == "date") types.insert(Type::kDate);
      if (b == "decimal") types.insert(Type::kDecimal);
      if (b == "binary") types.insert(Type::kBinary);
      if (b == "timestamp") types.insert(Type::kTimestamp);
      continue;
    }
    const Value* type = s->find("type");
    if (type == nullptr) continue;
    saw_type = true;
    std::span<const Value> names =
        type->is_array() ? type->items() : std::span<const Value>(type, 1);
    for (const Value& n : names) {
      if (!n.is_string()) continue;
      std::string_view t = n.as_string();
      if (t == "string") types.insert(Type::kString);
      if (t == "integer") types.insert(Type::kInteger);
      if (t == "number") {
        types.insert(Type::kNumber);
        types.insert(Type::kInteger);
      }
      if (t == "boolean") types.insert(Type::kBool);
      if (t == "object") types.insert(Type::kObject);
      if (t == "array") types.insert(Type::kArray);
      if (t == "null") types.insert(Type::kNull);
    }
  }
  any = !saw_type;
  return types;
}

std::string type_list(const std::set<Type>& types) {
  std::string out;
  for (Type t : types) out += (out.empty() ? "" : ", ") + std::string(json::type_name(t));
  return out;
}

}  // namespace

std::vector<CheckFinding> run_spec_tests(const Plan& plan) {
  std::vector<CheckFinding> findings;
  const MappingSpec& spec = plan.spec();
  json::Parser parser;
  for (size_t i = 0; i < spec.tests.size(); ++i) {
    const SpecTest& test = spec.tests[i];
    std::string label = spec.file + ": tests[" + std::to_string(i) + "]";
    Arena arena;
    // The spec was read as plain JSON; read the input again as data so that extended JSON
    // ({"$oid": …}) means what it means in a real source.
    auto input = parser.parse(json::to_json(*test.input), arena);
    if (!input) {
      findings.push_back({true, label + ": input: " + input.status().message()});
      continue;
    }
    Value record;
    MapInfo info;
    MapError error;
    bool ok = plan.map_to_value(*input, arena, record, info, error);
    if (!test.expect_error.empty()) {
      if (ok) {
        findings.push_back({true, label + ": expected an error containing \"" + test.expect_error +
                                      "\" but the record mapped to " + json::to_json(record)});
      } else if (error.status.message().find(test.expect_error) == std::string::npos &&
                 error_code_name(error.status.code()) != test.expect_error) {
        findings.push_back({true, label + ": expected an error containing \"" + test.expect_error +
                                      "\" but got: " + error.status.message()});
      }
      continue;
    }
    if (!ok) {
      findings.push_back({true, label + ": mapping failed: " + error.status.message()});
      continue;
    }
    for (const json::Member& m : test.expect->members()) {
      const Value* actual = record.find(m.key);
      if (actual == nullptr) {
        findings.push_back(
            {true, label + ": expected \"" + std::string(m.key) + "\": " + json::to_json(m.value) +
                       " but the record has no such field (record: " + json::to_json(record) +
                       ")"});
      } else if (!same_value(m.value, *actual)) {
        findings.push_back({true, label + ": expected \"" + std::string(m.key) +
                                      "\": " + json::to_json(m.value) + " but got " +
                                      json::to_json(*actual)});
      }
    }
  }
  return findings;
}

std::vector<CheckFinding> check_against_schemas(const Plan& plan, const Value* source_schema,
                                                const Value* target_schema) {
  std::vector<CheckFinding> findings;
  const MappingSpec& spec = plan.spec();
  if (source_schema != nullptr) {
    SchemaWalker walker(*source_schema);
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      const FieldMappingSpec& field = spec.fields[i];
      std::vector<std::unique_ptr<Transform>> chain;
      if (field.transform != nullptr) {
        std::span<const Value> list = field.transform->is_array()
                                          ? field.transform->items()
                                          : std::span<const Value>(field.transform, 1);
        for (const Value& t : list) {
          auto made = make_transform(t, "");
          if (made) chain.push_back(std::move(*made));
        }
      }
      size_t missing = 0;
      for (const std::string& src : field.src) {
        auto steps = simple_steps(src);
        if (!steps) continue;
        auto schemas = walker.at(*steps);
        if (!schemas) continue;
        if (schemas->empty()) {
          ++missing;
          if (field.src.size() == 1) {
            findings.push_back(
                {true, field_label(spec, i) + ": src " + src +
                           ": no source document has this path (not in the source schema)"});
          }
          continue;
        }
        // The first transform that does not pass nulls through sees the source's own types.
        const Transform* first = chain.empty() ? nullptr : chain.front().get();
        if (first == nullptr) continue;
        bool any = false;
        std::set<Type> types = schema_types(*schemas, any);
        types.erase(Type::kNull);
        if (any || types.empty()) continue;
        // Elementwise transforms see the items of arrays.
        if (first->elementwise() && types.count(Type::kArray)) continue;
        std::set<Type> rejected;
        for (Type t : types) {
          if (!first->accepts(t)) rejected.insert(t);
        }
        if (rejected.size() == types.size()) {
          findings.push_back({true, field_label(spec, i) + ": transform \"" +
                                        std::string(first->name()) + "\" cannot accept " +
                                        type_list(rejected) + " values of " + src +
                                        " (its type in the source schema)"});
        } else if (!rejected.empty()) {
          findings.push_back({false, field_label(spec, i) + ": transform \"" +
                                         std::string(first->name()) + "\" will fail on the " +
                                         type_list(rejected) +
                                         " values the source schema allows at " + src});
        }
      }
      if (field.src.size() > 1 && missing == field.src.size()) {
        findings.push_back(
            {true, field_label(spec, i) + ": none of the src paths exists in the source schema"});
      }
    }
  }
  if (target_schema != nullptr) {
    SchemaWalker walker(*target_schema);
    // Every target path the spec writes, as steps, with its prefixes.
    std::set<std::vector<std::string>> written;
    auto add_written = [&](const std::vector<std::string>& steps) {
      for (size_t n = 1; n <= steps.size(); ++n)
        written.insert({steps.begin(), steps.begin() + static_cast<long>(n)});
    };
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      auto steps = parse_target_path(spec.fields[i].dst);
      if (!steps) continue;
      std::vector<std::string> names;
      for (const TargetStep& s : *steps) names.push_back(s.is_wildcard() ? "[*]" : s.name);
      add_written(names);
      auto schemas = walker.at(names);
      if (schemas && schemas->empty()) {
        findings.push_back({true, field_label(spec, i) + ": the target schema has no field " +
                                      spec.fields[i].dst});
      }
    }
    if (spec.defaults != nullptr) {
      for (const json::Member& m : spec.defaults->members()) {
        add_written({std::string(m.key)});
        auto schemas = walker.at({std::string(m.key)});
        if (schemas && schemas->empty()) {
          findings.push_back({true, spec.file + ": defaults/" + std::string(m.key) +
                                        ": the target schema has no such field"});
        }
      }
    }
    // Required fields of the record and of every object the spec writes.
    std::vector<std::vector<std::string>> objects = {{}};
    for (const auto& w : written) objects.push_back(w);
    for (const auto& object_path : objects) {
      auto schemas = walker.at(object_path);
      if (!schemas) continue;
      for (const Value* s : *schemas) {
        const Value* required = s->find("required");
        if (required == nullptr || !required->is_array()) continue;
        for (const Value& r : required->items()) {
          if (!r.is_string()) continue;
          std::vector<std::string> path = object_path;
          path.emplace_back(r.as_string());
          if (written.count(path)) continue;
          std::string text = "$";
          for (const std::string& step : path) text += step == "[*]" ? "[*]" : "." + step;
          findings.push_back({true, spec.file + ": required target field " + text +
                                        " is written by no field mapping and no default"});
        }
      }
    }
  }
  return findings;
}

}  // namespace canonry::mapping
