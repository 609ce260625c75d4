#include <gtest/gtest.h>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_uri.h"

namespace canonry::kafka {
namespace {

TEST(KafkaUri, BrokersTopicAndProperties) {
  auto uri = parse_kafka_uri(
      "//127.0.0.1:9092,kafka-1.internal:9093/raw.mongo.orders"
      "?group=canonry&session.timeout.ms=6000");
  ASSERT_TRUE(uri) << uri.status().to_string();
  EXPECT_EQ(uri->bootstrap, "127.0.0.1:9092,kafka-1.internal:9093");
  EXPECT_EQ(uri->topic, "raw.mongo.orders");
  EXPECT_EQ(uri->properties.at("group"), "canonry");
  EXPECT_EQ(uri->properties.at("session.timeout.ms"), "6000");
}

TEST(KafkaUri, NoQuery) {
  auto uri = parse_kafka_uri("//localhost:9092/canonical.order.v1");
  ASSERT_TRUE(uri);
  EXPECT_TRUE(uri->properties.empty());
}

TEST(KafkaUri, Rejects) {
  for (const char* rest : {"localhost:9092/topic", "//localhost:9092", "///topic",
                           "//localhost/topic", "//localhost:90x2/topic", "//h:1/bad topic",
                           "//h:1/", "//h:1/t?novalue", "//h:1/t?a=1&a=2", "//h:1,/t"}) {
    auto uri = parse_kafka_uri(rest);
    EXPECT_FALSE(uri) << rest;
    if (!uri) {
      EXPECT_EQ(uri.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(uri.status().message().find("kafka://HOST:PORT/TOPIC"), std::string::npos);
    }
  }
}

TEST(KafkaConf, UnknownPropertyIsNamed) {
  auto conf = make_conf({{"session.timeout.ms", "6000"}, {"no.such.property", "1"}});
  ASSERT_FALSE(conf);
  EXPECT_NE(conf.status().message().find("no.such.property"), std::string::npos);
  EXPECT_TRUE(make_conf({{"session.timeout.ms", "6000"}}));
}

TEST(KafkaStatus, NamesTheError) {
  Status status = kafka_status("commit", RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
  EXPECT_EQ(status.code(), ErrorCode::kKafka);
  EXPECT_NE(status.message().find("NOT_COORDINATOR"), std::string::npos);
  EXPECT_TRUE(kafka_status("commit", RD_KAFKA_RESP_ERR_NO_ERROR).is_ok());
}

}  // namespace
}  // namespace canonry::kafka
