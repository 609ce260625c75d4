#include "connectors/mongodb/state_store.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "connectors/mongodb/bson_writer.h"
#include "connectors/mongodb/connection.h"
#include "json/parser.h"

namespace canonry::mongodb {

namespace {

using pipeline::Batch;
using pipeline::Entry;
using pipeline::PartitionKey;

// A field name for a (source, partition) inside `positions`: MongoDB field names may not hold
// dots or start with '$', so those (and '%', the escape itself) are percent-encoded.
std::string position_field(const PartitionKey& partition) {
  std::string out;
  for (char c : partition.source) {
    if (c == '.' || c == '$' || c == '%') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out + "/" + std::to_string(partition.partition);
}

void append_utf8(bson_t* document, const char* key, std::string_view value) {
  bson_append_utf8(document, key, -1, value.data(), static_cast<int>(value.size()));
}

// Documents have a string _id: an entity's is "<subject>:<key JSON>", a source key's
// "<source>:<key JSON>".
std::string document_id(std::string_view prefix, std::string_view key_json) {
  std::string id;
  id.reserve(prefix.size() + 1 + key_json.size());
  id += prefix;
  id += ':';
  id += key_json;
  return id;
}

BsonPtr id_filter(const std::string& id) {
  BsonPtr filter(bson_new());
  append_utf8(filter.get(), "_id", id);
  return filter;
}

// One document write of a batch: an insert when the document did not exist when the batch began,
// else an update of the fields (`set`, and `unset` for what a delete removes).
struct Write {
  std::string id;
  bool insert = false;
  BsonPtr set{bson_new()};
  std::vector<const char*> unset;
  // positions.<partition> = position: the partition position of the write, inside the document.
  std::string partition;
  int64_t position = 0;
};

// Writes in one unordered bulk. Inserts are what keeps a backfill fast on every server: FerretDB
// v1's SQLite backend answers any filter, `_id` included, by scanning the collection (its `_id`
// index is declared on an expression its queries do not use), so a per-document upsert costs a
// scan there. An insert that meets a document another process inserted meanwhile is made again
// as an upsert.
// The inserts of `writes` that failed on a document already there (code 11000), turned into
// updates; empty when the reply holds any other error.
std::vector<Write> collided_inserts(const bson_t* reply, std::vector<Write>& writes) {
  std::vector<Write> collided;
  bson_iter_t it, errors;
  if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
      !bson_iter_recurse(&it, &errors)) {
    return collided;
  }
  while (bson_iter_next(&errors)) {
    bson_iter_t entry, index;
    bool collision = BSON_ITER_HOLDS_DOCUMENT(&errors) && bson_iter_recurse(&errors, &entry) &&
                     bson_iter_find(&entry, "code") && bson_iter_as_int64(&entry) == 11000 &&
                     bson_iter_recurse(&errors, &index) && bson_iter_find(&index, "index");
    int64_t i = collision ? bson_iter_as_int64(&index) : -1;
    if (i < 0 || static_cast<size_t>(i) >= writes.size() || !writes[i].insert) return {};
    writes[i].insert = false;
    collided.push_back(std::move(writes[i]));
  }
  return collided;
}

// Writes in one unordered bulk. Inserts are what keeps a backfill fast on every server: FerretDB
// v1's SQLite backend answers any filter, `_id` included, by scanning the collection (its `_id`
// index is declared on an expression its queries do not use), so a per-document upsert costs a
// scan there. An insert that meets a document another process inserted meanwhile is made again
// as an update.
Status execute_writes(mongoc_collection_t* collection, std::vector<Write> writes,
                      std::string_view what) {
  for (int attempt = 0; !writes.empty(); ++attempt) {
    BsonPtr bulk_options(BCON_NEW("ordered", BCON_BOOL(false)));
    mongoc_bulk_operation_t* bulk =
        mongoc_collection_create_bulk_operation_with_opts(collection, bulk_options.get());
    BsonPtr upsert(BCON_NEW("upsert", BCON_BOOL(true)));
    bson_error_t error;
    bool prepared = true;
    for (size_t i = 0; prepared && i < writes.size(); ++i) {
      Write& write = writes[i];
      if (write.insert) {
        BsonPtr document(bson_new());
        append_utf8(document.get(), "_id", write.id);
        bson_concat(document.get(), write.set.get());
        bson_t positions;
        BSON_APPEND_DOCUMENT_BEGIN(document.get(), "positions", &positions);
        BSON_APPEND_INT64(&positions, write.partition.c_str(), write.position);
        bson_append_document_end(document.get(), &positions);
        prepared = mongoc_bulk_operation_insert_with_opts(bulk, document.get(), nullptr, &error);
        continue;
      }
      BsonPtr filter = id_filter(write.id);
      BsonPtr update(bson_new());
      BSON_APPEND_INT64(write.set.get(), ("positions." + write.partition).c_str(), write.position);
      BSON_APPEND_DOCUMENT(update.get(), "$set", write.set.get());
      if (!write.unset.empty()) {
        bson_t unset;
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$unset", &unset);
        for (const char* field : write.unset) BSON_APPEND_UTF8(&unset, field, "");
        bson_append_document_end(update.get(), &unset);
      }
      prepared = mongoc_bulk_operation_update_one_with_opts(bulk, filter.get(), update.get(),
                                                            upsert.get(), &error);
    }
    if (!prepared) {
      mongoc_bulk_operation_destroy(bulk);
      return status_from(error, what);
    }
    bson_t reply;
    bool ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
    std::vector<Write> collided;
    if (!ok && attempt == 0) collided = collided_inserts(&reply, writes);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    if (!ok && collided.empty()) return status_from(error, what);
    writes = ok ? std::vector<Write>() : std::move(collided);
  }
  return Status::ok();
}

class MongoStateStore final : public pipeline::StateStore {
 public:
  explicit MongoStateStore(Target target)
      : target_(std::move(target)), describe_(target_.describe()) {}

