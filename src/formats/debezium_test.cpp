#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "formats/debezium.h"
#include "formats/reader.h"
#include "formats/test_support.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::formats {
namespace {

using test::read_all;
using Next = RecordReader::Next;

constexpr const char* kOid = "65f1a2b3c4d5e6f708192a3b";

std::string json_string(std::string_view text) {
  std::string out;
  json::append_quoted(out, text);
  return out;
}

std::string mongo_source() {
  return R"({"version":"2.5.0.Final","connector":"mongodb","name":"shop","ts_ms":1709288100000,)"
         R"("snapshot":"false","db":"shop","sequence":null,"rs":"rs0","collection":"orders",)"
         R"("ord":1,"lsid":null,"txnNumber":null})";
}

// A MongoDB connector change-event value as Debezium 2.x writes it (schemas disabled).
std::string mongo_event(std::string_view op, std::string_view after, std::string_view update,
                        int64_t ts) {
  std::string out = "{\"after\":";
  out += after.empty() ? "null" : json_string(after);
  out += ",\"updateDescription\":";
  out += update.empty() ? "null" : update;
  out += ",\"source\":" + mongo_source() + ",\"op\":\"" + std::string(op) +
         "\",\"ts_ms\":" + std::to_string(ts) + ",\"transaction\":null}";
  return out;
}

std::string mongo_key(std::string_view oid) {
  return "{\"id\":" + json_string("{\"$oid\": \"" + std::string(oid) + "\"}") + "}";
}

std::string kcat_line(int64_t offset, const std::string* key, const std::string* payload) {
  std::string out = R"({"topic":"shop.shop.orders","partition":2,"offset":)" +
                    std::to_string(offset) +
                    R"(,"tstype":"create","ts":1709288199000,"broker":1,"key":)";
  out += key ? json_string(*key) : "null";
  out += ",\"payload\":";
  out += payload ? json_string(*payload) : "null";
  return out + "}\n";
}

const std::string kCreated =
    std::string(R"({"_id": {"$oid": ")") + kOid +
    R"("}, "status": "new", "note": "x", "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}], "tags": ["a", "b", "c"], "total": {"$numberDecimal": "19.90"}})";

TEST(Debezium, MongoCreateAndDeleteWithoutMessageKeys) {
  std::string input = mongo_event("c", kCreated, "", 1709288100123) + "\n" +
                      mongo_event("d", "", "", 1709288100456) + "\nnull\n";
  Format detected;
  uint64_t skipped = 0;
  auto items = read_all(input, {}, &detected, &skipped);
  EXPECT_EQ(detected, Format::kDebezium);
  ASSERT_EQ(items.size(), 2u);
  ASSERT_EQ(items[0].kind, Next::kRecord) << items[0].message;
  EXPECT_EQ(items[0].op, Op::kUpsert);
  EXPECT_EQ(items[0].types,
            "object{_id:objectId,status:string,note:string,items:array[object{sku:string,qty:"
            "integer},object{sku:string,qty:integer}],tags:array[string,string,string],total:"
            "decimal}");
  EXPECT_EQ(items[0].key, std::string(R"({"$oid":")") + kOid + "\"}");
  EXPECT_EQ(items[0].time, 1709288100123);
  EXPECT_EQ(items[0].position, "test:1");
  // A delete of the current connector carries no _id in its value: only its message key has it.
  EXPECT_EQ(items[1].op, Op::kDelete);
  EXPECT_EQ(items[1].document, "null");
  EXPECT_EQ(items[1].key, "null");
  EXPECT_EQ(skipped, 1u);  // the tombstone
}

TEST(Debezium, UpdateWithoutBaseDocumentFails) {
  std::string update =
      R"({"removedFields":null,"updatedFields":"{\"status\": \"shipped\"}","truncatedArrays":null})";
  std::string key = mongo_key(kOid);
  std::string event = mongo_event("u", "", update, 1);
  auto store = make_memory_raw_store();
  // Through kcat, so that the update has its key, but nothing was seen for that key before.
  auto items = read_all(kcat_line(5, &key, &event), {.raw_store = store.get()});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, Next::kError);
  EXPECT_EQ(items[0].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[0].message.find("no earlier document"), std::string::npos) << items[0].message;
  EXPECT_EQ(items[0].position, "shop.shop.orders/2@5");

  // Without a key (plain change events of the current connector) the update cannot be placed.
  auto plain = read_all(event + "\n", {.format = Format::kDebezium, .raw_store = store.get()});
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].code, ErrorCode::kEnvelope);
  EXPECT_NE(plain[0].message.find("without a key"), std::string::npos) << plain[0].message;

  // Without a store at all.
  std::string created = mongo_event("c", kCreated, "", 1);
  auto no_store = read_all(kcat_line(1, &key, &created) + kcat_line(2, &key, &event), {});
  ASSERT_EQ(no_store.size(), 2u);
  EXPECT_EQ(no_store[1].code, ErrorCode::kEnvelope);
  EXPECT_NE(no_store[1].message.find("no raw document store"), std::string::npos);
}

