#include "schema/schema_file.h"

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "common/file.h"
#include "json/parser.h"
#include "schema/validator_internal.h"

namespace canonry::schema {

namespace {

// file: URIs of absolute paths, the base of the schema file's relative references.
std::string file_uri(const std::string& path) {
  std::error_code ignored;
  std::string absolute = std::filesystem::absolute(path, ignored).lexically_normal().string();
  std::string uri = "file://";
  for (char c : absolute) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || std::string_view("/-._~").find(c) != std::string_view::npos) {
      uri += c;
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", byte);
      uri += escaped;
    }
  }
  return uri;
}

// Remote references of a schema file: other files, named relative to it (or by file: URI).
Result<std::string> resolve_file(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (!uri.starts_with(kScheme)) {
    return Status(ErrorCode::kIo, "only files can be referenced (no network access)");
  }
  std::string path;
  if (!detail::percent_decode(uri.substr(kScheme.size()), path)) {
    return Status(ErrorCode::kIo, "malformed file URI");
  }
  return read_file(path);
}

}  // namespace

Result<Validator> load_validator(const std::string& path, ValidatorOptions options) {
  auto text = read_file(path);
  if (!text) return text.take_status();
  Arena arena;
  json::ParseOptions plain;
  plain.extended_json = false;  // a schema is plain JSON: {"$ref": ...} is no wrapper
  auto value = json::parse(*text, arena, plain);
  if (!value) {
    return Status(ErrorCode::kSchema, path + ": " + value.status().to_string());
  }
  options.resolve_remote = resolve_file;
  options.base_uri = file_uri(path);
  auto validator = Validator::compile(*value, options);
  if (!validator) {
    return Status(ErrorCode::kSchema, path + ": " + validator.status().message() + " (at " +
                                          validator.status().path() + ")");
  }
  return validator;
}

}  // namespace canonry::schema
