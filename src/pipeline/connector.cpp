#include "pipeline/connector.h"

#include <algorithm>
#include <mutex>

namespace canonry::pipeline {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t monotonic_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// Registrations run from static initialisers of the connector modules, in no particular order:
// the table is created on first use.
std::vector<ConnectorFactories>& connectors() {
  static std::vector<ConnectorFactories> table;
  return table;
}

}  // namespace

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::string PartitionKey::to_string() const {
  return source + "/" + std::to_string(partition);
}

std::optional<ConnectorOptions::Option> ConnectorOptions::take(const std::string& key) {
  auto it = options_.find(key);
  if (it == options_.end()) return std::nullopt;
  Option option = std::move(it->second);
  options_.erase(it);
  return option;
}

void ConnectorOptions::fail(const std::string& key, const std::string& message) const {
  auto it = options_.find(key);
  const std::string& where = it != options_.end() ? it->second.where : where_;
  throw ConfigError(where + ": " + key + ": " + message);
}

void register_connector(ConnectorFactories factories) {
  connectors().push_back(std::move(factories));
}

const ConnectorFactories* find_connector(std::string_view scheme) {
  for (const ConnectorFactories& factories : connectors()) {
    if (factories.scheme == scheme) return &factories;
  }
  return nullptr;
}

std::vector<std::string> connector_schemes() {
  std::vector<std::string> schemes;
  for (const ConnectorFactories& factories : connectors()) schemes.push_back(factories.scheme);
  std::sort(schemes.begin(), schemes.end());
  return schemes;
}

Result<std::pair<std::string, std::string>> split_uri(std::string_view uri) {
  size_t colon = uri.find(':');
  bool valid = colon != std::string_view::npos && colon > 0;
  for (size_t i = 0; valid && i < colon; ++i) {
    char c = uri[i];
    valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
  }
  if (!valid) {
    return Status(ErrorCode::kInvalidArgument,
                  "\"" + std::string(uri) + "\" is not a URI (scheme:..., e.g. file:out.jsonl)");
  }
  return std::pair<std::string, std::string>(std::string(uri.substr(0, colon)),
                                             std::string(uri.substr(colon + 1)));
}

std::unique_ptr<StateStore> open_state_store(const std::string& uri) {
  auto split = split_uri(uri);
  if (!split) throw ConfigError("--store: " + split.status().message());
  const ConnectorFactories* factories = find_connector(split->first);
  if (factories == nullptr || !factories->state_store) {
    std::string known;
    for (const std::string& scheme : connector_schemes()) {
      const ConnectorFactories* f = find_connector(scheme);
      if (f->state_store) known += (known.empty() ? "" : ", ") + scheme;
    }
    throw ConfigError("--store: no state store for scheme \"" + split->first +
                      "\" (known: " + known + ")");
  }
  ConnectorOptions options("--store", {});
  ConnectorSpec spec;
  spec.uri = uri;
  spec.scheme = split->first;
  spec.rest = split->second;
  spec.uri_where = "--store";
  spec.resolve_path = [](const std::string& path) { return path; };
  spec.options = &options;
  std::unique_ptr<StateStore> store = factories->state_store(spec);
  SinkContext context;
  context.clock = &system_clock();
  if (Status opened = store->open(context); !opened) {
    throw ConfigError("--store " + uri + ": " + opened.message());
  }
  return store;
}

}  // namespace canonry::pipeline
