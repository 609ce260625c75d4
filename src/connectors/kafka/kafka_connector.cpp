// Registers the `kafka` scheme: sources `kafka://HOST:PORT/TOPIC` (consumer group members) and
// events / DLQ sinks on a topic (transactional producers). Everything is checked here, before
// anything connects: the URI, canonry's own keys, and every librdkafka property by name and value.
#include <unistd.h>

#include <cstdlib>

#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/kafka/kafka_uri.h"

namespace canonry::kafka {
namespace {

using pipeline::ConnectorFactories;
using pipeline::ConnectorSpec;
using pipeline::SourceSpec;

[[noreturn]] void fail_uri(const ConnectorSpec& spec, const std::string& message) {
  throw ConfigError(spec.uri_where + ": " + spec.uri + ": " + message);
}

KafkaUri parse_or_throw(const ConnectorSpec& spec) {
  auto uri = parse_kafka_uri(spec.rest);
  if (!uri) fail_uri(spec, uri.status().message());
  return *uri;
}

// Takes canonry's own key out of the URI's properties.
std::optional<std::string> take_property(KafkaUri& uri, const std::string& key) {
  auto found = uri.properties.find(key);
  if (found == uri.properties.end()) return std::nullopt;
  std::string value = found->second;
  uri.properties.erase(found);
  return value;
}

void check_properties(const ConnectorSpec& spec,
                      const std::map<std::string, std::string>& properties) {
  auto conf = make_conf(properties);
  if (!conf) fail_uri(spec, conf.status().message());
}

std::string default_instance() {
  if (const char* instance = std::getenv("CANONRY_INSTANCE"); instance != nullptr && *instance) {
    return instance;
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "0";
}

// The process's name among those that run the pipeline: the entry's `instance` (option or URI
// property), else $CANONRY_INSTANCE, else the host name (stable and distinct for the pods of a
// Kubernetes StatefulSet).
std::string take_instance(const ConnectorSpec& spec, KafkaUri& uri) {
  std::optional<std::string> instance = take_property(uri, "instance");
  if (auto option = spec.options->take("instance")) {
    if (instance) spec.options->fail("instance", "given both here and in the URI");
    instance = option->value;
  }
  std::string name = instance.value_or(default_instance());
  if (name.empty()) fail_uri(spec, "instance must not be empty");
  return name;
}

std::unique_ptr<pipeline::Source> make_source(const SourceSpec& spec) {
  if (spec.format != "json" && spec.format != "debezium" && spec.format != "kcat" &&
      spec.format != "auto") {
    throw ConfigError(spec.uri_where + ": source " + spec.name + ": format " + spec.format +
                      " is not read from Kafka (json, debezium, kcat or auto)");
  }
  KafkaUri uri = parse_or_throw(spec);
  KafkaSourceConfig config;
  config.name = spec.name;
  config.bootstrap = uri.bootstrap;
  config.topic = uri.topic;
  std::optional<std::string> group = take_property(uri, "group");
  if (auto option = spec.options->take("group")) {
    if (group) spec.options->fail("group", "given both here and in the URI");
    if (option->value.empty()) spec.options->fail("group", "must not be empty");
    group = option->value;
  }
  config.group = group.value_or("canonry");
  config.instance = take_instance(spec, uri);
  config.until_end = spec.until_end;
  check_properties(spec, uri.properties);
  config.properties = std::move(uri.properties);
  return std::make_unique<KafkaSource>(std::move(config));
}

std::unique_ptr<pipeline::Sink> make_sink(const ConnectorSpec& spec, std::string_view role) {
  if (role != "events" && role != "dlq") {
    throw ConfigError(spec.uri_where + ": a Kafka topic is no " + std::string(role) + " sink");
  }
  KafkaUri uri = parse_or_throw(spec);
  KafkaSinkConfig config;
  config.role = std::string(role);
  config.description = spec.uri;
  config.bootstrap = uri.bootstrap;
  config.topic = uri.topic;
  config.instance = take_instance(spec, uri);
  check_properties(spec, uri.properties);
  config.properties = std::move(uri.properties);
  return std::make_unique<KafkaSink>(std::move(config));
}

ConnectorFactories make_kafka_connector() {
  ConnectorFactories factories;
  factories.scheme = "kafka";
  factories.source = make_source;
  factories.sink = make_sink;
  return factories;
}

CANONRY_REGISTER_CONNECTOR(make_kafka_connector);

}  // namespace
}  // namespace canonry::kafka
