#include "schema/diff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

#include "json/parser.h"
#include "json/writer.h"
#include "schema/discover.h"
#include "schema/profile.h"

namespace canonry::schema {
namespace {

// x-bsonType names (MongoDB's) back to the names of DESIGN 4.2.
std::string_view canonical_type(std::string_view name) {
  if (name == "binData") return "binary";
  if (name == "bool") return "boolean";
  if (name == "int" || name == "long") return "integer";
  if (name == "double") return "number";
  return name;
}

void add_type(std::vector<std::string>& types, std::string_view name) {
  std::string t(canonical_type(name));
  if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
}

void add_names(std::vector<std::string>& types, const json::Value* v) {
  if (v == nullptr) return;
  if (v->is_string()) add_type(types, v->as_string());
  for (const json::Value& item : v->items()) {
    if (item.is_string()) add_type(types, item.as_string());
  }
}

// The DESIGN 4.2 types of a subschema: exact from x-profile when it is there, else from `type`
// and `x-bsonType`, where a BSON type stands for the JSON type it is written as.
std::vector<std::string> types_of(const json::Value& schema) {
  std::vector<std::string> types;
  if (const json::Value* profile = schema.find("x-profile")) {
    if (const json::Value* counts = profile->find("types"); counts && counts->is_object()) {
      for (const json::Member& m : counts->members()) add_type(types, m.key);
      std::sort(types.begin(), types.end());
      return types;
    }
  }
  add_names(types, schema.find("type"));
  add_names(types, schema.find("x-bsonType"));
  std::sort(types.begin(), types.end());
  return types;
}

double presence_of(const json::Value& schema) {
  const json::Value* profile = schema.find("x-profile");
  const json::Value* presence = profile ? profile->find("presence") : nullptr;
  return presence && presence->is_numeric() ? presence->as_double() : -1;
}

Status walk_schema(const json::Value& schema, const std::string& path, FieldShape shape, Shape& out,
                   int depth) {
  if (depth > 200) return Status(ErrorCode::kSchema, "schema nested too deeply", path);
  if (!schema.is_object()) return Status::ok();  // `true` / `false` subschemas say no shape
  shape.types = types_of(schema);
  shape.presence = presence_of(schema);
  out.fields.emplace_back(path, shape);
  std::vector<std::string_view> required;
  if (const json::Value* r = schema.find("required")) {
    for (const json::Value& name : r->items()) {
      if (name.is_string()) required.push_back(name.as_string());
    }
  }
  if (const json::Value* properties = schema.find("properties"); properties) {
    if (!properties->is_object()) {
      return Status(ErrorCode::kSchema, "properties is not an object", path);
    }
    for (const json::Member& m : properties->members()) {
      std::string child = path;
      append_member_path(child, m.key);
      FieldShape member;
      member.can_be_required = true;
      member.required = std::find(required.begin(), required.end(), m.key) != required.end();
      CANONRY_RETURN_IF_ERROR(walk_schema(m.value, child, member, out, depth + 1));
    }
  }
  if (const json::Value* extra = schema.find("additionalProperties"); extra && extra->is_object()) {
    CANONRY_RETURN_IF_ERROR(walk_schema(*extra, path + ".*", FieldShape{}, out, depth + 1));
  }
  if (const json::Value* items = schema.find("items"); items && items->is_object()) {
    CANONRY_RETURN_IF_ERROR(walk_schema(*items, path + "[*]", FieldShape{}, out, depth + 1));
  }
  return Status::ok();
}

// Whether the last step of a profile path is a member name (not `[*]`, `.*` or the root).
bool is_member_path(std::string_view path) {
  return path != "$" && !path.ends_with("[*]") && !path.ends_with(".*");
}

Result<Shape> shape_from_lines(std::string_view text, double required_threshold) {
  Shape shape;
  Arena arena;
  json::Parser parser;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    arena.reset();
    auto value = parser.parse(line, arena);
    std::string where = "line " + std::to_string(line_number);
    if (!value) return Status(value.status().code(), where + ": " + value.status().message());
    const json::Value* path = value->find("path");
    if (path == nullptr || !path->is_string()) {
      return Status(ErrorCode::kSchema, where + ": a profile line needs a \"path\"");
    }
    FieldShape field;
    if (const json::Value* types = value->find("types"); types && types->is_object()) {
      for (const json::Member& m : types->members()) add_type(field.types, m.key);
      std::sort(field.types.begin(), field.types.end());
    }
    if (const json::Value* p = value->find("presence"); p && p->is_numeric()) {
      field.presence = p->as_double();
    }
    field.can_be_required = is_member_path(path->as_string());
    field.required = field.can_be_required && field.presence >= required_threshold;
    shape.fields.emplace_back(std::string(path->as_string()), std::move(field));
  }
  return shape;
}

std::string types_json(const std::vector<std::string>& types) {
  std::string out = "[";
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += ',';
    json::append_quoted(out, types[i]);
  }
  return out + "]";
}

