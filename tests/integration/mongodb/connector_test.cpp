// The MongoDB source and state store through the pipeline's connector interfaces, against a real
// MongoDB wire-protocol server (FerretDB, started by scripts/services/ferretdb.sh as a ctest
// fixture). Each test works in a database of its own.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "common/arena.h"
#include "connectors/mongodb/connection.h"
#include "formats/reader.h"
#include "json/writer.h"
#include "pipeline/connector.h"

#define ASSERT_OK(expression)                          \
  do {                                                 \
    ::canonry::Status status_ = (expression);          \
    ASSERT_TRUE(status_.is_ok()) << status_.message(); \
  } while (0)

namespace canonry {
namespace {

using pipeline::Batch;
using pipeline::Entry;

// CANONRY_MONGO_URI from the env file the fixture wrote.
std::string server_uri() {
  const char* dir = std::getenv("CANONRY_SERVICES_DIR");
  if (dir == nullptr) return {};
  std::ifstream env(std::string(dir) + "/ferretdb/env");
  std::string line;
  const std::string prefix = "CANONRY_MONGO_URI=";
  while (std::getline(env, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return {};
}

std::string unique_database(const char* test) {
  static std::atomic<int> counter{0};
  // FerretDB limits names to 63 characters: the test's name is cut.
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::string(test).substr(0, 24);
}

class MongoConnectors : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = server_uri();
    ASSERT_FALSE(base_.empty()) << "run through ctest: the ferretdb fixture writes the URI";
    database_ = unique_database(::testing::UnitTest::GetInstance()->current_test_info()->name());
    mongoc_init();
    client_ = mongoc_client_new(base_.c_str());
    ASSERT_NE(client_, nullptr);
  }
  void TearDown() override {
    if (client_ == nullptr) return;
    mongoc_database_t* database = mongoc_client_get_database(client_, database_.c_str());
    mongoc_database_drop(database, nullptr);
    mongoc_database_destroy(database);
    mongoc_client_destroy(client_);
  }

  std::string uri(const std::string& collection) const {
    return base_ + "/" + database_ + "." + collection;
  }

  std::unique_ptr<pipeline::StateStore> open_store() {
    auto store = pipeline::open_state_store(uri("state"));
    EXPECT_NE(store, nullptr);
    return store;
  }

  std::vector<std::string> dump(pipeline::StateStore& store, const std::string& subject) {
    std::vector<std::string> lines;
    Status status = store.dump(subject, [&](std::string_view key, std::string_view document) {
      lines.push_back(std::string(key) + " " + std::string(document));
    });
    EXPECT_TRUE(status.is_ok()) << status.message();
    return lines;
  }

  void insert(const std::string& collection, const std::string& json) {
    mongoc_collection_t* c =
        mongoc_client_get_collection(client_, database_.c_str(), collection.c_str());
    bson_error_t error;
    bson_t* document = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                          static_cast<ssize_t>(json.size()), &error);
    ASSERT_NE(document, nullptr) << error.message;
    EXPECT_TRUE(mongoc_collection_insert_one(c, document, nullptr, nullptr, &error))
        << error.message;
    bson_destroy(document);
    mongoc_collection_destroy(c);
  }

  void remove(const std::string& collection, const std::string& filter_json) {
    mongoc_collection_t* c =
        mongoc_client_get_collection(client_, database_.c_str(), collection.c_str());
    bson_error_t error;
    bson_t* filter = bson_new_from_json(reinterpret_cast<const uint8_t*>(filter_json.data()),
                                        static_cast<ssize_t>(filter_json.size()), &error);
    EXPECT_TRUE(mongoc_collection_delete_many(c, filter, nullptr, nullptr, &error))
        << error.message;
    bson_destroy(filter);
    mongoc_collection_destroy(c);
  }

  void unset_position(const std::string& collection, const std::string& id) {
    mongoc_collection_t* c =
        mongoc_client_get_collection(client_, database_.c_str(), collection.c_str());
    bson_t* filter = BCON_NEW("_id", BCON_UTF8(id.c_str()));
    bson_t* update = BCON_NEW("$unset", "{", "position", BCON_UTF8(""), "}");
    bson_error_t error;
    EXPECT_TRUE(mongoc_collection_update_one(c, filter, update, nullptr, nullptr, &error))
        << error.message;
    bson_destroy(filter);
    bson_destroy(update);
    mongoc_collection_destroy(c);
  }

