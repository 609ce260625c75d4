#include "registry/avro.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace canonry::registry {

using json::Value;

enum class AvroKind {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

struct AvroField {
  std::string name;
  std::vector<std::string> aliases;
  const AvroNode* type = nullptr;
  bool has_default = false;
};

struct AvroNode {
  AvroKind kind = AvroKind::kNull;
  std::string full_name;             // named types
  std::vector<std::string> aliases;  // named types, full names
  std::vector<AvroField> fields;     // record
  std::vector<std::string> symbols;  // enum
  bool has_enum_default = false;
  const AvroNode* items = nullptr;        // array items, map values
  std::vector<const AvroNode*> branches;  // union
  int64_t size = 0;                       // fixed
};

AvroSchema::AvroSchema() = default;
AvroSchema::~AvroSchema() = default;
AvroSchema::AvroSchema(AvroSchema&&) noexcept = default;
AvroSchema& AvroSchema::operator=(AvroSchema&&) noexcept = default;

namespace {

constexpr std::pair<std::string_view, AvroKind> kPrimitives[] = {
    {"null", AvroKind::kNull},   {"boolean", AvroKind::kBoolean}, {"int", AvroKind::kInt},
    {"long", AvroKind::kLong},   {"float", AvroKind::kFloat},     {"double", AvroKind::kDouble},
    {"bytes", AvroKind::kBytes}, {"string", AvroKind::kString},
};

std::string_view kind_name(AvroKind kind) {
  switch (kind) {
    case AvroKind::kRecord:
      return "record";
    case AvroKind::kEnum:
      return "enum";
    case AvroKind::kArray:
      return "array";
    case AvroKind::kMap:
      return "map";
    case AvroKind::kUnion:
      return "union";
    case AvroKind::kFixed:
      return "fixed";
    default:
      for (auto [name, k] : kPrimitives) {
        if (k == kind) return name;
      }
      return "?";
  }
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

class AvroParser {
 public:
  explicit AvroParser(AvroSchema& schema) : schema_(schema) {}

  void set_root(const AvroNode* root) { schema_.root_ = root; }

  void add_known(const AvroSchema& other) {
    for (const auto& node : other.nodes_) {
      if (!node->full_name.empty()) named_[node->full_name] = node.get();
    }
  }

  Result<const AvroNode*> parse(const Value& value, const std::string& ns, const std::string& path,
                                int depth) {
    if (depth > 64) return error(path, "nested deeper than 64 levels");
    if (value.is_string()) return by_name(std::string(value.as_string()), ns, path);
    if (value.is_array()) {
      AvroNode* node = make(AvroKind::kUnion);
      std::set<std::string> seen;
      for (size_t i = 0; i < value.size(); ++i) {
        std::string branch_path = path + "/" + std::to_string(i);
        auto branch = parse(value.items()[i], ns, branch_path, depth + 1);
        if (!branch) return branch;
        if ((*branch)->kind == AvroKind::kUnion) {
          return error(branch_path, "a union may not hold a union directly");
        }
        std::string key = (*branch)->full_name.empty() ? std::string(kind_name((*branch)->kind))
                                                       : (*branch)->full_name;
        if (!seen.insert(key).second)
          return error(branch_path, "the union holds " + key + " twice");
        node->branches.push_back(*branch);
      }
      return node;
    }
    if (!value.is_object()) return error(path, "an Avro schema is a string, an object or an array");
    const Value* type = value.find("type");
    if (!type) return error(path, "\"type\" is missing");
    if (!type->is_string()) return parse(*type, ns, path + "/type", depth + 1);
    std::string_view type_name = type->as_string();
    if (type_name == "record" || type_name == "error" || type_name == "enum" ||
        type_name == "fixed") {
      return parse_named(value, type_name, ns, path, depth);
    }
    if (type_name == "array" || type_name == "map") {
      std::string_view key = type_name == "array" ? "items" : "values";
      const Value* inner = value.find(key);
      if (!inner) return error(path, "\"" + std::string(key) + "\" is missing");
      AvroNode* node = make(type_name == "array" ? AvroKind::kArray : AvroKind::kMap);
      auto items = parse(*inner, ns, path + "/" + std::string(key), depth + 1);
      if (!items) return items;
      node->items = *items;
      return node;
    }
    return by_name(std::string(type_name), ns, path + "/type");
  }

 private:
  Status error(const std::string& path, const std::string& message) {
    return Status(ErrorCode::kSchema,
                  "Avro schema at " + (path.empty() ? "/" : path) + ": " + message);
  }

  AvroNode* make(AvroKind kind) {
    schema_.nodes_.push_back(std::make_unique<AvroNode>());
    schema_.nodes_.back()->kind = kind;
    return schema_.nodes_.back().get();
  }

  Result<const AvroNode*> by_name(const std::string& name, const std::string& ns,
                                  const std::string& path) {
    for (auto [primitive, kind] : kPrimitives) {
      if (name == primitive) return static_cast<const AvroNode*>(make(kind));
    }
    std::string full = name.find('.') == std::string::npos && !ns.empty() ? ns + "." + name : name;
    if (auto it = named_.find(full); it != named_.end()) return it->second;
    if (auto it = named_.find(name); it != named_.end()) return it->second;
    return error(path, "unknown type '" + name + "'");
  }

  static std::pair<std::string, std::string> full_name(std::string_view name,
                                                       const Value& definition,
                                                       const std::string& ns) {
    std::string space = ns;
    if (const Value* n = definition.find("namespace"); n && n->is_string()) {
      space = std::string(n->as_string());
    }
    if (name.find('.') != std::string_view::npos) {
      std::string full(name);
      return {full, full.substr(0, full.rfind('.'))};
    }
    return {space.empty() ? std::string(name) : space + "." + std::string(name), space};
  }

  Result<const AvroNode*> parse_named(const Value& value, std::string_view type_name,
                                      const std::string& ns, const std::string& path, int depth) {
    const Value* name = value.find("name");
    if (!name || !name->is_string())
      return error(path, "a " + std::string(type_name) + " needs a \"name\"");
    auto [full, space] = full_name(name->as_string(), value, ns);
    std::string simple =
        full.substr(full.rfind('.') == std::string::npos ? 0 : full.rfind('.') + 1);
    if (!valid_name(simple)) return error(path + "/name", "'" + simple + "' is not a valid name");
    if (named_.count(full)) return error(path + "/name", "the type " + full + " is defined twice");
    AvroKind kind = type_name == "enum"    ? AvroKind::kEnum
                    : type_name == "fixed" ? AvroKind::kFixed
                                           : AvroKind::kRecord;
    AvroNode* node = make(kind);
    node->full_name = full;
    if (const Value* aliases = value.find("aliases"); aliases && aliases->is_array()) {
      for (const Value& alias : aliases->items()) {
        if (alias.is_string())
          node->aliases.push_back(full_name(alias.as_string(), value, space).first);
      }
    }
    named_[full] = node;  // before the fields: a record may contain itself
    if (kind == AvroKind::kFixed) {
      const Value* size = value.find("size");
      if (!size || !size->is_integer() || size->as_int() < 0) {
        return error(path, "a fixed needs a non-negative integer \"size\"");
      }
      node->size = size->as_int();
      return static_cast<const AvroNode*>(node);
    }
    if (kind == AvroKind::kEnum) {
      const Value* symbols = value.find("symbols");
      if (!symbols || !symbols->is_array()) return error(path, "an enum needs \"symbols\"");
      for (const Value& symbol : symbols->items()) {
        if (!symbol.is_string() || !valid_name(symbol.as_string())) {
          return error(path + "/symbols", "symbols are names ([A-Za-z_][A-Za-z0-9_]*)");
        }
        if (std::find(node->symbols.begin(), node->symbols.end(), symbol.as_string()) !=
            node->symbols.end()) {
          return error(path + "/symbols",
                       "the symbol " + std::string(symbol.as_string()) + " is listed twice");
        }
        node->symbols.emplace_back(symbol.as_string());
      }
      if (const Value* fallback = value.find("default")) {
        if (!fallback->is_string() || std::find(node->symbols.begin(), node->symbols.end(),
                                                fallback->as_string()) == node->symbols.end()) {
          return error(path + "/default", "an enum's default must be one of its symbols");
        }
        node->has_enum_default = true;
      }
      return static_cast<const AvroNode*>(node);
    }
    const Value* fields = value.find("fields");
    if (!fields || !fields->is_array()) return error(path, "a record needs \"fields\"");
    for (size_t i = 0; i < fields->size(); ++i) {
      const Value& field = fields->items()[i];
      std::string field_path = path + "/fields/" + std::to_string(i);
      const Value* field_name = field.find("name");
      if (!field_name || !field_name->is_string() || !valid_name(field_name->as_string())) {
        return error(field_path, "a field needs a valid \"name\"");
      }
      for (const AvroField& other : node->fields) {
        if (other.name == field_name->as_string()) {
          return error(field_path, "the field " + other.name + " is defined twice");
        }
      }
      const Value* field_type = field.find("type");
      if (!field_type) return error(field_path, "a field needs a \"type\"");
      auto type = parse(*field_type, space, field_path + "/type", depth + 1);
      if (!type) return type;
      AvroField parsed{std::string(field_name->as_string()), {}, *type, false};
      if (const Value* aliases = field.find("aliases"); aliases && aliases->is_array()) {
        for (const Value& alias : aliases->items()) {
          if (alias.is_string()) parsed.aliases.emplace_back(alias.as_string());
        }
      }
      if (const Value* fallback = field.find("default")) {
        if (!default_fits(*type, *fallback)) {
          return error(field_path + "/default", "the default does not match the field's type " +
                                                    std::string(kind_name((*type)->kind)));
        }
        parsed.has_default = true;
      }
      node->fields.push_back(std::move(parsed));
    }
    return static_cast<const AvroNode*>(node);
  }

  // A default must be a value of the type (of a union's first branch).
  static bool default_fits(const AvroNode* type, const Value& value) {
    switch (type->kind) {
      case AvroKind::kNull:
        return value.is_null();
      case AvroKind::kBoolean:
        return value.is_bool();
      case AvroKind::kInt:
      case AvroKind::kLong:
        return value.is_integer();
      case AvroKind::kFloat:
      case AvroKind::kDouble:
        return value.is_numeric();
      case AvroKind::kBytes:
      case AvroKind::kString:
      case AvroKind::kFixed:
      case AvroKind::kEnum:
        return value.is_string();
      case AvroKind::kRecord:
      case AvroKind::kMap:
        return value.is_object();
      case AvroKind::kArray:
        return value.is_array();
      case AvroKind::kUnion:
        return !type->branches.empty() && default_fits(type->branches[0], value);
    }
    return false;
  }

  AvroSchema& schema_;
  std::map<std::string, const AvroNode*> named_;
};

Result<AvroSchema> parse_avro(const json::Value& value,
                              const std::vector<const AvroSchema*>& referenced) {
  AvroSchema schema;
  AvroParser parser(schema);
  for (const AvroSchema* other : referenced) parser.add_known(*other);
  auto root = parser.parse(value, "", "", 0);
  if (!root) return root.status();
  parser.set_root(*root);
  return schema;
}

namespace {

class Resolver {
 public:
  std::vector<AvroIncompatibility> take() { return std::move(found_); }

  // Whether `reader` reads all that `writer` wrote; records what it cannot when `report`.
  bool check(const AvroNode* writer, const AvroNode* reader, const std::string& path, bool report) {
    if (!in_progress_.insert({writer, reader}).second) return true;  // recursion: assume yes
    bool ok = check_now(writer, reader, path, report);
    in_progress_.erase({writer, reader});
    return ok;
  }

 private:
  bool fail(bool report, std::string type, const std::string& path, std::string description) {
    if (report)
      found_.push_back({std::move(type), path.empty() ? "/" : path, std::move(description)});
    return false;
  }

  static bool names_match(const AvroNode* writer, const AvroNode* reader) {
    auto simple = [](const std::string& full) {
      return full.substr(full.rfind('.') == std::string::npos ? 0 : full.rfind('.') + 1);
    };
    if (writer->full_name == reader->full_name) return true;
    if (std::find(reader->aliases.begin(), reader->aliases.end(), writer->full_name) !=
        reader->aliases.end()) {
      return true;
    }
    // Avro's resolution compares unqualified names.
    return simple(writer->full_name) == simple(reader->full_name);
  }

  static bool promotes(AvroKind writer, AvroKind reader) {
    if (writer == reader) return true;
    switch (writer) {
      case AvroKind::kInt:
        return reader == AvroKind::kLong || reader == AvroKind::kFloat ||
               reader == AvroKind::kDouble;
      case AvroKind::kLong:
        return reader == AvroKind::kFloat || reader == AvroKind::kDouble;
      case AvroKind::kFloat:
        return reader == AvroKind::kDouble;
      case AvroKind::kString:
        return reader == AvroKind::kBytes;
      case AvroKind::kBytes:
        return reader == AvroKind::kString;
      default:
        return false;
    }
  }

  bool check_now(const AvroNode* writer, const AvroNode* reader, const std::string& path,
                 bool report) {
    if (writer->kind == AvroKind::kUnion) {
      bool ok = true;
      for (size_t i = 0; i < writer->branches.size(); ++i) {
        if (!check(writer->branches[i], reader, path, false)) {
          ok = fail(report, "MISSING_UNION_BRANCH", path,
                    "reader union lacking writer type: " +
                        std::string(kind_name(writer->branches[i]->kind)));
        }
      }
      return ok;
    }
    if (reader->kind == AvroKind::kUnion) {
      for (const AvroNode* branch : reader->branches) {
        if (check(writer, branch, path, false)) return true;
      }
      return fail(report, "MISSING_UNION_BRANCH", path,
                  "reader union lacking writer type: " + std::string(kind_name(writer->kind)));
    }
    bool named = writer->kind == AvroKind::kRecord || writer->kind == AvroKind::kEnum ||
                 writer->kind == AvroKind::kFixed;
    if (writer->kind != reader->kind) {
      if (!named && promotes(writer->kind, reader->kind)) return true;
      return fail(report, "TYPE_MISMATCH", path,
                  "reader type: " + std::string(kind_name(reader->kind)) +
                      " not compatible with writer type: " + std::string(kind_name(writer->kind)));
    }
    if (named && !names_match(writer, reader)) {
      return fail(report, "NAME_MISMATCH", path + "/name", "expected: " + writer->full_name);
    }
    switch (reader->kind) {
      case AvroKind::kFixed:
        if (writer->size != reader->size) {
          return fail(report, "FIXED_SIZE_MISMATCH", path + "/size",
                      "expected: " + std::to_string(writer->size) +
                          ", found: " + std::to_string(reader->size));
        }
        return true;
      case AvroKind::kEnum: {
        if (reader->has_enum_default) return true;
        std::string missing;
        for (const std::string& symbol : writer->symbols) {
          if (std::find(reader->symbols.begin(), reader->symbols.end(), symbol) ==
              reader->symbols.end()) {
            missing += (missing.empty() ? "" : ", ") + symbol;
          }
        }
        if (missing.empty()) return true;
        return fail(report, "MISSING_ENUM_SYMBOLS", path + "/symbols", "[" + missing + "]");
      }
      case AvroKind::kArray:
        return check(writer->items, reader->items, path + "/items", report);
      case AvroKind::kMap:
        return check(writer->items, reader->items, path + "/values", report);
      case AvroKind::kRecord: {
        bool ok = true;
        for (size_t i = 0; i < reader->fields.size(); ++i) {
          const AvroField& field = reader->fields[i];
          std::string field_path = path + "/fields/" + std::to_string(i);
          const AvroField* source = nullptr;
          for (const AvroField& candidate : writer->fields) {
            if (candidate.name == field.name ||
                std::find(field.aliases.begin(), field.aliases.end(), candidate.name) !=
                    field.aliases.end()) {
              source = &candidate;
              break;
            }
          }
          if (source) {
            ok = check(source->type, field.type, field_path + "/type", report) && ok;
          } else if (!field.has_default) {
            ok = fail(report, "READER_FIELD_MISSING_DEFAULT_VALUE", field_path, field.name);
          }
        }
        return ok;
      }
      default:
        return true;
    }
  }

  std::set<std::pair<const AvroNode*, const AvroNode*>> in_progress_;
  std::vector<AvroIncompatibility> found_;
};

}  // namespace

std::vector<AvroIncompatibility> avro_incompatibilities(const AvroSchema& writer,
                                                        const AvroSchema& reader) {
  Resolver resolver;
  resolver.check(writer.root(), reader.root(), "", true);
  return resolver.take();
}

std::string avro_incompatibility_message(const AvroIncompatibility& incompatibility) {
  return "{errorType:'" + incompatibility.type + "', description:'" + incompatibility.description +
         "', path:'" + incompatibility.path + "'}";
}

}  // namespace canonry::registry
