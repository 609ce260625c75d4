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

constexpr uint32_t kDuplicateKey = 11000;

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

// {"$or": [{"positions.F": {"$exists": false}}, {"positions.F": {"$lte": offset}}]}: the write
// applies only when nothing newer from the same partition is there. `$lte`, not `$lt`: a replay
// of the same entry writes the same value again, and events of one MongoDB transaction share
// their position.
void append_guard(bson_t* filter, const std::string& field, int64_t offset) {
  const std::string path = "positions." + field;
  bson_t any, absent, absent_condition, older, older_condition;
  BSON_APPEND_ARRAY_BEGIN(filter, "$or", &any);
  BSON_APPEND_DOCUMENT_BEGIN(&any, "0", &absent);
  BSON_APPEND_DOCUMENT_BEGIN(&absent, path.c_str(), &absent_condition);
  BSON_APPEND_BOOL(&absent_condition, "$exists", false);
  bson_append_document_end(&absent, &absent_condition);
  bson_append_document_end(&any, &absent);
  BSON_APPEND_DOCUMENT_BEGIN(&any, "1", &older);
  BSON_APPEND_DOCUMENT_BEGIN(&older, path.c_str(), &older_condition);
  BSON_APPEND_INT64(&older_condition, "$lte", offset);
  bson_append_document_end(&older, &older_condition);
  bson_append_document_end(&any, &older);
  bson_append_array_end(filter, &any);
}

void append_utf8(bson_t* document, const char* key, std::string_view value) {
  bson_append_utf8(document, key, -1, value.data(), static_cast<int>(value.size()));
}

// _id of an entity: {subject, key} with the key as compact JSON, so that any key type (string,
// number, composite object) has one exact form.
void append_entity_id(bson_t* document, std::string_view subject, std::string_view key_json) {
  bson_t id;
  BSON_APPEND_DOCUMENT_BEGIN(document, "_id", &id);
  append_utf8(&id, "subject", subject);
  append_utf8(&id, "key", key_json);
  bson_append_document_end(document, &id);
}

void append_source_id(bson_t* document, std::string_view source, std::string_view key_json) {
  bson_t id;
  BSON_APPEND_DOCUMENT_BEGIN(document, "_id", &id);
  append_utf8(&id, "source", source);
  append_utf8(&id, "key", key_json);
  bson_append_document_end(document, &id);
}

