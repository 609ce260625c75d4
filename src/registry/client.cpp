#include "registry/client.h"

#include "json/parser.h"
#include "json/writer.h"
#include "registry/routes.h"
#include "server/client.h"

namespace canonry::registry {

namespace {

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// "HTTP 409: <message of the registry>" for an answer that is not a success.
Status answer_error(const std::string& what, const server::HttpResult& answer) {
  std::string message = answer.body;
  Arena arena;
  if (auto body = json::parse(answer.body, arena); body && body->is_object()) {
    if (const json::Value* m = body->find("message"); m && m->is_string()) {
      message = std::string(m->as_string());
    }
  }
  return Status(ErrorCode::kInvalidArgument,
                what + ": HTTP " + std::to_string(answer.status) + ": " + message);
}

}  // namespace

Result<RegisteredId> register_json_schema(const std::string& base_url, const std::string& subject,
                                          const std::string& schema_json,
                                          const std::string& bearer_token) {
  server::HttpCall call;
  call.method = "POST";
  call.url =
      trim_slash(base_url) + "/subjects/" + server::url_encode_segment(subject) + "/versions";
  call.content_type = std::string(kContentType);
  call.bearer_token = bearer_token;
  call.body = "{\"schemaType\":\"JSON\",\"schema\":";
  json::append_quoted(call.body, schema_json);
  call.body += '}';
  auto answer = server::http_call(call);
  if (!answer) return answer.status();
  std::string what = "registering subject " + subject + " at " + base_url;
  if (answer->status != 200) return answer_error(what, *answer);
  Arena arena;
  auto body = json::parse(answer->body, arena);
  const json::Value* id = body && body->is_object() ? body->find("id") : nullptr;
  if (!id || !id->is_integer()) {
    return Status(ErrorCode::kInvalidArgument, what + ": the answer has no id: " + answer->body);
  }
  return RegisteredId{static_cast<int>(id->as_int())};
}

Result<std::string> fetch_latest_schema(const std::string& base_url, const std::string& subject) {
  server::HttpCall call;
  call.url = trim_slash(base_url) + "/subjects/" + server::url_encode_segment(subject) +
             "/versions/latest";
  auto answer = server::http_call(call);
  if (!answer) return answer.status();
  std::string what = "fetching subject " + subject + " from " + base_url;
  if (answer->status != 200) return answer_error(what, *answer);
  Arena arena;
  auto body = json::parse(answer->body, arena);
  const json::Value* schema = body && body->is_object() ? body->find("schema") : nullptr;
  if (!schema || !schema->is_string()) {
    return Status(ErrorCode::kInvalidArgument,
                  what + ": the answer has no schema: " + answer->body);
  }
  return std::string(schema->as_string());
}

}  // namespace canonry::registry