  const std::string& describe() const override { return describe_; }

  Status open(const pipeline::SinkContext&) override {
    Result<std::unique_ptr<ClientPool>> pool = ClientPool::create(target_);
    if (!pool) return pool.take_status();
    pool_ = std::move(*pool);
    // The dump reads one subject's live entities: an index on (subject, deleted) serves it.
    ClientPool::Lease lease = pool_->lease();
    // FerretDB v1 has no Decimal128 (it drops the connection on one): numbers whose text a double
    // would change are then stored as doubles in `doc`; `json` keeps their exact text either way.
    BsonPtr build_info(BCON_NEW("buildInfo", BCON_INT32(1)));
    bson_t reply;
    bson_error_t error;
    if (!mongoc_client_command_simple(lease.get(), "admin", build_info.get(), nullptr, &reply,
                                      &error)) {
      bson_destroy(&reply);
      return status_from(error, "asking " + describe_ + " what it supports (buildInfo)");
    }
    bson_iter_t ferretdb;
    decimal128_ = !bson_iter_init_find(&ferretdb, &reply, "ferretdbVersion");
    bson_destroy(&reply);
    mongoc_database_t* database = mongoc_client_get_database(lease.get(), target_.database.c_str());
    BsonPtr command(BCON_NEW("createIndexes", BCON_UTF8(target_.collection.c_str()), "indexes", "[",
                             "{", "key", "{", "subject", BCON_INT32(1), "deleted", BCON_INT32(1),
                             "}", "name", BCON_UTF8("subject_deleted"), "}", "]"));
    bool ok = mongoc_database_command_simple(database, command.get(), nullptr, nullptr, &error);
    mongoc_database_destroy(database);
    if (!ok) return status_from(error, "creating the index of " + describe_);
    return Status::ok();
  }

  Result<std::optional<int64_t>> applied_position(const PartitionKey& partition) override {
    ClientPool::Lease lease = pool_->lease();
    Result<BsonPtr> found = find_one(lease.get(), positions_collection(), partition.to_string());
    if (!found) return found.take_status();
    std::optional<int64_t> position;
    bson_iter_t it;
    if (*found && bson_iter_init_find(&it, found->get(), "position")) {
      position = bson_iter_as_int64(&it);
    }
    std::lock_guard lock(positions_mutex_);
    positions_[partition] = position.value_or(-1);
    return position;
  }