TEST(Debezium, KcatMongoLifecycleAppliesUpdateDescription) {
  std::string key = mongo_key(kOid);
  std::string wrapped_key =
      R"({"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"shop.shop.orders.Key"},"payload":)" +
      key + "}";
  std::string created = mongo_event("c", kCreated, "", 1709288100100);
  std::string update =
      R"({"removedFields":["note"],"updatedFields":"{\"status\": \"shipped\", \"items.1.qty\": 5, \"shipping\": {\"country\": \"CA\"}, \"tags.3\": \"d\"}","truncatedArrays":[{"field":"tags","size":1}]})";
  std::string updated = mongo_event("u", "", update, 1709288100200);
  std::string full_after = std::string(R"({"_id": {"$oid": ")") + kOid + R"("}, "status": "paid"})";
  std::string replaced = "{\"schema\":{\"type\":\"struct\"},\"payload\":" +
                         mongo_event("u", full_after, "", 1709288100300) + "}";
  std::string update2 =
      R"({"removedFields":null,"updatedFields":{"status":"closed"},"truncatedArrays":null})";
  std::string updated2 = mongo_event("u", "", update2, 1709288100400);
  std::string deleted = mongo_event("d", "", "", 1709288100500);
  std::string update3 = update2;
  std::string after_delete = mongo_event("u", "", update3, 1709288100600);

  std::string input = kcat_line(10, &key, &created) + kcat_line(11, &wrapped_key, &updated) +
                      kcat_line(12, &key, &replaced) + kcat_line(13, &key, &updated2) +
                      kcat_line(14, &key, &deleted) + kcat_line(15, &key, nullptr) +
                      kcat_line(16, &key, &after_delete);
  auto store = make_memory_raw_store();
  Format detected;
  uint64_t skipped = 0;
  auto items = read_all(input, {.raw_store = store.get()}, &detected, &skipped);
  EXPECT_EQ(detected, Format::kKcat);
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(items.size(), 6u);
  const std::string oid_json = std::string(R"({"$oid":")") + kOid + "\"}";
  for (const auto& item : items) {
    if (item.kind == Next::kRecord) {
      EXPECT_EQ(item.key, oid_json);
    }
  }
  EXPECT_EQ(items[0].position, "shop.shop.orders/2@10");
  EXPECT_EQ(items[0].time, 1709288100100);  // Debezium's ts_ms, not kcat's ts
  EXPECT_EQ(items[0].raw, created);
  ASSERT_EQ(items[1].kind, Next::kRecord) << items[1].message;
  EXPECT_EQ(items[1].document,
            R"({"_id":)" + oid_json +
                R"(,"status":"shipped","items":[{"sku":"A","qty":1},{"sku":"B","qty":5}],)"
                R"("tags":["a",null,null,"d"],"total":19.90,)"
                R"("shipping":{"country":"CA"}})");
  // The decimal survived the raw store as a decimal.
  EXPECT_NE(items[1].types.find("total:decimal"), std::string::npos);
  EXPECT_EQ(items[2].document, R"({"_id":)" + oid_json + R"(,"status":"paid"})");
  EXPECT_EQ(items[3].document, R"({"_id":)" + oid_json + R"(,"status":"closed"})");
  EXPECT_EQ(items[4].op, Op::kDelete);
  EXPECT_EQ(items[4].position, "shop.shop.orders/2@14");
  // The delete forgot the document: a later partial update has nothing to apply to.
  EXPECT_EQ(items[5].kind, Next::kError);
  EXPECT_EQ(items[5].code, ErrorCode::kEnvelope);
}

