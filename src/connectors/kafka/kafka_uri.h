// `kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?PROPERTY=VALUE&...]` (DESIGN 4.7): the brokers to
// bootstrap from, the topic, and librdkafka properties (`session.timeout.ms=6000`) plus canonry's
// own (`group`, `instance`), so that a sink given as a bare string can still be tuned.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace canonry::kafka {

struct KafkaUri {
  std::string bootstrap;  // "127.0.0.1:9092,127.0.0.1:9093"
  std::string topic;
  std::map<std::string, std::string> properties;  // in query order is not kept: keys are unique
};

// Parses the part after "kafka:" ("//host:port/topic?k=v"). Errors say what is wrong.
Result<KafkaUri> parse_kafka_uri(std::string_view rest);

}  // namespace canonry::kafka