  Status apply(const Batch& batch) override {
    int64_t held = -1;
    bool known = false;
    {
      std::lock_guard lock(positions_mutex_);
      auto it = positions_.find(batch.partition);
      if ((known = it != positions_.end())) held = it->second;
    }
    if (!known) {
      Result<std::optional<int64_t>> position = applied_position(batch.partition);
      if (!position) return position.take_status();
      held = position->value_or(-1);
    }
    if (batch.next_offset <= held) return Status::ok();

    // Within a batch only the last write to an entity (or a source key) counts: one write each.
    std::map<std::string, const Entry*> entities, source_keys;
    for (const Entry& entry : batch.entries) {
      if (entry.next_offset <= held) continue;
      if (entry.kind != Entry::Kind::kUpsert && entry.kind != Entry::Kind::kDelete) continue;
      // A record whose mapping gives no key has no entity to keep (its raw document is kept).
      if (!entry.key.empty()) entities[document_id(batch.subject, batch.view(entry.key))] = &entry;
      if (!entry.source_key.empty()) {
        source_keys[document_id(batch.partition.source, batch.view(entry.source_key))] = &entry;
      }
    }
    ClientPool::Lease lease = pool_->lease();
    const std::string field = position_field(batch.partition);
    if (!entities.empty()) {
      CANONRY_RETURN_IF_ERROR(write_entities(lease.get(), batch, field, entities));
    }
    if (!source_keys.empty()) {
      CANONRY_RETURN_IF_ERROR(write_source_keys(lease.get(), batch, field, source_keys));
    }
    // Last the position, raised with $max: it never claims more than what is written, and a late
    // replay never lowers it.
    CollectionPtr positions =
        open_collection(lease.get(), target_.database, positions_collection());
    BsonPtr selector = id_filter(batch.partition.to_string());
    BsonPtr update(bson_new());
    bson_t set, max;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    append_utf8(&set, "source", batch.partition.source);
    BSON_APPEND_INT32(&set, "partition", batch.partition.partition);
    bson_append_document_end(update.get(), &set);
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$max", &max);
    BSON_APPEND_INT64(&max, "position", batch.next_offset);
    bson_append_document_end(update.get(), &max);
    BsonPtr options(BCON_NEW("upsert", BCON_BOOL(true)));
    bson_error_t error;
    if (!mongoc_collection_update_one(positions.get(), selector.get(), update.get(), options.get(),
                                      nullptr, &error)) {
      return status_from(error, "recording the position in " + describe_);
    }
    std::lock_guard lock(positions_mutex_);
    positions_[batch.partition] = batch.next_offset;
    return Status::ok();
  }

  // Writes are acknowledged by the server as they are made (the connection string's write concern
  // decides how durable: ?w=majority&journal=true): nothing is buffered here.
  Status flush() override { return Status::ok(); }

  Status release(std::span<const PartitionKey> partitions) override {
    std::lock_guard lock(positions_mutex_);
    for (const PartitionKey& partition : partitions) positions_.erase(partition);
    return Status::ok();
  }

  Status close() override {
    pool_.reset();
    return Status::ok();
  }

  Result<std::optional<std::string>> canonical_key(std::string_view source,
                                                   std::string_view source_key_json) override {
    return source_key_field(source, source_key_json, "canonical_key");
  }

  Result<std::optional<std::string>> raw_document(std::string_view source,
                                                  std::string_view source_key_json) override {
    return source_key_field(source, source_key_json, "raw");
  }

  Result<std::optional<std::string>> get(std::string_view subject,
                                         std::string_view key_json) override {
    ClientPool::Lease lease = pool_->lease();
    Result<BsonPtr> found =
        find_one(lease.get(), target_.collection, document_id(subject, key_json));
    if (!found) return found.take_status();
    if (!*found) return std::optional<std::string>();
    return live_document(found->get());
  }

