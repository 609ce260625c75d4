#include "pipeline/connector.h"

#include <gtest/gtest.h>

namespace canonry::pipeline {
namespace {

TEST(SplitUri, SchemeAndRest) {
  auto split = split_uri("kafka://127.0.0.1:9092/raw.orders");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->first, "kafka");
  EXPECT_EQ(split->second, "//127.0.0.1:9092/raw.orders");
  auto file = split_uri("file:var/out.jsonl");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->first, "file");
  EXPECT_EQ(file->second, "var/out.jsonl");
}

TEST(SplitUri, RejectsWhatHasNoScheme) {
  EXPECT_FALSE(split_uri("var/out.jsonl"));
  EXPECT_FALSE(split_uri(":x"));
  EXPECT_FALSE(split_uri("1file:x"));
  EXPECT_FALSE(split_uri("/abs/path:x"));
}

TEST(ConnectorOptions, TakeRemovesAndFailNamesTheLocation) {
  ConnectorOptions options(
      "p.yaml:3:5", {{"group", {"canonry", "p.yaml:4:12"}}, {"follow", {"true", "p.yaml:5:13"}}});
  auto group = options.take("group");
  ASSERT_TRUE(group);
  EXPECT_EQ(group->value, "canonry");
  EXPECT_FALSE(options.take("group"));
  EXPECT_EQ(options.remaining().size(), 1u);
  try {
    options.fail("follow", "expected true or false");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "p.yaml:5:13: follow: expected true or false");
  }
  try {
    options.fail("missing", "is required");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "p.yaml:3:5: missing: is required");
  }
}

TEST(Batch, AppendedTextIsViewedBack) {
  Batch batch;
  TextRef a = batch.append("\"A-1\"");
  TextRef b = batch.append("{\"order_id\":\"A-1\"}");
  EXPECT_EQ(batch.view(a), "\"A-1\"");
  EXPECT_EQ(batch.view(b), "{\"order_id\":\"A-1\"}");
  EXPECT_TRUE(TextRef{}.empty());
}

TEST(PartitionKey, OrdersBySourceThenPartition) {
  EXPECT_LT((PartitionKey{"a", 5}), (PartitionKey{"b", 0}));
  EXPECT_LT((PartitionKey{"a", 1}), (PartitionKey{"a", 2}));
  EXPECT_EQ((PartitionKey{"shop", 3}).to_string(), "shop/3");
}

}  // namespace
}  // namespace canonry::pipeline