TEST(Debezium, OlderMongoConnectorPatchAndFilter) {
  std::string id = R"({"_id": {"$numberLong": "1004"}})";
  std::string created =
      R"({"after":"{\"_id\": {\"$numberLong\": \"1004\"}, \"first_name\": \"Anne\", \"email\": \"annek@noanswer.org\"}","patch":null,"filter":null,"source":{"connector":"mongodb","ts_ms":1558965508000},"op":"r","ts_ms":1558965515240})";
  std::string patched =
      R"({"after":null,"patch":"{\"$v\": 1, \"$set\": {\"first_name\": \"Anne Marie\"}, \"$unset\": {\"email\": true}}","filter":)" +
      json_string(id) +
      R"(,"source":{"connector":"mongodb","ts_ms":1558965600000},"op":"u","ts_ms":1558965600100})";
  std::string deleted = R"({"after":null,"patch":null,"filter":)" + json_string(id) +
                        R"(,"source":{"connector":"mongodb"},"op":"d","ts_ms":1558965700000})";
  auto store = make_memory_raw_store();
  auto items = read_all(created + "\n" + patched + "\n" + deleted + "\n",
                        {.format = Format::kDebezium, .raw_store = store.get()});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].key, "1004");
  ASSERT_EQ(items[1].kind, Next::kRecord) << items[1].message;
  EXPECT_EQ(items[1].document, R"({"_id":1004,"first_name":"Anne Marie"})");
  EXPECT_EQ(items[1].key, "1004");
  EXPECT_EQ(items[2].op, Op::kDelete);
  EXPECT_EQ(items[2].key, "1004");
  EXPECT_FALSE(store->get("1004").has_value());
}

TEST(Debezium, UpdatesThatCannotBeRealAreErrors) {
  std::string created =
      R"({"after":"{\"_id\": 1, \"tags\": [1]}","source":{"connector":"mongodb"},"op":"c"})";
  auto update = [](const std::string& fields) {
    return R"({"after":null,"filter":"{\"_id\": 1}","updateDescription":{"updatedFields":)" +
           fields + R"(},"source":{"connector":"mongodb"},"op":"u"})";
  };
  std::string deep_path(300, 'a');
  for (size_t i = 1; i < deep_path.size(); i += 2) deep_path[i] = '.';
  auto store = make_memory_raw_store();
  auto items =
      read_all(created + "\n" + update(R"({"tags.99999999": 1})") + "\n" +
                   update("{\"" + deep_path + "\": 1}") + "\n" + update(R"({"tags.3": 2})") + "\n",
               {.format = Format::kDebezium, .raw_store = store.get()});
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[1].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[1].message.find("index 99999999"), std::string::npos) << items[1].message;
  EXPECT_EQ(items[2].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[2].message.find("levels"), std::string::npos) << items[2].message;
  ASSERT_EQ(items[3].kind, Next::kRecord) << items[3].message;
  EXPECT_EQ(items[3].document, R"({"_id":1,"tags":[1,null,null,2]})");
}

TEST(Debezium, RelationalConnectorWithSchemaWrapper) {
  std::string source =
      R"({"version":"2.5.0.Final","connector":"postgresql","name":"dbserver1","ts_ms":1709288100000,"snapshot":"false","db":"inventory","schema":"inventory","table":"customers","txId":555,"lsn":34078000})";
  auto wrap = [](const std::string& payload) {
    return R"({"schema":{"type":"struct","fields":[],"optional":false,"name":"dbserver1.inventory.customers.Envelope"},"payload":)" +
           payload + "}";
  };
  std::string created =
      wrap(R"({"before":null,"after":{"id":1001,"first_name":"Sally","balance":12.50},"source":)" +
           source + R"(,"op":"c","ts_ms":1709288100200,"transaction":null})");
  std::string updated = wrap(
      R"({"before":{"id":1001,"first_name":"Sally","balance":12.50},"after":{"id":1001,"first_name":"Sal","balance":13.00},"source":)" +
      source + R"(,"op":"u","ts_ms":1709288100300,"transaction":null})");
  std::string deleted =
      wrap(R"({"before":{"id":1001,"first_name":"Sal","balance":13.00},"after":null,"source":)" +
           source + R"(,"op":"d","ts_ms":1709288100400,"transaction":null})");
  std::string truncated = wrap(R"({"before":null,"after":null,"source":)" + source +
                               R"(,"op":"t","ts_ms":1709288100500,"transaction":null})");
  std::string tombstone = R"({"schema":null,"payload":null})";
  uint64_t skipped = 0;
  Format detected;
  auto items = read_all(tombstone + "\n" + created + "\n" + updated + "\n" + deleted + "\n" +
                            tombstone + "\n" + truncated + "\n",
                        {}, &detected, &skipped);
  EXPECT_EQ(detected, Format::kDebezium);  // not fooled by the tombstone first
  EXPECT_EQ(skipped, 3u);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].document, R"({"id":1001,"first_name":"Sally","balance":12.50})");
  EXPECT_EQ(items[0].key, "null");  // the primary key is only known from the message key
  EXPECT_EQ(items[1].document, R"({"id":1001,"first_name":"Sal","balance":13.00})");
  EXPECT_EQ(items[2].op, Op::kDelete);
  EXPECT_EQ(items[2].document, R"({"id":1001,"first_name":"Sal","balance":13.00})");
  EXPECT_EQ(items[2].time, 1709288100400);

  // Through kcat the relational key object is the source key.
  std::string key = R"({"id":1001})";
  auto keyed = read_all(kcat_line(3, &key, &created), {.format = Format::kKcat});
  ASSERT_EQ(keyed.size(), 1u);
  EXPECT_EQ(keyed[0].key, R"({"id":1001})");
}

