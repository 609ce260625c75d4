#include "mapping/spec.h"

#include "common/file.h"
#include "json/keys.h"
#include "json/parser.h"

namespace canonry::mapping {

using json::Value;

namespace {

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_identifier_char(char c) {
  return is_identifier_start(c) || (c >= '0' && c <= '9') || c == '-';
}

Status path_error(std::string_view text, size_t pos, std::string_view what) {
  return Status(ErrorCode::kPathSyntax, std::string(what) + " at position " + std::to_string(pos) +
                                            " of \"" + std::string(text) + "\"");
}

// Byte offset → "line L, column C" for syntax errors in the spec file.
std::string line_and_column(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Status error(const std::string& pointer, const std::string& message) {
    return Status(ErrorCode::kSpec,
                  file_ + ": " + (pointer.empty() ? "/" : pointer) + ": " + message, pointer);
  }

  Status check_keys(const Value& object, const std::string& pointer,
                    std::initializer_list<std::string_view> allowed) {
    if (auto unknown = json::find_unknown_key(object, allowed)) {
      return error(pointer + "/" + std::string(unknown->key), unknown->message);
    }
    return Status::ok();
  }

  Result<std::string> string_member(const Value& object, std::string_view key,
                                    const std::string& pointer, bool required) {
    const Value* v = object.find(key);
    if (v == nullptr) {
      if (required) return error(pointer, "missing \"" + std::string(key) + "\"");
      return std::string();
    }
    if (!v->is_string() || v->as_string().empty()) {
      return error(pointer + "/" + std::string(key), "must be a non-empty string");
    }
    return std::string(v->as_string());
  }

  Result<MappingSpec> load(std::string_view text) {
    MappingSpec spec;
    spec.file = file_;
    spec.storage = std::make_shared<Arena>(16 * 1024);
    json::ParseOptions options;
    options.extended_json = false;  // a spec is plain JSON; "$"-keys mean nothing special here
    auto parsed = json::parse(text, *spec.storage, options);
    if (!parsed) {
      std::string message = parsed.status().message();
      size_t at = message.rfind("at byte ");
      std::string where;
      if (at != std::string::npos) {
        where = " (" + line_and_column(text, std::stoul(message.substr(at + 8))) + ")";
      }
      return Status(ErrorCode::kSpec, file_ + ": not valid JSON: " + message + where);
    }
    spec.document = *parsed;
    const Value& root = spec.document;
    if (!root.is_object()) return error("", "a mapping spec is a JSON object");
    CANONRY_RETURN_IF_ERROR(check_keys(root, "",
                                       {"mappingId", "description", "source", "target", "key",
                                        "eventTime", "fieldMappings", "defaults", "tests"}));
    auto id = string_member(root, "mappingId", "", true);
    if (!id) return id.take_status();
    spec.mapping_id = *id;

    if (const Value* source = root.find("source")) {
      if (!source->is_object()) return error("/source", "must be an object");
      if (const Value* format = source->find("format")) {
        if (!format->is_string()) return error("/source/format", "must be a string");
        spec.source_format = std::string(format->as_string());
      }
    }
    if (const Value* target = root.find("target")) {
      if (!target->is_object()) return error("/target", "must be an object");
      auto subject = string_member(*target, "subject", "/target", false);
      if (!subject) return subject.take_status();
      spec.target_subject = *subject;
    }
    for (auto [name, slot] :
         {std::pair{"key", &spec.key}, std::pair{"eventTime", &spec.event_time}}) {
      auto path = string_member(root, name, "", false);
      if (!path) return path.take_status();
      if (!path->empty()) {
        auto steps = parse_target_path(*path);
        if (!steps) return error(std::string("/") + name, steps.status().message());
        for (const TargetStep& step : *steps) {
          if (step.is_wildcard()) {
            return error(std::string("/") + name, "must name one field, without [*]");
          }
        }
      }
      *slot = *path;
    }

    const Value* fields = root.find("fieldMappings");
    if (fields == nullptr) return error("", "missing \"fieldMappings\"");
    if (!fields->is_array()) return error("/fieldMappings", "must be an array");
    for (size_t i = 0; i < fields->items().size(); ++i) {
      const Value& f = fields->items()[i];
      std::string pointer = "/fieldMappings/" + std::to_string(i);
      if (!f.is_object()) return error(pointer, "a field mapping is an object");
      CANONRY_RETURN_IF_ERROR(
          check_keys(f, pointer, {"src", "dst", "transform", "expr", "description"}));
      FieldMappingSpec field;
      field.pointer = pointer;
      auto dst = string_member(f, "dst", pointer, true);
      if (!dst) return dst.take_status();
      field.dst = *dst;
      auto steps = parse_target_path(field.dst);
      if (!steps) return error(pointer + "/dst", steps.status().message());
      const Value* src = f.find("src");
      const Value* expr = f.find("expr");
      if ((src == nullptr) == (expr == nullptr)) {
        return error(pointer, "needs exactly one of \"src\" and \"expr\"");
      }
      if (src != nullptr) {
        if (src->is_string()) {
          field.src.emplace_back(src->as_string());
        } else if (src->is_array() && src->size() > 0) {
          for (size_t j = 0; j < src->items().size(); ++j) {
            if (!src->items()[j].is_string()) {
              return error(pointer + "/src/" + std::to_string(j), "must be a JSONPath string");
            }
            field.src.emplace_back(src->items()[j].as_string());
          }
        } else {
          return error(pointer + "/src", "must be a JSONPath or a non-empty list of them");
        }
      } else {
        if (!expr->is_string() || expr->as_string().empty()) {
          return error(pointer + "/expr", "must be a non-empty expression string");
        }
        field.expr = std::string(expr->as_string());
      }
      if (const Value* transform = f.find("transform")) field.transform = transform;
      spec.fields.push_back(std::move(field));
    }

    if (const Value* defaults = root.find("defaults")) {
      if (!defaults->is_object())
        return error("/defaults", "must be an object of top-level fields");
      spec.defaults = defaults;
    }
    if (const Value* tests = root.find("tests")) {
      if (!tests->is_array()) return error("/tests", "must be an array");
      for (size_t i = 0; i < tests->items().size(); ++i) {
        const Value& t = tests->items()[i];
        std::string pointer = "/tests/" + std::to_string(i);
        if (!t.is_object()) return error(pointer, "a test is an object");
        CANONRY_RETURN_IF_ERROR(check_keys(t, pointer, {"name", "input", "expect", "expectError"}));
        SpecTest test;
        test.pointer = pointer;
        test.input = t.find("input");
        test.expect = t.find("expect");
        if (test.input == nullptr) return error(pointer, "missing \"input\"");
        if (const Value* e = t.find("expectError")) {
          if (!e->is_string()) return error(pointer + "/expectError", "must be a string");
          test.expect_error = std::string(e->as_string());
        }
        if ((test.expect == nullptr) == test.expect_error.empty()) {
          return error(pointer, "needs exactly one of \"expect\" and \"expectError\"");
        }
        if (test.expect != nullptr && !test.expect->is_object()) {
          return error(pointer + "/expect", "must be an object (the expected fields)");
        }
        spec.tests.push_back(test);
      }
    }
    return spec;
  }

 private:
  std::string file_;
};

}  // namespace

Result<std::vector<TargetStep>> parse_target_path(std::string_view text) {
  std::vector<TargetStep> steps;
  if (text.empty() || text[0] != '$') return path_error(text, 0, "a target path starts with '$'");
  size_t pos = 1;
  while (pos < text.size()) {
    char c = text[pos];
    if (c == '.') {
      ++pos;
      size_t start = pos;
      if (pos >= text.size() || !is_identifier_start(text[pos])) {
        return path_error(text, pos, "expected a field name");
      }
      while (pos < text.size() && is_identifier_char(text[pos])) ++pos;
      steps.push_back({std::string(text.substr(start, pos - start))});
    } else if (c == '[') {
      if (text.substr(pos, 3) == "[*]") {
        steps.push_back({""});
        pos += 3;
        continue;
      }
      ++pos;
      if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"')) {
        return path_error(text, pos, "expected [*] or a quoted name");
      }
      char quote = text[pos++];
      std::string name;
      while (pos < text.size() && text[pos] != quote) {
        if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
        name += text[pos++];
      }
      if (pos >= text.size()) return path_error(text, pos, "unterminated quoted name");
      ++pos;
      if (pos >= text.size() || text[pos] != ']') return path_error(text, pos, "expected ']'");
      ++pos;
      if (name.empty()) return path_error(text, pos, "empty field name");
      steps.push_back({name});
    } else {
      return path_error(text, pos, "unexpected character '" + std::string(1, c) + "'");
    }
  }
  if (steps.empty()) return path_error(text, pos, "a target path names at least one field");
  if (steps[0].is_wildcard())
    return path_error(text, 1, "the canonical record is an object, not an array");
  return steps;
}

std::string target_path_text(const std::vector<TargetStep>& steps) {
  std::string out = "$";
  for (const TargetStep& step : steps) {
    if (step.is_wildcard()) {
      out += "[*]";
    } else {
      bool plain = is_identifier_start(step.name[0]);
      for (char c : step.name) plain = plain && is_identifier_char(c);
      out += plain ? "." + step.name : "['" + step.name + "']";
    }
  }
  return out;
}

Result<MappingSpec> load_spec_text(std::string_view text, const std::string& file) {
  return Loader(file).load(text);
}

Result<MappingSpec> load_spec_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return Status(ErrorCode::kIo, path + ": cannot open the mapping spec");
  return load_spec_text(*text, path);
}

}  // namespace canonry::mapping
