#include "pipeline/routes.h"

#include "json/parser.h"
#include "json/writer.h"

namespace canonry::pipeline {
namespace {

// The canonical keys a path segment may name, most likely first.
std::vector<std::string> key_candidates(std::string_view segment) {
  std::vector<std::string> out;
  std::string quoted;
  json::append_quoted(quoted, segment);
  out.push_back(quoted);
  Arena arena;
  json::ParseOptions plain;
  plain.extended_json = false;
  auto parsed = json::parse(segment, arena, plain);
  if (parsed && !parsed->is_container()) {
    std::string compact = json::to_json(*parsed);
    if (compact != quoted) out.push_back(compact);
  }
  return out;
}

std::string status_json(const Runtime& runtime) {
  const PipelineStats& stats = runtime.stats();
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("pipeline");
  w.string(stats.pipeline());
  w.key("partitions");
  w.begin_array();
  for (const auto& partition : stats.partitions()) {
    w.begin_object();
    w.key("source");
    w.string(partition->partition.source);
    w.key("partition");
    w.value(json::Value::integer(partition->partition.partition));
    auto number = [&](const char* name, int64_t value) {
      w.key(name);
      w.value(json::Value::integer(value));
    };
    number("received", static_cast<int64_t>(partition->received.load()));
    number("upserts", static_cast<int64_t>(partition->upserts.load()));
    number("deletes", static_cast<int64_t>(partition->deletes.load()));
    number("dropped", static_cast<int64_t>(partition->dropped.load()));
    number("dlq", static_cast<int64_t>(partition->dead_letters.load()));
    number("errors", static_cast<int64_t>(partition->errors.load()));
    number("lag", partition->lag.load());
    number("committed", partition->committed.load());
    w.end_object();
  }
  w.end_array();
  w.key("sinks");
  w.begin_array();
  for (const auto& sink : stats.sinks()) {
    w.begin_object();
    w.key("role");
    w.string(sink->role);
    w.key("sink");
    w.string(sink->name);
    w.key("batches");
    w.value(json::Value::integer(static_cast<int64_t>(sink->batches.load())));
    w.key("errors");
    w.value(json::Value::integer(static_cast<int64_t>(sink->errors.load())));
    w.key("latency_p50_seconds");
    w.value(json::Value::number(sink->latency.quantile(0.5)));
    w.key("latency_p99_seconds");
    w.value(json::Value::number(sink->latency.quantile(0.99)));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace

void add_pipeline_routes(server::Server& server, const Runtime& runtime, StateStore* state) {
  server.route("GET", "/metrics", [&runtime](const server::Request&) {
    return server::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                            runtime.stats().prometheus()};
  });
  server.route("GET", "/api/v1/pipeline", [&runtime](const server::Request&) {
    return server::Response::json(status_json(runtime));
  });
  server.route("GET", "/api/v1/entities/{subject}/{key}", [state](const server::Request& request) {
    if (state == nullptr) {
      return server::Response::error(404, 40401, "this pipeline has no state store");
    }
    for (const std::string& key : key_candidates(request.param("key"))) {
      auto found = state->get(request.param("subject"), key);
      if (!found) return server::Response::error(503, 50301, found.status().message());
      if (*found) return server::Response::json(**found);
    }
    return server::Response::error(404, 40402,
                                   "no entity " + std::string(request.param("key")) + " in " +
                                       std::string(request.param("subject")));
  });
}

}  // namespace canonry::pipeline