std::string number_json(double d) {
  std::string out;
  json::append_double(out, std::round(d * 1e4) / 1e4);
  return out;
}

bool has(const std::vector<std::string>& types, std::string_view t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

// Types of `from` that `to` does not admit; every integer is a number.
std::vector<std::string> uncovered(const std::vector<std::string>& from,
                                   const std::vector<std::string>& to) {
  std::vector<std::string> out;
  for (const std::string& t : from) {
    if (has(to, t) || (t == "integer" && has(to, "number"))) continue;
    out.push_back(t);
  }
  return out;
}

bool under(std::string_view path, std::string_view parent) {
  return path.size() > parent.size() && path.starts_with(parent) &&
         (path[parent.size()] == '.' || path[parent.size()] == '[');
}

}  // namespace

const FieldShape* Shape::find(std::string_view path) const {
  for (const auto& [p, shape] : fields) {
    if (p == path) return &shape;
  }
  return nullptr;
}

Result<Shape> load_shape(std::string_view text, double required_threshold) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return Status(ErrorCode::kSchema, "empty input");
  size_t end = text.find('\n', start);
  std::string_view first =
      text.substr(start, end == std::string_view::npos ? text.npos : end - start);
  Arena arena;
  auto first_value = json::parse(first, arena);
  if (first_value && first_value->is_object() && first_value->find("path") != nullptr) {
    return shape_from_lines(text, required_threshold);
  }
  auto schema = json::parse(text, arena);
  if (!schema) return schema.take_status();
  if (!schema->is_object()) {
    return Status(ErrorCode::kSchema, "neither a JSON Schema object nor profile lines");
  }
  Shape shape;
  CANONRY_RETURN_IF_ERROR(walk_schema(*schema, "$", FieldShape{}, shape, 0));
  return shape;
}