  std::string base_, database_;
  mongoc_client_t* client_ = nullptr;
};

// A batch of one partition of source "shop", subject "order".
struct BatchBuilder {
  Batch batch;
  explicit BatchBuilder(int64_t first_offset) {
    batch.partition = {"shop", 0};
    batch.subject = "order";
    batch.mapping_id = "shop_v1";
    batch.first_offset = first_offset;
    batch.next_offset = first_offset;
  }
  BatchBuilder& upsert(int64_t offset, const std::string& key, const std::string& document,
                       const std::string& source_key = {}, const std::string& raw = {}) {
    Entry entry;
    entry.kind = Entry::Kind::kUpsert;
    entry.offset = offset;
    entry.next_offset = offset + 1;
    entry.key = batch.append(key);
    entry.document = batch.append(document);
    if (!source_key.empty()) entry.source_key = batch.append(source_key);
    if (!raw.empty()) entry.raw_document = batch.append(raw);
    batch.entries.push_back(entry);
    batch.next_offset = offset + 1;
    return *this;
  }
  BatchBuilder& remove(int64_t offset, const std::string& key, const std::string& source_key = {}) {
    Entry entry;
    entry.kind = Entry::Kind::kDelete;
    entry.offset = offset;
    entry.next_offset = offset + 1;
    entry.key = batch.append(key);
    if (!source_key.empty()) entry.source_key = batch.append(source_key);
    batch.entries.push_back(entry);
    batch.next_offset = offset + 1;
    return *this;
  }
  BatchBuilder& dead_letter(int64_t offset) {
    Entry entry;
    entry.kind = Entry::Kind::kDeadLetter;
    entry.offset = offset;
    entry.next_offset = offset + 1;
    entry.document = batch.append(R"({"error":{"step":"map"}})");
    batch.entries.push_back(entry);
    batch.next_offset = offset + 1;
    return *this;
  }
};

TEST_F(MongoConnectors, StoreUpsertsDeletesAndDumpsSortedByKey) {
  auto store = open_store();
  ASSERT_TRUE(store);
  BatchBuilder first(0);
  first.upsert(0, R"("B-2")", R"({"order_id":"B-2","total":19.90,"n":3})")
      .upsert(1, R"("A-1")", R"({"order_id":"A-1","total":5.5,"items":[{"sku":"x"}]})")
      .dead_letter(2)
      .upsert(3, R"("C-3")", R"({"order_id":"C-3","at":{"$date":"2024-01-02T03:04:05.678Z"}})")
      .upsert(4, R"("A-1")", R"({"order_id":"A-1","total":6.5,"items":[]})");
  ASSERT_OK(store->apply(first.batch));
  EXPECT_EQ(dump(*store, "order"),
            (std::vector<std::string>{
                R"("A-1" {"order_id":"A-1","total":6.5,"items":[]})",
                R"("B-2" {"order_id":"B-2","total":19.90,"n":3})",
                R"("C-3" {"order_id":"C-3","at":{"$date":"2024-01-02T03:04:05.678Z"}})"}));
  EXPECT_TRUE(dump(*store, "customer").empty());

  BatchBuilder second(5);
  second.remove(5, R"("B-2")");
  ASSERT_OK(store->apply(second.batch));
  EXPECT_EQ(dump(*store, "order").size(), 2u);
  auto gone = store->get("order", R"("B-2")");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto kept = store->get("order", R"("A-1")");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ(**kept, R"({"order_id":"A-1","total":6.5,"items":[]})");

  auto position = store->applied_position({"shop", 0});
  ASSERT_TRUE(position);
  EXPECT_EQ(*position, std::optional<int64_t>(6));
  auto other = store->applied_position({"shop", 1});
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
}

TEST_F(MongoConnectors, ReplaysNeverOverwriteNewerState) {
  BatchBuilder old_batch(0);
  old_batch.upsert(0, R"("A-1")", R"({"v":"old"})").upsert(1, R"("B-2")", R"({"v":"old"})");
  BatchBuilder new_batch(2);
  new_batch.upsert(2, R"("A-1")", R"({"v":"new"})").remove(3, R"("B-2")");
  {
    auto store = open_store();
    ASSERT_OK(store->apply(old_batch.batch));
    ASSERT_OK(store->apply(new_batch.batch));
  }
  // A crash after the documents of both batches were written but before any position was: the
  // store recorded its intent (`pending`) first, so it knows that documents up to it may be newer
  // than what a replay brings. Replaying the old batch must leave the newer state alone and the
  // deleted entity deleted.
  unset_position("state.positions", "shop/0");
  auto store = open_store();
  auto position = store->applied_position({"shop", 0});
  ASSERT_TRUE(position);
  EXPECT_FALSE(*position);
  ASSERT_OK(store->apply(old_batch.batch));
  EXPECT_EQ(dump(*store, "order"), (std::vector<std::string>{R"("A-1" {"v":"new"})"}));
  // The same batch again, as a restart would send it: nothing changes, nothing fails.
  ASSERT_OK(store->apply(new_batch.batch));
  ASSERT_OK(store->apply(new_batch.batch));
  EXPECT_EQ(dump(*store, "order"), (std::vector<std::string>{R"("A-1" {"v":"new"})"}));
  position = store->applied_position({"shop", 0});
  ASSERT_TRUE(position);
  EXPECT_EQ(*position, std::optional<int64_t>(4));
}

TEST_F(MongoConnectors, SourceKeysResolveDeletesAndKeepRawDocuments) {
  auto store = open_store();
  const std::string id = R"({"$oid":"64b7f0c2a1b2c3d4e5f60718"})";
  BatchBuilder first(0);
  first.upsert(0, R"("A-1")", R"({"order_id":"A-1"})", id, R"({"_id":)" + id + R"(,"no":"A-1"})");
  ASSERT_OK(store->apply(first.batch));
  auto key = store->canonical_key("shop", id);
  ASSERT_TRUE(key && *key);
  EXPECT_EQ(**key, R"("A-1")");
  auto raw = store->raw_document("shop", id);
  ASSERT_TRUE(raw && *raw);
  EXPECT_EQ(**raw, R"({"_id":)" + id + R"(,"no":"A-1"})");
  auto elsewhere = store->canonical_key("other_source", id);
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(*elsewhere);

  BatchBuilder second(1);
  second.remove(1, **key, id);
  ASSERT_OK(store->apply(second.batch));
  EXPECT_TRUE(dump(*store, "order").empty());
  // The key still resolves, so that a replayed delete finds its entity again; the raw document is
  // gone, as the deleted document is.
  key = store->canonical_key("shop", id);
  ASSERT_TRUE(key && *key);
  EXPECT_EQ(**key, R"("A-1")");
  raw = store->raw_document("shop", id);
  ASSERT_TRUE(raw);
  EXPECT_FALSE(*raw);
}

// Runs a source's partition 0 the way the runtime does.
class Assignments : public pipeline::PartitionListener {
 public:
  Status on_assigned(std::span<const int32_t> partitions) override {
    assigned.assign(partitions.begin(), partitions.end());
    return Status::ok();
  }
  Status on_revoked(std::span<const int32_t>) override { return Status::ok(); }
  std::vector<int32_t> assigned;
};

std::unique_ptr<pipeline::Source> make_source(const std::string& uri, const std::string& format,
                                              std::map<std::string, std::string> options = {}) {
  const pipeline::ConnectorFactories* factories = pipeline::find_connector("mongodb");
  if (factories == nullptr) return nullptr;
  std::map<std::string, pipeline::ConnectorOptions::Option> located;
  for (auto& [key, value] : options) located[key] = {value, "p.yaml:9:9"};
  static std::vector<std::unique_ptr<pipeline::ConnectorOptions>> keep;
  keep.push_back(std::make_unique<pipeline::ConnectorOptions>("p.yaml:3:5", std::move(located)));
  pipeline::SourceSpec spec;
  spec.uri = uri;
  spec.scheme = "mongodb";
  spec.rest = uri.substr(std::string("mongodb:").size());
  spec.uri_where = "p.yaml:3:10";
  spec.options = keep.back().get();
  spec.name = "orders";
  spec.format = format;
  return factories->source(spec);
}

struct Delivered {
  std::vector<int64_t> offsets;
  std::vector<std::string> keys;
  std::vector<std::string> numbers;  // the documents' "n", decoded from BSON as the runtime does
};

Delivered read_all(pipeline::PartitionReader& reader, size_t per_read = 3) {
  Delivered delivered;
  formats::ReaderOptions options;
  options.format = formats::Format::kBson;
  formats::MessageDecoder decoder(options);
  pipeline::MessageBatch batch;
  do {
    Status status = reader.read(batch, per_read, std::chrono::milliseconds(100));
    EXPECT_TRUE(status.is_ok()) << status.message();
    if (!status.is_ok()) break;
    for (const pipeline::Message& message : batch.messages) {
      delivered.offsets.push_back(message.offset);
      EXPECT_EQ(message.next_offset, message.offset + 1);
      Arena arena;
      formats::Record record;
      Status error;
      EXPECT_EQ(decoder.decode(message.key, message.value, arena, record, error),
                formats::MessageDecoder::Outcome::kRecord)
          << error.message();
      delivered.keys.push_back(json::to_json(record.source_key));
      const json::Value* n = record.document.find("n");
      delivered.numbers.push_back(n ? json::to_json(*n) : "?");
    }
  } while (!batch.end);
  return delivered;
}

TEST_F(MongoConnectors, SnapshotReadsInIdOrderAndResumesAfterTheCheckpoint) {
  for (int n : {4, 1, 6, 3, 2, 5, 7}) {
    insert("orders", R"({"_id": )" + std::to_string(n) + R"(, "n": )" + std::to_string(n) + "}");
  }
  auto source = make_source(uri("orders"), "bson");
  ASSERT_TRUE(source);
  EXPECT_TRUE(source->bounded());
  Assignments listener;
  ASSERT_OK(source->start(listener));
  EXPECT_EQ(listener.assigned, std::vector<int32_t>{0});
  {
    auto reader = source->open_partition(0, std::nullopt);
    ASSERT_TRUE(reader) << reader.status().message();
    Delivered all = read_all(**reader);
    EXPECT_EQ(all.offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(all.keys, (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}));
    EXPECT_EQ(all.numbers, all.keys);
  }
  // Every sink holds the first three documents: the checkpoint records the _id after which to go
  // on (3). Documents before it that vanish meanwhile do not shift what comes next.
  ASSERT_OK(source->commit(0, 3));
  ASSERT_OK(source->close());
  remove("orders", R"({"_id": {"$lte": 2}})");
  insert("orders", R"({"_id": 8, "n": 8})");

  auto restarted = make_source(uri("orders"), "bson");
  ASSERT_OK(restarted->start(listener));
  {
    auto reader = restarted->open_partition(0, 3);
    ASSERT_TRUE(reader) << reader.status().message();
    Delivered rest = read_all(**reader, 2);
    EXPECT_EQ(rest.offsets, (std::vector<int64_t>{3, 4, 5, 6, 7}));
    EXPECT_EQ(rest.keys, (std::vector<std::string>{"4", "5", "6", "7", "8"}));
  }
  {
    // Sinks ahead of the checkpoint (they flushed, the commit was lost): what they hold is read
    // from the checkpoint on but not sent again.
    auto reader = restarted->open_partition(0, 5);
    ASSERT_TRUE(reader) << reader.status().message();
    Delivered rest = read_all(**reader);
    EXPECT_EQ(rest.keys, (std::vector<std::string>{"6", "7", "8"}));
    EXPECT_EQ(rest.offsets, (std::vector<int64_t>{5, 6, 7}));
  }
  ASSERT_OK(restarted->close());
}

TEST_F(MongoConnectors, SnapshotKeysAreObjectIdsAsExtendedJson) {
  insert("orders", R"({"_id": {"$oid": "64b7f0c2a1b2c3d4e5f60718"}, "n": 1})");
  auto source = make_source(uri("orders"), "bson", {{"batch_size", "1"}});
  Assignments listener;
  ASSERT_OK(source->start(listener));
  auto reader = source->open_partition(0, std::nullopt);
  ASSERT_TRUE(reader);
  pipeline::MessageBatch batch;
  ASSERT_TRUE((*reader)->read(batch, 10, std::chrono::milliseconds(100)).is_ok());
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_EQ(batch.messages[0].key, R"({"$oid":"64b7f0c2a1b2c3d4e5f60718"})");
  // The ObjectId's creation time (2023-07-19T14:22:58Z) is the message's timestamp.
  EXPECT_EQ(batch.messages[0].timestamp_ms, int64_t{0x64b7f0c2} * 1000);
}

TEST_F(MongoConnectors, ChangeStreamsOnAServerWithoutThemFailTheStartWithTheReason) {
  auto source = make_source(uri("orders"), "debezium", {{"mode", "changes"}});
  ASSERT_TRUE(source);
  EXPECT_FALSE(source->bounded());
  Assignments listener;
  Status status = source->start(listener);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("has no change streams"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("mode: snapshot"), std::string::npos) << status.message();
  EXPECT_TRUE(listener.assigned.empty());
}

TEST_F(MongoConnectors, ConfigErrorsNameTheirLocation) {
  auto expect_error = [&](const std::string& uri, const std::string& format,
                          std::map<std::string, std::string> options, const std::string& message) {
    try {
      make_source(uri, format, std::move(options));
      ADD_FAILURE() << "no error for " << uri;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.what(), message);
    }
  };
  expect_error("mongodb://h:1/shop", "bson", {},
               "p.yaml:3:10: uri: the MongoDB URI must end in /database.collection (it has "
               "\"/shop\")");
  expect_error(uri("orders"), "json", {},
               "p.yaml:3:5: format: a mongodb source in snapshot mode delivers BSON documents: "
               "set `format: bson`");
  expect_error(uri("orders"), "bson", {{"mode", "tail"}},
               "p.yaml:9:9: mode: expected snapshot or changes, not \"tail\"");
  expect_error(uri("orders"), "bson", {{"batch_size", "0"}},
               "p.yaml:9:9: batch_size: expected an integer from 1 to 100000");
}

}  // namespace
}  // namespace canonry
