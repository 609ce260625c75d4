#include <gtest/gtest.h>

#include "common/arena.h"
#include "connectors/mongodb/bson_writer.h"
#include "connectors/mongodb/connection.h"
#include "formats/bson.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::mongodb {
namespace {

TEST(MongoTarget, SplitsDatabaseAndCollectionAtTheFirstDot) {
  Result<Target> target = parse_target("mongodb://127.0.0.1:27017/shop.orders.archive");
  ASSERT_TRUE(target) << target.status().message();
  EXPECT_EQ(target->database, "shop");
  EXPECT_EQ(target->collection, "orders.archive");
  EXPECT_EQ(target->client_uri, "mongodb://127.0.0.1:27017/shop");
}

TEST(MongoTarget, KeepsOptionsAndHidesCredentialsWhenDescribed) {
  Result<Target> target =
      parse_target("mongodb://user:secret@h1:1,h2:2/shop.orders?replicaSet=rs0&w=majority");
  ASSERT_TRUE(target) << target.status().message();
  EXPECT_EQ(target->client_uri, "mongodb://user:secret@h1:1,h2:2/shop?replicaSet=rs0&w=majority");
  EXPECT_EQ(target->describe(), "mongodb://h1:1,h2:2/shop.orders");
  EXPECT_TRUE(parse_target("mongodb+srv://cluster.example/shop.orders"));
}

TEST(MongoTarget, RejectsWhatNamesNoCollection) {
  for (const char* uri : {"mongodb://h:1/shop", "mongodb://h:1/", "mongodb://h:1",
                          "mongodb://h:1/.orders", "mongodb://h:1/shop.", "mongodb:///shop.o",
                          "postgres://h/shop.orders", "mongodb://h:1?w=1"}) {
    Result<Target> target = parse_target(uri);
    EXPECT_FALSE(target) << uri;
    EXPECT_EQ(target.status().code(), ErrorCode::kInvalidArgument) << uri;
  }
}

// JSON text → Value → BSON → Value → JSON text must give back the text canonry wrote, so that
// applications reading `doc` from MongoDB see the values the mapping produced.
std::string round_trip(std::string_view text, bool decimal128 = true) {
  Arena arena;
  Result<json::Value> value = json::parse(text, arena);
  EXPECT_TRUE(value) << value.status().message();
  bson_t document = BSON_INITIALIZER;
  Status status = append_members(&document, *value, decimal128);
  EXPECT_TRUE(status.is_ok()) << status.message();
  Result<json::Value> back =
      formats::bson_to_value(bson_get_data(&document), document.len, arena, 128);
  bson_destroy(&document);
  EXPECT_TRUE(back) << back.status().message();
  return back ? json::to_json(*back) : std::string();
}

std::string as_canonry_writes_it(std::string_view text) {
  Arena arena;
  Result<json::Value> value = json::parse(text, arena);
  return value ? json::to_json(*value) : std::string();
}

TEST(BsonWriter, RoundTripsCanonicalJsonExactly) {
  for (
      const char* text : {
          R"({"id":"A-1","n":42,"big":-9223372036854775808,"x":1.5,"y":20.0,"z":null,"ok":true})",
          R"({"price":19.90,"huge":123456789012345678901234567890,"tiny":0.000001})",
          R"({"nested":{"a":[1,"two",{"three":3.25}],"empty":{},"list":[]}})",
          R"({"_id":{"$oid":"64b7f0c2a1b2c3d4e5f60718"},"at":{"$date":"2024-01-02T03:04:05.678Z"}})",
          R"({"bin":{"$binary":{"base64":"AAEC","subType":"04"}},"ts":{"$timestamp":{"t":5,"i":6}}})",
          R"({"re":{"$regularExpression":{"pattern":"^a.c$","options":"i"}},"lo":{"$minKey":1},"hi":{"$maxKey":1}})",
          R"({"text":"caf\u00e9 \"quoted\" \\ tab\t"})",
      }) {
    EXPECT_EQ(round_trip(text), as_canonry_writes_it(text)) << text;
  }
}

TEST(BsonWriter, KeepsNumberTextThatADoubleWouldChange) {
  // 19.90 as a double reads back as 19.9: it is stored as Decimal128 with its digits instead.
  EXPECT_EQ(round_trip(R"({"price":19.90})"), R"({"price":19.90})");
  EXPECT_EQ(round_trip(R"({"price":19.9})"), R"({"price":19.9})");
}

TEST(BsonWriter, GivesServersWithoutDecimal128TheNearestDouble) {
  EXPECT_EQ(round_trip(R"({"price":19.90,"big":123456789012345678901234567890})", false),
            R"({"price":19.9,"big":1.2345678901234568e+29})");
}

TEST(BsonWriter, StoresTypesApplicationsExpect) {
  Arena arena;
  Result<json::Value> value = json::parse(R"({"n":7,"x":2.5,"d":19.90,"s":"t"})", arena);
  ASSERT_TRUE(value);
  bson_t document = BSON_INITIALIZER;
  ASSERT_TRUE(append_members(&document, *value).is_ok());
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, &document, "n"));
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_INT64);
  ASSERT_TRUE(bson_iter_init_find(&it, &document, "x"));
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_DOUBLE);
  ASSERT_TRUE(bson_iter_init_find(&it, &document, "d"));
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_DECIMAL128);
  ASSERT_TRUE(bson_iter_init_find(&it, &document, "s"));
  EXPECT_EQ(bson_iter_type(&it), BSON_TYPE_UTF8);
  bson_destroy(&document);
}

TEST(BsonWriter, RejectsFieldNamesWithNul) {
  bson_t document = BSON_INITIALIZER;
  Status status = append_value(&document, std::string_view("a\0b", 3), json::Value::null());
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  bson_destroy(&document);
}

}  // namespace
}  // namespace canonry::mongodb