std::vector<Change> diff_shapes(const Shape& old_shape, const Shape& new_shape,
                                const DiffOptions& options) {
  // Paths of both sides in one order: the old document order, each new path after the path
  // that precedes it in the new one.
  std::vector<std::string> order;
  for (const auto& [path, shape] : old_shape.fields) order.push_back(path);
  size_t after = 0;
  std::string_view predecessor;
  for (const auto& [path, shape] : new_shape.fields) {
    auto it = std::find(order.begin(), order.end(), path);
    if (it != order.end()) {
      after = static_cast<size_t>(it - order.begin()) + 1;
    } else {
      // Past the old descendants of the predecessor's branch that is a sibling of `path`, so
      // that a new member does not land between an old member and its children.
      std::string_view branch;
      for (const std::string& q : order) {
        bool holds_predecessor = q == predecessor || under(predecessor, q);
        bool holds_path = q == path || under(path, q);
        if (holds_predecessor && !holds_path && (branch.empty() || q.size() < branch.size())) {
          branch = q;
        }
      }
      while (!branch.empty() && after < order.size() && under(order[after], branch)) ++after;
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(after), path);
      ++after;
    }
    predecessor = path;
  }

  std::vector<Change> changes;
  std::string gone;  // the last added or removed path: its descendants are implied
  for (const std::string& path : order) {
    if (!gone.empty() && under(path, gone)) continue;
    const FieldShape* o = old_shape.find(path);
    const FieldShape* n = new_shape.find(path);
    if (o == nullptr || n == nullptr) {
      gone = path;
      Change c{path, o ? "removed" : "added", "null", "null", false};
      if (o) {
        c.old_json = types_json(o->types);
        // Readers may count on a field that was always there.
        c.breaking = o->required;
      } else {
        c.new_json = types_json(n->types);
      }
      changes.push_back(std::move(c));
      continue;
    }
    std::vector<std::string> added = uncovered(n->types, o->types);
    std::vector<std::string> removed = uncovered(o->types, n->types);
    if (!added.empty() || !removed.empty()) {
      const char* kind = removed.empty() ? "type-widened"
                         : added.empty() ? "type-narrowed"
                                         : "type-changed";
      // New types reach readers that never saw them; fewer types never do.
      changes.push_back({path, kind, types_json(o->types), types_json(n->types), !added.empty()});
    }
    if (o->can_be_required && n->can_be_required && o->required != n->required) {
      changes.push_back({path, o->required ? "required-to-optional" : "optional-to-required",
                         o->required ? "true" : "false", n->required ? "true" : "false",
                         o->required});
    }
    if (o->presence >= 0 && n->presence >= 0 &&
        std::fabs(n->presence - o->presence) >= options.presence_threshold) {
      changes.push_back(
          {path, "presence-changed", number_json(o->presence), number_json(n->presence), false});
    }
  }
  return changes;
}

std::string changes_to_json(const std::vector<Change>& changes) {
  bool breaking =
      std::any_of(changes.begin(), changes.end(), [](const Change& c) { return c.breaking; });
  std::map<std::string, int> counts;
  for (const Change& c : changes) ++counts[c.kind];
  std::string summary = "{";
  for (const auto& [kind, n] : counts) {
    if (summary.size() > 1) summary += ',';
    json::append_quoted(summary, kind);
    summary += ':';
    json::append_int(summary, n);
  }
  summary += '}';
  // One change per line: a drift report is read (and grepped) change by change.
  std::string out = "{\n  \"compatibility\": ";
  json::append_quoted(out, breaking ? "breaking" : "backward-compatible");
  out += ",\n  \"summary\": ";
  out += pretty_json(summary, SIZE_MAX);
  out.pop_back();
  out += ",\n  \"changes\": [";
  for (size_t i = 0; i < changes.size(); ++i) {
    const Change& c = changes[i];
    std::string compact = "{\"path\":";
    json::append_quoted(compact, c.path);
    compact += ",\"kind\":";
    json::append_quoted(compact, c.kind);
    compact += ",\"old\":" + c.old_json + ",\"new\":" + c.new_json + ",\"compatibility\":";
    json::append_quoted(compact, c.breaking ? "breaking" : "backward-compatible");
    compact += '}';
    out += i > 0 ? ",\n    " : "\n    ";
    out += pretty_json(compact, SIZE_MAX);
    out.pop_back();
  }
  out += changes.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string changes_to_text(const std::vector<Change>& changes) {
  size_t breaking = 0;
  std::string out;
  for (const Change& c : changes) {
    breaking += c.breaking;
    out += c.breaking ? "breaking    " : "compatible  ";
    out += c.kind;
    out.append(c.kind.size() < 21 ? 21 - c.kind.size() : 1, ' ');
    out += c.path;
    if (c.old_json != "null" || c.new_json != "null") {
      out += "  " + c.old_json + " -> " + c.new_json;
    }
    out += '\n';
  }
  out += std::to_string(changes.size()) + (changes.size() == 1 ? " change, " : " changes, ") +
         std::to_string(breaking) +
         " breaking: " + (breaking ? "breaking for consumers" : "backward-compatible") + "\n";
  return out;
}

}  // namespace canonry::schema