TEST(Debezium, EnvelopeErrors) {
  std::string input = R"({"op":"x","after":{"a":1}})"
                      "\n"
                      R"({"op":"c","after":null,"before":null})"
                      "\n"
                      R"({"op":"c","after":"{\"a\": ","source":{"connector":"mongodb"}})"
                      "\n"
                      R"([1,2])"
                      "\n"
                      R"({"after":{"a":1}})"
                      "\n";
  auto items = read_all(input, {.format = Format::kDebezium});
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[0].message.find("unknown Debezium op"), std::string::npos);
  EXPECT_EQ(items[1].code, ErrorCode::kEnvelope);
  EXPECT_EQ(items[2].code, ErrorCode::kJsonTruncated);
  EXPECT_EQ(items[3].code, ErrorCode::kEnvelope);
  EXPECT_EQ(items[4].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[4].message.find("without \"op\""), std::string::npos);
}

TEST(Kcat, PlainJsonPayloadsAndKeys) {
  std::string order = R"({"orderId":7,"total":"19.99"})";
  std::string text_key = "order-7";
  std::string json_key = "7";
  std::string not_json = "not json";
  std::string input =
      kcat_line(0, &text_key, &order) + kcat_line(1, nullptr, &order) +
      kcat_line(2, &json_key, &order) + kcat_line(3, nullptr, nullptr) +
      kcat_line(4, nullptr, &not_json) +
      R"({"topic":"t","partition":0,"offset":5,"tstype":"create","ts":1,"broker":1,"key":null,"payload":{"embedded":true}})"
      "\n"
      R"({"topic":"t","partition":0,"offset":6,"key":null,"payload":null,"payload_error":"Avro deserialization failed"})"
      "\n";
  // Deserialised by kcat (-s key=avro): key and payload arrive as JSON, headers alongside.
  input +=
      R"({"topic":"t","partition":1,"offset":7,"tstype":"create","ts":2,"broker":1,"headers":{"h":"v"},"key":{"id":42},"payload":{"op":"c","before":null,"after":{"id":42},"source":{"connector":"mysql"},"ts_ms":3}})"
      "\n";
  uint64_t skipped = 0;
  Format detected;
  auto items = read_all(input, {}, &detected, &skipped);
  EXPECT_EQ(detected, Format::kKcat);
  EXPECT_EQ(skipped, 1u);
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(items[6].document, R"({"id":42})");
  EXPECT_EQ(items[6].key, R"({"id":42})");
  EXPECT_EQ(items[6].time, 3);
  EXPECT_EQ(items[6].position, "t/1@7");
  EXPECT_EQ(items[0].document, order);
  EXPECT_EQ(items[0].key, "\"order-7\"");
  EXPECT_EQ(items[0].time, 1709288199000);
  EXPECT_EQ(items[0].raw, order);
  EXPECT_EQ(items[0].position, "shop.shop.orders/2@0");
  EXPECT_EQ(items[1].key, "null");
  EXPECT_EQ(items[2].key, "7");
  EXPECT_EQ(items[3].kind, Next::kError);
  EXPECT_EQ(items[3].code, ErrorCode::kJsonSyntax);
  EXPECT_EQ(items[3].raw, not_json);
  EXPECT_EQ(items[3].position, "shop.shop.orders/2@4");
  EXPECT_EQ(items[4].document, R"({"embedded":true})");
  EXPECT_EQ(items[4].position, "t/0@5");
  EXPECT_EQ(items[5].code, ErrorCode::kEnvelope);
  EXPECT_NE(items[5].message.find("Avro deserialization failed"), std::string::npos);
}

