#include "registry/routes.h"

#include <charconv>

#include "json/writer.h"

namespace canonry::registry {

namespace {

using server::Request;
using server::Response;

Response reply(std::string body, int status = 200) {
  return Response{status, std::string(kContentType), std::move(body)};
}

Response error_reply(const ApiError& error) {
  Response response = Response::error(error.http_status(), error.error_code, error.message);
  response.content_type = std::string(kContentType);
  return response;
}

std::string json_string(std::string_view text) {
  std::string out;
  json::append_quoted(out, text);
  return out;
}

template <typename Numbers>
std::string json_numbers(const Numbers& numbers) {
  std::string out = "[";
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(numbers[i]);
  }
  return out + "]";
}

std::string json_strings(const std::vector<std::string>& strings) {
  std::string out = "[";
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, strings[i]);
  }
  return out + "]";
}

// schemaType is left out for AVRO and references when there are none, as Confluent does.
void write_schema_fields(json::Writer& writer, const SchemaEntry& entry) {
  if (entry.schema_type != "AVRO") {
    writer.key("schemaType");
    writer.string(entry.schema_type);
  }
  if (!entry.references.empty()) {
    writer.key("references");
    writer.raw(entry.references_json);
  }
  writer.key("schema");
  writer.string(entry.schema);
}

std::string version_json(const SubjectVersion& version) {
  std::string out;
  json::Writer writer(out);
  writer.begin_object();
  writer.key("subject");
  writer.string(version.subject);
  writer.key("version");
  writer.raw(std::to_string(version.version));
  writer.key("id");
  writer.raw(std::to_string(version.schema->id));
  write_schema_fields(writer, *version.schema);
  writer.end_object();
  return out;
}

std::optional<int> parse_id(std::string_view text) {
  int id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id < 0) return std::nullopt;
  return id;
}

// The body of a registration, lookup or compatibility check.
Outcome<SchemaRequest> parse_schema_request(const Request& request) {
  Arena arena;
  auto body = request.json(arena);
  if (!body) {
    return ApiError{request.body.empty() ? 42201 : 400,
                    request.body.empty()
                        ? "Invalid schema: the request has no body"
                        : "The request body is not valid JSON: " + body.status().to_string()};
  }
  if (!body->is_object()) return ApiError{400, "The request body must be a JSON object"};
  SchemaRequest parsed;
  const json::Value* schema = body->find("schema");
  if (!schema || !schema->is_string()) {
    return ApiError{42201, "Invalid schema: \"schema\" must be a string holding the schema"};
  }
  parsed.schema = std::string(schema->as_string());
  if (const json::Value* type = body->find("schemaType"); type && !type->is_null()) {
    if (!type->is_string())
      return ApiError{42201, "Invalid schema: \"schemaType\" is not a string"};
    parsed.schema_type = std::string(type->as_string());
  }
  if (const json::Value* references = body->find("references");
      references && !references->is_null()) {
    if (!references->is_array()) {
      return ApiError{42201, "Invalid schema: \"references\" must be an array"};
    }
    for (const json::Value& item : references->items()) {
      const json::Value* name = item.find("name");
      const json::Value* subject = item.find("subject");
      const json::Value* version = item.find("version");
      if (!name || !name->is_string() || !subject || !subject->is_string() || !version ||
          !version->is_integer()) {
        return ApiError{42201,
                        "Invalid schema: a reference is {\"name\": string, \"subject\": string, "
                        "\"version\": integer}"};
      }
      parsed.references.push_back({std::string(name->as_string()),
                                   std::string(subject->as_string()),
                                   static_cast<int>(version->as_int())});
    }
  }
  for (auto [key, out] : {std::pair{"id", &parsed.id}, std::pair{"version", &parsed.version}}) {
    const json::Value* value = body->find(key);
    if (!value || value->is_null()) continue;
    if (!value->is_integer() || value->as_int() <= 0 || value->as_int() > INT32_MAX) {
      return ApiError{42201,
                      std::string("Invalid schema: \"") + key + "\" must be a positive integer"};
    }
    *out = static_cast<int>(value->as_int());
  }
  return parsed;
}

// A string member of a small JSON body ({"compatibility": "FULL"}); nullopt when absent.
Outcome<std::optional<std::string>> body_string(const Request& request, std::string_view key) {
  Arena arena;
  auto body = request.json(arena);
  if (!body)
    return ApiError{400, "The request body is not valid JSON: " + body.status().to_string()};
  if (!body->is_object()) return ApiError{400, "The request body must be a JSON object"};
  const json::Value* value = body->find(key);
  if (!value || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return ApiError{400, "\"" + std::string(key) + "\" must be a string"};
  return std::optional<std::string>(std::string(value->as_string()));
}

bool normalize_requested(const Request& request) {
  return request.query_flag("normalize");
}

}  // namespace

