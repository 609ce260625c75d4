#include "connectors/kafka/kafka_uri.h"

#include <cctype>

namespace canonry::kafka {
namespace {

// Kafka's own rule for topic names: 1 to 249 of [a-zA-Z0-9._-].
bool valid_topic(std::string_view topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  for (char c : topic) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool valid_broker(std::string_view broker) {
  size_t colon = broker.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == broker.size()) return false;
  for (char c : broker.substr(colon + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<KafkaUri> parse_kafka_uri(std::string_view rest) {
  const auto fail = [](std::string message) {
    return Result<KafkaUri>(ErrorCode::kInvalidArgument,
                            message + " (expected kafka://HOST:PORT/TOPIC[?PROPERTY=VALUE&...])");
  };
  if (!rest.starts_with("//")) return fail("missing // after kafka:");
  rest.remove_prefix(2);
  std::string_view query;
  if (size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return fail("no topic");
  KafkaUri uri;
  uri.bootstrap = std::string(rest.substr(0, slash));
  uri.topic = std::string(rest.substr(slash + 1));
  if (uri.bootstrap.empty()) return fail("no broker");
  std::string_view brokers = uri.bootstrap;
  for (;;) {
    size_t comma = brokers.find(',');
    std::string_view broker = brokers.substr(0, comma);
    if (!valid_broker(broker)) return fail("broker '" + std::string(broker) + "' is not HOST:PORT");
    if (comma == std::string_view::npos) break;
    brokers.remove_prefix(comma + 1);
  }
  if (!valid_topic(uri.topic)) {
    return fail("topic '" + uri.topic + "' is not 1 to 249 characters of [a-zA-Z0-9._-]");
  }
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return fail("query item '" + std::string(pair) + "' is not PROPERTY=VALUE");
    }
    std::string key(pair.substr(0, equals));
    if (!uri.properties.emplace(key, std::string(pair.substr(equals + 1))).second) {
      return fail("property '" + key + "' given twice");
    }
  }
  return uri;
}

}  // namespace canonry::kafka