// The outcome of an unordered bulk of guarded upserts: duplicate-key errors are the guard at work
// (a newer write is already there), anything else is a failure.
Status execute_guarded(mongoc_bulk_operation_t* bulk, std::string_view what) {
  bson_t reply;
  bson_error_t error;
  bool ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
  Status status;
  if (!ok) {
    bson_iter_t it, errors, code;
    bool only_guards = bson_iter_init_find(&it, &reply, "writeErrors") &&
                       BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &errors);
    bool any = false;
    while (only_guards && bson_iter_next(&errors)) {
      any = true;
      bson_iter_t entry;
      only_guards = BSON_ITER_HOLDS_DOCUMENT(&errors) && bson_iter_recurse(&errors, &entry) &&
                    bson_iter_find_descendant(&entry, "code", &code) &&
                    bson_iter_as_int64(&code) == kDuplicateKey;
    }
    bson_iter_t concern;
    bool concern_error = bson_iter_init_find(&concern, &reply, "writeConcernErrors") &&
                         BSON_ITER_HOLDS_ARRAY(&concern) && [&] {
                           uint32_t length = 0;
                           const uint8_t* data = nullptr;
                           bson_iter_array(&concern, &length, &data);
                           return length > 5;
                         }();
    if (!(only_guards && any) || concern_error) status = status_from(error, what);
  }
  bson_destroy(&reply);
  return status;
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
    BsonPtr filter(bson_new());
    BSON_APPEND_UTF8(filter.get(), "_id", partition.to_string().c_str());
    Result<BsonPtr> found = find_one(lease.get(), positions_collection(), filter.get());
    if (!found) return found.take_status();
    std::optional<int64_t> position;
    bson_iter_t it;
    if (*found && bson_iter_init_find(&it, found->get(), "position")) {
      position = bson_iter_as_int64(&it);
    }
    std::lock_guard lock(held_mutex_);
    if (position) held_[partition] = *position;
    return position;
  }

  Status apply(const Batch& batch) override {
    int64_t held = -1;
    {
      std::lock_guard lock(held_mutex_);
      auto it = held_.find(batch.partition);
      if (it != held_.end()) held = it->second;
    }
    if (held < 0) {
      Result<std::optional<int64_t>> position = applied_position(batch.partition);
      if (!position) return position.take_status();
      held = position->value_or(-1);
    }
    if (batch.next_offset <= held) return Status::ok();

    // Within a batch only the last write to an entity (or a source key) counts: one guarded write
    // each, so that the unordered bulk below never races two writes to the same document.
    std::map<std::pair<std::string_view, std::string_view>, const Entry*> entities;
    std::map<std::string_view, const Entry*> source_keys;
    for (const Entry& entry : batch.entries) {
      if (entry.next_offset <= held) continue;
      if (entry.kind != Entry::Kind::kUpsert && entry.kind != Entry::Kind::kDelete) continue;
      entities[{batch.subject, batch.view(entry.key)}] = &entry;
      if (!entry.source_key.empty()) source_keys[batch.view(entry.source_key)] = &entry;
    }
    ClientPool::Lease lease = pool_->lease();
    const std::string field = position_field(batch.partition);
    if (!entities.empty()) {
      CANONRY_RETURN_IF_ERROR(write_entities(lease.get(), batch, field, entities));
    }
    if (!source_keys.empty()) {
      CANONRY_RETURN_IF_ERROR(write_source_keys(lease.get(), batch, field, source_keys));
    }
    // Last: the position. A crash before it leaves entity writes whose replay the guards make
    // harmless; the position never claims more than what is written.
    CollectionPtr positions =
        open_collection(lease.get(), target_.database, positions_collection());
    BsonPtr selector(bson_new());
    BSON_APPEND_UTF8(selector.get(), "_id", batch.partition.to_string().c_str());
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
    std::lock_guard lock(held_mutex_);
    held_[batch.partition] = batch.next_offset;
    return Status::ok();
  }

  // Writes are acknowledged by the server as they are made (the connection string's write concern
  // decides how durable: ?w=majority&journal=true): nothing is buffered here.
  Status flush() override { return Status::ok(); }

  Status release(std::span<const PartitionKey> partitions) override {
    std::lock_guard lock(held_mutex_);
    for (const PartitionKey& partition : partitions) held_.erase(partition);
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
    BsonPtr filter(bson_new());
    append_entity_id(filter.get(), subject, key_json);
    Result<BsonPtr> found = find_one(lease.get(), target_.collection, filter.get());
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
      bson_iter_t root, key;
      if (!bson_iter_init(&root, document) || !bson_iter_find_descendant(&root, "_id.key", &key) ||
          !BSON_ITER_HOLDS_UTF8(&key)) {
        continue;
      }
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

  Result<BsonPtr> find_one(mongoc_client_t* client, const std::string& collection_name,
                           const bson_t* filter) {
    CollectionPtr collection = open_collection(client, target_.database, collection_name);
    BsonPtr options(BCON_NEW("limit", BCON_INT64(1)));
    CursorPtr cursor(
        mongoc_collection_find_with_opts(collection.get(), filter, options.get(), nullptr));
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
    BsonPtr filter(bson_new());
    append_source_id(filter.get(), source, source_key_json);
    Result<BsonPtr> found = find_one(lease.get(), sources_collection(), filter.get());
    if (!found) return found.take_status();
    bson_iter_t it;
    if (!*found || !bson_iter_init_find(&it, found->get(), field) || !BSON_ITER_HOLDS_UTF8(&it)) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(bson_iter_utf8(&it, nullptr));
  }

  Status write_entities(
      mongoc_client_t* client, const Batch& batch, const std::string& field,
      const std::map<std::pair<std::string_view, std::string_view>, const Entry*>& entities) {
    CollectionPtr collection = open_collection(client, target_.database, target_.collection);
    BsonPtr bulk_options(BCON_NEW("ordered", BCON_BOOL(false)));
    mongoc_bulk_operation_t* bulk =
        mongoc_collection_create_bulk_operation_with_opts(collection.get(), bulk_options.get());
    BsonPtr upsert(BCON_NEW("upsert", BCON_BOOL(true)));
    Status status;
    for (const auto& [id, entry] : entities) {
      arena_.reset();
      BsonPtr filter(bson_new());
      append_entity_id(filter.get(), batch.subject, id.second);
      append_guard(filter.get(), field, entry->offset);
      BsonPtr update(bson_new());
      bson_t set;
      BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
      append_utf8(&set, "subject", batch.subject);
      Result<json::Value> key = parser_.parse(id.second, arena_);
      if (!key) {
        status = key.take_status();
      } else {
        status = append_value(&set, "key", *key, decimal128_);
      }
      BSON_APPEND_BOOL(&set, "deleted", entry->kind == Entry::Kind::kDelete);
      BSON_APPEND_INT64(&set, ("positions." + field).c_str(), entry->offset);
      if (status.is_ok() && entry->kind == Entry::Kind::kUpsert) {
        Result<json::Value> document = parser_.parse(batch.view(entry->document), arena_);
        if (!document) {
          status = document.take_status();
        } else if (!document->is_object()) {
          status = Status(ErrorCode::kInvalidArgument, "a canonical record is not an object");
        } else {
          bson_t doc;
          BSON_APPEND_DOCUMENT_BEGIN(&set, "doc", &doc);
          status = append_members(&doc, *document, decimal128_);
          bson_append_document_end(&set, &doc);
          append_utf8(&set, "json", batch.view(entry->document));
        }
      }
      bson_append_document_end(update.get(), &set);
      if (entry->kind == Entry::Kind::kDelete) {
        bson_t unset;
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$unset", &unset);
        BSON_APPEND_UTF8(&unset, "doc", "");
        BSON_APPEND_UTF8(&unset, "json", "");
        bson_append_document_end(update.get(), &unset);
      }
      if (!status.is_ok()) break;
      bson_error_t error;
      if (!mongoc_bulk_operation_update_one_with_opts(bulk, filter.get(), update.get(),
                                                      upsert.get(), &error)) {
        status = status_from(error, "preparing a write to " + describe_);
        break;
      }
    }
    if (status.is_ok()) status = execute_guarded(bulk, "writing entities to " + describe_);
    mongoc_bulk_operation_destroy(bulk);
    return status;
  }

  Status write_source_keys(mongoc_client_t* client, const Batch& batch, const std::string& field,
                           const std::map<std::string_view, const Entry*>& source_keys) {
    CollectionPtr collection = open_collection(client, target_.database, sources_collection());
    BsonPtr bulk_options(BCON_NEW("ordered", BCON_BOOL(false)));
    mongoc_bulk_operation_t* bulk =
        mongoc_collection_create_bulk_operation_with_opts(collection.get(), bulk_options.get());
    BsonPtr upsert(BCON_NEW("upsert", BCON_BOOL(true)));
    Status status;
    for (const auto& [source_key, entry] : source_keys) {
      BsonPtr filter(bson_new());
      append_source_id(filter.get(), batch.partition.source, source_key);
      append_guard(filter.get(), field, entry->offset);
      BsonPtr update(bson_new());
      bson_t set;
      BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
      BSON_APPEND_INT64(&set, ("positions." + field).c_str(), entry->offset);
      const bool deleted = entry->kind == Entry::Kind::kDelete;
      BSON_APPEND_BOOL(&set, "deleted", deleted);
      if (!deleted) {
        append_utf8(&set, "subject", batch.subject);
        append_utf8(&set, "canonical_key", batch.view(entry->key));
        if (!entry->raw_document.empty()) append_utf8(&set, "raw", batch.view(entry->raw_document));
      }
      bson_append_document_end(update.get(), &set);
      // A deleted source key forgets its canonical key and raw document, as Debezium's decoder
      // forgets the document: a later update without `after` has nothing to apply to.
      if (deleted || entry->raw_document.empty()) {
        bson_t unset;
        BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$unset", &unset);
        if (deleted) BSON_APPEND_UTF8(&unset, "canonical_key", "");
        BSON_APPEND_UTF8(&unset, "raw", "");
        bson_append_document_end(update.get(), &unset);
      }
      bson_error_t error;
      if (!mongoc_bulk_operation_update_one_with_opts(bulk, filter.get(), update.get(),
                                                      upsert.get(), &error)) {
        status = status_from(error, "preparing a write to " + describe_);
        break;
      }
    }
    if (status.is_ok()) status = execute_guarded(bulk, "writing source keys to " + describe_);
    mongoc_bulk_operation_destroy(bulk);
    return status;
  }

  Target target_;
  std::string describe_;
  std::unique_ptr<ClientPool> pool_;
  bool decimal128_ = true;  // whether the server stores Decimal128 (see open())
  // Used by apply() only, on the sink thread.
  json::Parser parser_;
  Arena arena_{64 * 1024};
  std::mutex held_mutex_;
  std::map<PartitionKey, int64_t> held_;
};

}  // namespace

std::unique_ptr<pipeline::StateStore> make_state_store(const pipeline::ConnectorSpec& spec) {
  Result<Target> target = parse_target(spec.uri);
  if (!target) throw ConfigError(spec.uri_where + ": state: " + target.status().message());
  return std::make_unique<MongoStateStore>(std::move(*target));
}

}  // namespace canonry::mongodb