  Status dump(std::string_view subject,
              const std::function<void(std::string_view, std::string_view)>& visit) override {
    ClientPool::Lease lease = pool_->lease();
    CollectionPtr collection = open_collection(lease.get(), target_.database, target_.collection);
    BsonPtr filter(bson_new());
    append_utf8(filter.get(), "subject", subject);
    BSON_APPEND_BOOL(filter.get(), "deleted", false);
    CursorPtr cursor(
        mongoc_collection_find_with_opts(collection.get(), filter.get(), nullptr, nullptr));
    // Sorted here, bytewise on the key's JSON as every store sorts, rather than by the server,
    // whose string order depends on its collation.
    std::vector<std::pair<std::string, std::string>> entities;
    const bson_t* document = nullptr;
    while (mongoc_cursor_next(cursor.get(), &document)) {
      bson_iter_t key;
      if (!bson_iter_init_find(&key, document, "key_json") || !BSON_ITER_HOLDS_UTF8(&key)) continue;
      std::optional<std::string> body = live_document(document);
      if (!body) continue;
      entities.emplace_back(bson_iter_utf8(&key, nullptr), std::move(*body));
    }
    bson_error_t error;
    if (mongoc_cursor_error(cursor.get(), &error)) {
      return status_from(error, "reading " + describe_);
    }
    std::sort(entities.begin(), entities.end());
    for (const auto& [key, body] : entities) visit(key, body);
    return Status::ok();
  }

 private:
  std::string sources_collection() const { return target_.collection + ".sources"; }
  std::string positions_collection() const { return target_.collection + ".positions"; }

  // The document with this _id, null when there is none.
  Result<BsonPtr> find_one(mongoc_client_t* client, const std::string& collection_name,
                           const std::string& id) {
    CollectionPtr collection = open_collection(client, target_.database, collection_name);
    BsonPtr filter = id_filter(id);
    BsonPtr options(BCON_NEW("limit", BCON_INT64(1)));
    CursorPtr cursor(
        mongoc_collection_find_with_opts(collection.get(), filter.get(), options.get(), nullptr));
    const bson_t* document = nullptr;
    BsonPtr found;
    if (mongoc_cursor_next(cursor.get(), &document)) found.reset(bson_copy(document));
    bson_error_t error;
    if (mongoc_cursor_error(cursor.get(), &error)) {
      return status_from(error, "reading " + target_.database + "." + collection_name);
    }
    return found;
  }

