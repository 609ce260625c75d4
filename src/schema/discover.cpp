#include "schema/discover.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "json/writer.h"

namespace canonry::schema {
namespace {

using json::Type;

// The JSON type each type of DESIGN 4.2 is written as (json::append_value: MongoDB types in
// relaxed extended JSON, decimals as numbers), and MongoDB's $jsonSchema name for the BSON ones.
struct TypeMapping {
  std::string_view json_type;
  std::string_view bson_type;  // empty for the JSON types
};

TypeMapping mapping_of(Type type) {
  switch (type) {
    case Type::kNull:
      return {"null", {}};
    case Type::kBool:
      return {"boolean", {}};
    case Type::kInteger:
      return {"integer", {}};
    case Type::kNumber:
      return {"number", {}};
    case Type::kString:
      return {"string", {}};
    case Type::kObject:
      return {"object", {}};
    case Type::kArray:
      return {"array", {}};
    case Type::kObjectId:
      return {"string", "objectId"};
    case Type::kDate:
      return {"string", "date"};
    case Type::kDecimal:
      return {"number", "decimal"};
    case Type::kBinary:
      return {"string", "binData"};
    case Type::kTimestamp:
      return {"object", "timestamp"};
    case Type::kRegex:
      return {"object", "regex"};
    case Type::kMinKey:
      return {"object", "minKey"};
    case Type::kMaxKey:
      return {"object", "maxKey"};
  }
  return {"null", {}};
}

// Order of JSON types in a union: the value types first, null last (["string", "null"]).
constexpr std::string_view kJsonTypeOrder[] = {"boolean", "integer", "number", "string",
                                               "object",  "array",   "null"};

void append_string_or_list(std::string& out, const std::vector<std::string_view>& names) {
  if (names.size() == 1) {
    json::append_quoted(out, names[0]);
    return;
  }
  out += '[';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    json::append_quoted(out, names[i]);
  }
  out += ']';
}

void append_node(std::string& out, const FieldNode& node, uint64_t parent_count,
                 const Profile& profile, const SchemaOptions& options) {
  const FieldStats& s = node.stats;
  bool present[std::size(kJsonTypeOrder)] = {};
  std::vector<std::string_view> bson_types;
  for (size_t t = 0; t < kTypeCount; ++t) {
    if (s.types[t] == 0) continue;
    TypeMapping m = mapping_of(static_cast<Type>(t));
    for (size_t k = 0; k < std::size(kJsonTypeOrder); ++k)
      present[k] |= kJsonTypeOrder[k] == m.json_type;
    if (!m.bson_type.empty()) bson_types.push_back(m.bson_type);
  }
  // Every integer is a number: a union of both says no more than "number".
  if (present[1] && present[2]) present[1] = false;
  std::vector<std::string_view> types;
  for (size_t k = 0; k < std::size(kJsonTypeOrder); ++k) {
    if (present[k]) types.push_back(kJsonTypeOrder[k]);
  }

  bool first = true;
  auto key = [&](std::string_view name) {
    if (!first) out += ',';
    first = false;
    json::append_quoted(out, name);
    out += ':';
  };
  out += '{';
  if (!types.empty()) {
    key("type");
    append_string_or_list(out, types);
  }
  if (!bson_types.empty()) {
    key("x-bsonType");
    append_string_or_list(out, bson_types);
  }
  // A format holds when every string-like value has it; dates are written as date-time text.
  uint64_t strings = s.of(Type::kString);
  uint64_t dates = s.of(Type::kDate);
  if (strings + dates > 0 && s.of(Type::kObjectId) == 0 && s.of(Type::kBinary) == 0) {
    for (size_t f = 0; f < kFormatCount; ++f) {
      auto format = static_cast<StringFormat>(f);
      uint64_t with = s.formats[f] + (format == StringFormat::kDateTime ? dates : 0);
      if (with == strings + dates) {
        key("format");
        json::append_quoted(out, string_format_name(format));
        break;
      }
    }
  }
  if (s.of(Type::kBinary) > 0 && strings + dates + s.of(Type::kObjectId) == 0) {
    key("contentEncoding");
    json::append_quoted(out, "base64");
  }
  if (!node.members.empty()) {
    key("properties");
    out += '{';
    for (size_t i = 0; i < node.members.size(); ++i) {
      if (i > 0) out += ',';
      json::append_quoted(out, node.members[i]->name);
      out += ':';
      append_node(out, *node.members[i], node.objects(), profile, options);
    }
    out += '}';
    std::vector<std::string_view> required;
    for (const auto& member : node.members) {
      double presence = static_cast<double>(member->stats.count) / node.objects();
      if (presence >= options.required_threshold) required.push_back(member->name);
    }
    if (!required.empty()) {
      key("required");
      out += '[';
      for (size_t i = 0; i < required.size(); ++i) {
        if (i > 0) out += ',';
        json::append_quoted(out, required[i]);
      }
      out += ']';
    }
  }
  if (node.is_dynamic()) {
    key("propertyNames");
    out += "{\"type\":\"string\",\"x-profile\":{";
    append_stats_members(out, *node.dynamic_names, node.objects(), profile.options());
    out += "}}";
    key("additionalProperties");
    append_node(out, *node.dynamic_values, node.objects(), profile, options);
  }
  if (node.items) {
    key("items");
    append_node(out, *node.items, node.arrays(), profile, options);
  }
  key("x-profile");
  out += '{';
  append_stats_members(out, node, parent_count, profile.options());
  out += '}';
  out += '}';
}

// End (one past) of the JSON value starting at `at` in compact text.
size_t value_end(std::string_view text, size_t at) {
  if (text[at] == '"') {
    size_t i = at + 1;
    while (text[i] != '"') i += text[i] == '\\' ? 2 : 1;
    return i + 1;
  }
  if (text[at] == '{' || text[at] == '[') {
    int depth = 0;
    size_t i = at;
    do {
      char c = text[i];
      if (c == '"') {
        i = value_end(text, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      ++i;
    } while (depth > 0);
    return i;
  }
  size_t i = at;
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']') ++i;
  return i;
}

// Compact text with a space after ':' and ',' outside strings, for one-line containers.
void append_spaced(std::string& out, std::string_view compact) {
  for (size_t i = 0; i < compact.size();) {
    if (compact[i] == '"') {
      size_t end = value_end(compact, i);
      out.append(compact.substr(i, end - i));
      i = end;
      continue;
    }
    out += compact[i];
    if (compact[i] == ':' || compact[i] == ',') out += ' ';
    ++i;
  }
}

void pretty_value(std::string& out, std::string_view text, size_t at, size_t indent, size_t column,
                  size_t width) {
  size_t end = value_end(text, at);
  std::string_view compact = text.substr(at, end - at);
  char open = text[at];
  if (open != '{' && open != '[') {
    out.append(compact);
    return;
  }
  std::string spaced;
  append_spaced(spaced, compact);
  if (compact.size() == 2 || width == SIZE_MAX || column + spaced.size() <= width) {
    out += spaced;
    return;
  }
  char close = open == '{' ? '}' : ']';
  out += open;
  size_t i = at + 1;
  bool first = true;
  while (text[i] != close) {
    if (!first) {
      ++i;
      out += ',';
    }
    first = false;
    out += '\n';
    out.append(indent + 2, ' ');
    size_t col = indent + 2;
    if (open == '{') {
      size_t key_end = value_end(text, i);
      out.append(text.substr(i, key_end - i));
      out += ": ";
      col += key_end - i + 2;
      i = key_end + 1;  // past ':'
    }
    // Statistics stay on one line however long: the schema's structure is what people scan.
    bool statistics = open == '{' && out.ends_with("\"x-profile\": ");
    pretty_value(out, text, i, indent + 2, col, statistics ? SIZE_MAX : width);
    i = value_end(text, i);
  }
  out += '\n';
  out.append(indent, ' ');
  out += close;
}

}  // namespace

std::string pretty_json(std::string_view compact, size_t width) {
  std::string out;
  out.reserve(compact.size() * 3 / 2);
  pretty_value(out, compact, 0, 0, 0, width);
  out += '\n';
  return out;
}

std::string profile_to_schema(const Profile& profile, const SchemaOptions& options) {
  std::string compact = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",";
  std::string body;
  append_node(body, profile.root(), profile.documents(), profile, options);
  compact.append(body, 1);  // the root's members after "$schema"
  if (compact.ends_with(",}")) compact.erase(compact.size() - 2, 1);
  return pretty_json(compact);
}

bool Reservoir::offer() {
  ++seen_;
  if (items_.size() < capacity_) {
    slot_ = items_.size();
    items_.emplace_back();
    return true;
  }
  if (capacity_ == 0) return false;
  uint64_t pick = std::uniform_int_distribution<uint64_t>(0, seen_ - 1)(random_);
  if (pick >= capacity_) return false;
  slot_ = static_cast<size_t>(pick);
  return true;
}

void Reservoir::keep(std::string item) {
  items_[slot_] = std::move(item);
}

std::vector<std::string> Reservoir::merge(std::vector<Reservoir>& parts, size_t capacity,
                                          uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<uint64_t> remaining;
  uint64_t total = 0;
  for (const Reservoir& part : parts) {
    remaining.push_back(part.seen_);
    total += part.seen_;
  }
  std::vector<size_t> take(parts.size(), 0);
  for (uint64_t n = std::min<uint64_t>(capacity, total); n > 0; --n, --total) {
    uint64_t pick = std::uniform_int_distribution<uint64_t>(0, total - 1)(random);
    size_t j = 0;
    while (pick >= remaining[j]) pick -= remaining[j++];
    --remaining[j];
    ++take[j];
  }
  std::vector<std::string> sample;
  for (size_t j = 0; j < parts.size(); ++j) {
    auto& items = parts[j].items_;
    std::shuffle(items.begin(), items.end(), random);
    for (size_t k = 0; k < take[j] && k < items.size(); ++k) sample.push_back(std::move(items[k]));
  }
  return sample;
}

}  // namespace canonry::schema