TEST(RawStore, JsonTextKeepsTypes) {
  Arena arena;
  auto doc = json::parse(
      R"({"d":{"$numberDecimal":"1.50"},"n":2.0,"i":2,"t":{"$date":"2024-03-01T10:15:00.123Z"},"x":{"$numberDouble":"NaN"}})",
      arena);
  ASSERT_TRUE(doc.is_ok());
  std::string text;
  append_store_json(text, *doc);
  auto back = json::parse(text, arena);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string() << " in " << text;
  EXPECT_EQ(test::shape(*back), "object{d:decimal,n:number,i:integer,t:date,x:number}");
  EXPECT_EQ(back->find("d")->as_string(), "1.50");
  EXPECT_TRUE(std::isnan(back->find("x")->as_double()));

  auto store = make_memory_raw_store();
  EXPECT_FALSE(store->get("1").has_value());
  store->put("1", "{\"a\":1}");
  store->put("1", "{\"a\":2}");
  EXPECT_EQ(store->get("1").value_or(""), "{\"a\":2}");
  store->erase("1");
  EXPECT_FALSE(store->get("1").has_value());
}

}  // namespace
}  // namespace canonry::formats

namespace canonry::formats {
namespace {

TEST(MessageDecoder, KafkaMessagesLikeKcatLines) {
  auto store = make_memory_raw_store();
  MessageDecoder decoder({.raw_store = store.get()});
  Arena arena;
  Record record;
  Status error;
  std::string key = mongo_key(kOid);
  std::string created = mongo_event("c", kCreated, "", 1709288100100);
  std::string update =
      R"({"removedFields":null,"updatedFields":"{\"status\": \"paid\"}","truncatedArrays":null})";
  std::string updated = mongo_event("u", "", update, 1709288100200);

  ASSERT_EQ(decoder.decode(key, created, arena, record, error), MessageDecoder::Outcome::kRecord)
      << error.to_string();
  EXPECT_EQ(json::to_json(record.source_key), std::string(R"({"$oid":")") + kOid + "\"}");
  EXPECT_EQ(record.raw, created);
  record = Record();
  record.envelope_time_ms = 5;  // the Kafka timestamp; the event's ts_ms wins
  ASSERT_EQ(decoder.decode(key, updated, arena, record, error), MessageDecoder::Outcome::kRecord)
      << error.to_string();
  EXPECT_EQ(record.document.find("status")->as_string(), "paid");
  EXPECT_EQ(record.envelope_time_ms, 1709288100200);

  EXPECT_EQ(decoder.decode(key, std::nullopt, arena, record, error),
            MessageDecoder::Outcome::kSkipped);

  record = Record();
  record.envelope_time_ms = 5;
  ASSERT_EQ(decoder.decode("order-7", R"({"orderId":7})", arena, record, error),
            MessageDecoder::Outcome::kRecord);
  EXPECT_EQ(json::to_json(record.document), R"({"orderId":7})");
  EXPECT_EQ(json::to_json(record.source_key), R"("order-7")");
  EXPECT_EQ(record.envelope_time_ms, 5);

  EXPECT_EQ(decoder.decode(std::nullopt, "{\"a\":", arena, record, error),
            MessageDecoder::Outcome::kError);
  EXPECT_EQ(error.code(), ErrorCode::kJsonTruncated);

  // Forced formats: json keeps a change event as it is; debezium rejects a plain document.
  MessageDecoder as_json({.format = Format::kJson});
  ASSERT_EQ(as_json.decode(key, created, arena, record, error), MessageDecoder::Outcome::kRecord);
  EXPECT_TRUE(record.document.find("op") != nullptr);
  MessageDecoder as_debezium({.format = Format::kDebezium});
  EXPECT_EQ(as_debezium.decode(std::nullopt, R"({"orderId":7})", arena, record, error),
            MessageDecoder::Outcome::kError);
  EXPECT_EQ(error.code(), ErrorCode::kEnvelope);

  MessageDecoder as_bson({.format = Format::kBson});
  const char bson_doc[] = "\x0c\x00\x00\x00\x10n\x00\x07\x00\x00\x00";
  ASSERT_EQ(as_bson.decode(std::nullopt, std::string_view(bson_doc, 12), arena, record, error),
            MessageDecoder::Outcome::kRecord)
      << error.to_string();
  EXPECT_EQ(json::to_json(record.document), R"({"n":7})");
  EXPECT_TRUE(record.raw_is_binary);
}

}  // namespace
}  // namespace canonry::formats