  // The entity's canonical JSON as the mapping wrote it, nullopt for a tombstone.
  static std::optional<std::string> live_document(const bson_t* entity) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, entity, "deleted") && bson_iter_as_bool(&it)) return std::nullopt;
    if (!bson_iter_init_find(&it, entity, "json") || !BSON_ITER_HOLDS_UTF8(&it)) {
      return std::nullopt;
    }
    uint32_t length = 0;
    const char* text = bson_iter_utf8(&it, &length);
    return std::string(text, length);
  }

  Result<std::optional<std::string>> source_key_field(std::string_view source,
                                                      std::string_view source_key_json,
                                                      const char* field) {
    ClientPool::Lease lease = pool_->lease();
    Result<BsonPtr> found =
        find_one(lease.get(), sources_collection(), document_id(source, source_key_json));
    if (!found) return found.take_status();
    bson_iter_t it;
    if (!*found || !bson_iter_init_find(&it, found->get(), field) || !BSON_ITER_HOLDS_UTF8(&it)) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(bson_iter_utf8(&it, nullptr));
  }

  // What a batch's write would replace: the document's partition position (-1 when another
  // partition wrote it last) and the document itself (without `doc`).
  struct Stored {
    int64_t position = -1;
    BsonPtr document;
  };

  // The documents of `ids` that exist, in one query per batch.
  Result<std::map<std::string, Stored>> existing(mongoc_client_t* client,
                                                 const std::string& collection_name,
                                                 const std::map<std::string, const Entry*>& ids,
                                                 const std::string& field) {
    CollectionPtr collection = open_collection(client, target_.database, collection_name);
    BsonPtr filter(bson_new());
    bson_t id, in;
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "_id", &id);
    BSON_APPEND_ARRAY_BEGIN(&id, "$in", &in);
    uint32_t index = 0;
    for (const auto& entry : ids) {
      char buffer[16];
      const char* key;
      bson_uint32_to_string(index++, &key, buffer, sizeof buffer);
      append_utf8(&in, key, entry.first);
    }
    bson_append_array_end(&id, &in);
    bson_append_document_end(filter.get(), &id);
    BsonPtr options(BCON_NEW("projection", "{", "doc", BCON_INT32(0), "}"));
    CursorPtr cursor(
        mongoc_collection_find_with_opts(collection.get(), filter.get(), options.get(), nullptr));
    std::map<std::string, Stored> found;
    const bson_t* document = nullptr;
    while (mongoc_cursor_next(cursor.get(), &document)) {
      bson_iter_t it, position;
      if (!bson_iter_init_find(&it, document, "_id") || !BSON_ITER_HOLDS_UTF8(&it)) continue;
      Stored& stored = found[bson_iter_utf8(&it, nullptr)];
      bson_iter_init(&it, document);
      if (bson_iter_find_descendant(&it, field.c_str(), &position)) {
        stored.position = bson_iter_as_int64(&position);
      }
      stored.document.reset(bson_copy(document));
    }
    bson_error_t error;
    if (mongoc_cursor_error(cursor.get(), &error)) {
      return status_from(error, "reading " + target_.database + "." + collection_name);
    }
    return found;
  }

  static std::optional<std::string_view> stored_text(const bson_t* document, const char* field) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, document, field) || !BSON_ITER_HOLDS_UTF8(&it)) {
      return std::nullopt;
    }
    uint32_t length = 0;
    const char* text = bson_iter_utf8(&it, &length);
    return std::string_view(text, length);
  }

  // The writes for `ids`, without those whose document already holds a newer write from the same
  // partition (a replay after a crash: it must not overwrite newer state), and without those that
  // would write again what the document holds from the same position (a replay of a write that
  // was made: `unchanged` says; skipping it spares FerretDB a scan per update).
  template <typename Unchanged, typename Fill>
  Result<std::vector<Write>> plan_writes(mongoc_client_t* client,
                                         const std::string& collection_name,
                                         const std::map<std::string, const Entry*>& ids,
                                         const std::string& partition, Unchanged unchanged,
                                         Fill fill) {
    Result<std::map<std::string, Stored>> there =
        existing(client, collection_name, ids, "positions." + partition);
    if (!there) return there.take_status();
    std::vector<Write> writes;
    for (const auto& [id, entry] : ids) {
      auto found = there->find(id);
      if (found != there->end()) {
        const Stored& stored = found->second;
        if (stored.position > entry->next_offset) continue;
        if (stored.position == entry->next_offset && unchanged(*entry, stored.document.get())) {
          continue;
        }
      }
      Write write;
      write.id = id;
      write.insert = found == there->end();
      write.partition = partition;
      write.position = entry->next_offset;
      CANONRY_RETURN_IF_ERROR(fill(*entry, write));
      writes.push_back(std::move(write));
    }
    return writes;
  }

  Status write_entities(mongoc_client_t* client, const Batch& batch, const std::string& field,
                        const std::map<std::string, const Entry*>& entities) {
    auto fill = [&](const Entry& entry, Write& write) -> Status {
      arena_.reset();
      bson_t* set = write.set.get();
      append_utf8(set, "subject", batch.subject);
      std::string_view key_json = batch.view(entry.key);
      append_utf8(set, "key_json", key_json);
      Result<json::Value> key = parser_.parse(key_json, arena_);
      if (!key) return key.take_status();
      CANONRY_RETURN_IF_ERROR(append_value(set, "key", *key, decimal128_));
      BSON_APPEND_BOOL(set, "deleted", entry.kind == Entry::Kind::kDelete);
      if (entry.kind == Entry::Kind::kDelete) {
        write.unset = {"doc", "json"};
        return Status::ok();
      }
      Result<json::Value> document = parser_.parse(batch.view(entry.document), arena_);
      if (!document) return document.take_status();
      if (!document->is_object()) {
        return Status(ErrorCode::kInvalidArgument, "a canonical record is not an object");
      }
      bson_t doc;
      BSON_APPEND_DOCUMENT_BEGIN(set, "doc", &doc);
      Status status = append_members(&doc, *document, decimal128_);
      bson_append_document_end(set, &doc);
      append_utf8(set, "json", batch.view(entry.document));
      return status;
    };
    auto unchanged = [&](const Entry& entry, const bson_t* stored) {
      bson_iter_t deleted;
      bool was_deleted =
          bson_iter_init_find(&deleted, stored, "deleted") && bson_iter_as_bool(&deleted);
      if (entry.kind == Entry::Kind::kDelete) return was_deleted;
      return !was_deleted && stored_text(stored, "json") == batch.view(entry.document);
    };
    Result<std::vector<Write>> writes =
        plan_writes(client, target_.collection, entities, field, unchanged, fill);
    if (!writes) return writes.take_status();
    CollectionPtr collection = open_collection(client, target_.database, target_.collection);
    return execute_writes(collection.get(), std::move(*writes), "writing entities to " + describe_);
  }

  Status write_source_keys(mongoc_client_t* client, const Batch& batch, const std::string& field,
                           const std::map<std::string, const Entry*>& source_keys) {
    auto fill = [&](const Entry& entry, Write& write) -> Status {
      bson_t* set = write.set.get();
      append_utf8(set, "source", batch.partition.source);
      append_utf8(set, "key_json", batch.view(entry.source_key));
      const bool deleted = entry.kind == Entry::Kind::kDelete;
      // The canonical key stays after a delete: a replayed delete must resolve to the same entity
      // (else it would reach the DLQ as unresolvable), as in the SQLite and PostgreSQL stores.
      if (!deleted && !entry.key.empty()) {
        append_utf8(set, "subject", batch.subject);
        append_utf8(set, "canonical_key", batch.view(entry.key));
      }
      if (!deleted && !entry.raw_document.empty()) {
        append_utf8(set, "raw", batch.view(entry.raw_document));
      }
      // A deleted document is forgotten, as Debezium's decoder forgets it: a later update that
      // carries only updateDescription has nothing to apply to.
      if (deleted) write.unset = {"raw"};
      return Status::ok();
    };
    auto unchanged = [&](const Entry& entry, const bson_t* stored) {
      std::optional<std::string_view> raw = stored_text(stored, "raw");
      if (entry.kind == Entry::Kind::kDelete) return !raw.has_value();
      return (entry.key.empty() || stored_text(stored, "canonical_key") == batch.view(entry.key)) &&
             (entry.raw_document.empty() || raw == batch.view(entry.raw_document));
    };
    Result<std::vector<Write>> writes =
        plan_writes(client, sources_collection(), source_keys, field, unchanged, fill);
    if (!writes) return writes.take_status();
    CollectionPtr collection = open_collection(client, target_.database, sources_collection());
    return execute_writes(collection.get(), std::move(*writes),
                          "writing source keys to " + describe_);
  }

  Target target_;
  std::string describe_;
  std::unique_ptr<ClientPool> pool_;
  bool decimal128_ = true;  // whether the server stores Decimal128 (see open())
  // Used by apply() only, on the sink thread.
  json::Parser parser_;
  Arena arena_{64 * 1024};
  std::mutex positions_mutex_;
  std::map<PartitionKey, int64_t> positions_;  // the partition positions recorded, -1: none
};

}  // namespace

std::unique_ptr<pipeline::StateStore> make_state_store(const pipeline::ConnectorSpec& spec) {
  Result<Target> target = parse_target(spec.uri);
  if (!target) throw ConfigError(spec.uri_where + ": state: " + target.status().message());
  return std::make_unique<MongoStateStore>(std::move(*target));
}

}  // namespace canonry::mongodb