void add_routes(server::Server& server, Registry& registry) {
  using server::Access;
  Registry* r = &registry;

  server.route("GET", "/", [](const Request&) { return reply("{}"); });

  // Subjects and versions.
  server.route("GET", "/subjects", [r](const Request& request) {
    return reply(json_strings(r->subjects(request.query_param("subjectPrefix").value_or(""),
                                          request.query_flag("deleted"))));
  });
  server.route("GET", "/subjects/{subject}/versions", [r](const Request& request) {
    auto versions =
        r->versions(std::string(request.param("subject")), request.query_flag("deleted"));
    if (!versions.ok()) return error_reply(versions.error());
    return reply(json_numbers(versions.value()));
  });
  server.route("POST", "/subjects/{subject}/versions", [r](const Request& request) {
    auto schema = parse_schema_request(request);
    if (!schema.ok()) return error_reply(schema.error());
    auto id = r->register_schema(std::string(request.param("subject")), std::move(schema.value()),
                                 normalize_requested(request));
    if (!id.ok()) return error_reply(id.error());
    return reply("{\"id\":" + std::to_string(id.value()) + "}");
  });
  server.route("GET", "/subjects/{subject}/versions/{version}", [r](const Request& request) {
    auto version = r->version(std::string(request.param("subject")), request.param("version"),
                              request.query_flag("deleted"));
    if (!version.ok()) return error_reply(version.error());
    return reply(version_json(version.value()));
  });
  server.route("GET", "/subjects/{subject}/versions/{version}/schema", [r](const Request& request) {
    auto version = r->version(std::string(request.param("subject")), request.param("version"),
                              request.query_flag("deleted"));
    if (!version.ok()) return error_reply(version.error());
    return reply(version.value().schema->schema);
  });
  server.route(
      "GET", "/subjects/{subject}/versions/{version}/referencedby", [r](const Request& request) {
        auto ids =
            r->referenced_by(std::string(request.param("subject")), request.param("version"));
        if (!ids.ok()) return error_reply(ids.error());
        return reply(json_numbers(ids.value()));
      });
  server.route(
      "POST", "/subjects/{subject}",
      [r](const Request& request) {
        auto schema = parse_schema_request(request);
        if (!schema.ok()) return error_reply(schema.error());
        auto found =
            r->lookup_schema(std::string(request.param("subject")), std::move(schema.value()),
                             normalize_requested(request), request.query_flag("deleted"));
        if (!found.ok()) return error_reply(found.error());
        return reply(version_json(found.value()));
      },
      Access::kRead);
  server.route("DELETE", "/subjects/{subject}", [r](const Request& request) {
    auto deleted =
        r->delete_subject(std::string(request.param("subject")), request.query_flag("permanent"));
    if (!deleted.ok()) return error_reply(deleted.error());
    return reply(json_numbers(deleted.value()));
  });
  server.route("DELETE", "/subjects/{subject}/versions/{version}", [r](const Request& request) {
    auto deleted = r->delete_version(std::string(request.param("subject")),
                                     request.param("version"), request.query_flag("permanent"));
    if (!deleted.ok()) return error_reply(deleted.error());
    return reply(std::to_string(deleted.value()));
  });

  // Schemas by id.
  auto schema_by_id = [r](const Request& request) -> Outcome<std::shared_ptr<const SchemaEntry>> {
    auto id = parse_id(request.param("id"));
    if (!id) return ApiError{40403, "Schema " + std::string(request.param("id")) + " not found"};
    return r->schema_by_id(*id);
  };
  server.route("GET", "/schemas/ids/{id}", [schema_by_id](const Request& request) {
    auto entry = schema_by_id(request);
    if (!entry.ok()) return error_reply(entry.error());
    std::string out;
    json::Writer writer(out);
    writer.begin_object();
    write_schema_fields(writer, *entry.value());
    writer.end_object();
    return reply(std::move(out));
  });
  server.route("GET", "/schemas/ids/{id}/schema", [schema_by_id](const Request& request) {
    auto entry = schema_by_id(request);
    if (!entry.ok()) return error_reply(entry.error());
    return reply(entry.value()->schema);
  });
  server.route("GET", "/schemas/ids/{id}/subjects", [r](const Request& request) {
    auto id = parse_id(request.param("id"));
    auto usages = r->usages_of_id(id.value_or(-1), request.query_flag("deleted"));
    if (!usages.ok()) return error_reply(usages.error());
    std::vector<std::string> subjects;
    for (const auto& [subject, version] : usages.value()) {
      if (subjects.empty() || subjects.back() != subject) subjects.push_back(subject);
    }
    return reply(json_strings(subjects));
  });
  server.route("GET", "/schemas/ids/{id}/versions", [r](const Request& request) {
    auto id = parse_id(request.param("id"));
    auto usages = r->usages_of_id(id.value_or(-1), request.query_flag("deleted"));
    if (!usages.ok()) return error_reply(usages.error());
    std::string out;
    json::Writer writer(out);
    writer.begin_array();
    for (const auto& [subject, version] : usages.value()) {
      writer.begin_object();
      writer.key("subject");
      writer.string(subject);
      writer.key("version");
      writer.raw(std::to_string(version));
      writer.end_object();
    }
    writer.end_array();
    return reply(std::move(out));
  });
  server.route("GET", "/schemas/types",
               [r](const Request&) { return reply(json_strings(r->schema_types())); });
  server.route("GET", "/schemas", [r](const Request& request) {
    auto versions = r->schemas(request.query_param("subjectPrefix").value_or(""),
                               request.query_flag("deleted"), request.query_flag("latestOnly"));
    std::string out = "[";
    for (size_t i = 0; i < versions.size(); ++i) {
      if (i) out += ',';
      out += version_json(versions[i]);
    }
    return reply(out + "]");
  });

  // Compatibility levels.
  auto config_get = [r](const std::string* subject, const Request& request) {
    auto level = r->compatibility(subject, request.query_flag("defaultToGlobal"));
    if (!level.ok()) return error_reply(level.error());
    return reply("{\"compatibilityLevel\":" + json_string(level.value()) + "}");
  };
  auto config_put = [r](const std::string* subject, const Request& request) {
    auto level = body_string(request, "compatibility");
    if (!level.ok()) return error_reply(level.error());
    auto set = r->set_compatibility(subject, level.value().value_or(""));
    if (!set.ok()) return error_reply(set.error());
    return reply("{\"compatibility\":" + json_string(set.value()) + "}");
  };
  auto config_delete = [r](const std::string* subject) {
    auto previous = r->delete_compatibility(subject);
    if (!previous.ok()) return error_reply(previous.error());
    return reply("{\"compatibilityLevel\":" + json_string(previous.value()) + "}");
  };
  server.route("GET", "/config",
               [config_get](const Request& request) { return config_get(nullptr, request); });
  server.route("PUT", "/config",
               [config_put](const Request& request) { return config_put(nullptr, request); });
  server.route("DELETE", "/config",
               [config_delete](const Request&) { return config_delete(nullptr); });
  server.route("GET", "/config/{subject}", [config_get](const Request& request) {
    std::string subject(request.param("subject"));
    return config_get(&subject, request);
  });
  server.route("PUT", "/config/{subject}", [config_put](const Request& request) {
    std::string subject(request.param("subject"));
    return config_put(&subject, request);
  });
  server.route("DELETE", "/config/{subject}", [config_delete](const Request& request) {
    std::string subject(request.param("subject"));
    return config_delete(&subject);
  });

  // Modes.
  auto mode_get = [r](const std::string* subject, const Request& request) {
    auto mode = r->mode(subject, request.query_flag("defaultToGlobal"));
    if (!mode.ok()) return error_reply(mode.error());
    return reply("{\"mode\":" + json_string(mode.value()) + "}");
  };
  auto mode_put = [r](const std::string* subject, const Request& request) {
    auto mode = body_string(request, "mode");
    if (!mode.ok()) return error_reply(mode.error());
    auto set = r->set_mode(subject, mode.value().value_or(""), request.query_flag("force"));
    if (!set.ok()) return error_reply(set.error());
    return reply("{\"mode\":" + json_string(set.value()) + "}");
  };
  server.route("GET", "/mode",
               [mode_get](const Request& request) { return mode_get(nullptr, request); });
  server.route("PUT", "/mode",
               [mode_put](const Request& request) { return mode_put(nullptr, request); });
  server.route("GET", "/mode/{subject}", [mode_get](const Request& request) {
    std::string subject(request.param("subject"));
    return mode_get(&subject, request);
  });
  server.route("PUT", "/mode/{subject}", [mode_put](const Request& request) {
    std::string subject(request.param("subject"));
    return mode_put(&subject, request);
  });
  server.route("DELETE", "/mode/{subject}", [r](const Request& request) {
    std::string subject(request.param("subject"));
    auto previous = r->delete_mode(&subject);
    if (!previous.ok()) return error_reply(previous.error());
    return reply("{\"mode\":" + json_string(previous.value()) + "}");
  });

  // Compatibility checks: reads, though they are POSTs.
  auto check = [r](const Request& request, std::optional<std::string_view> version) {
    auto schema = parse_schema_request(request);
    if (!schema.ok()) return error_reply(schema.error());
    auto report = r->check_compatibility(std::string(request.param("subject")), version,
                                         std::move(schema.value()), normalize_requested(request));
    if (!report.ok()) return error_reply(report.error());
    std::string out =
        report.value().compatible ? "{\"is_compatible\":true" : "{\"is_compatible\":false";
    if (request.query_flag("verbose")) {
      out += ",\"messages\":" + json_strings(report.value().messages);
    }
    return reply(out + "}");
  };
  server.route(
      "POST", "/compatibility/subjects/{subject}/versions/{version}",
      [check](const Request& request) { return check(request, request.param("version")); },
      Access::kRead);
  server.route(
      "POST", "/compatibility/subjects/{subject}/versions",
      [check](const Request& request) { return check(request, std::nullopt); }, Access::kRead);
}

}  // namespace canonry::registry
