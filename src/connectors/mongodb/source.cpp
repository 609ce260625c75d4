#include "connectors/mongodb/source.h"

#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/mongodb/connection.h"
#include "formats/bson.h"
#include "formats/debezium.h"
#include "json/writer.h"

namespace canonry::mongodb {

namespace {

using pipeline::Message;
using pipeline::MessageBatch;

enum class Mode { kSnapshot, kChanges };

// Server error codes that mean "this server has no change streams": FerretDB v1 and servers that
// do not know the stage answer 40324 (unrecognized pipeline stage) or 238 (not implemented); a
// standalone mongod answers 40573 (only supported on replica sets).
bool means_no_change_streams(uint32_t code) {
  return code == 40324 || code == 238 || code == 40573 || code == 115;
}

constexpr int32_t kPartition = 0;  // a collection is one ordered stream: one partition

// Where a restart resumes, kept by the source beside the sinks' positions: sinks hold an int64
// position per partition (an ordinal in _id order for a snapshot, a cluster time for a change
// stream); this maps the last committed one to what MongoDB needs to resume after it (the last
// _id read, or the change stream's resume token).
struct Resume {
  int64_t next_offset = 0;
  BsonPtr point;  // {_id: <last _id>} for a snapshot, {token: <resume token>} for a change stream
};

class CheckpointLog {
 public:
  void record(int64_t next_offset, const bson_t* point) {
    std::lock_guard lock(mutex_);
    pending_.push_back(Resume{next_offset, BsonPtr(bson_copy(point))});
  }
  // The newest resume point at or below `position`; older ones are dropped.
  std::optional<Resume> take_until(int64_t position) {
    std::lock_guard lock(mutex_);
    std::optional<Resume> found;
    while (!pending_.empty() && pending_.front().next_offset <= position) {
      found = std::move(pending_.front());
      pending_.pop_front();
    }
    return found;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    pending_.clear();
  }

 private:
  std::mutex mutex_;
  std::deque<Resume> pending_;
};

struct SourceConfig {
  std::string name;
  Target target;
  Mode mode = Mode::kSnapshot;
  int32_t batch_size = 1000;
  std::string checkpoint_collection = "canonry.checkpoints";
  std::string checkpoint_id;  // "<source name>/<collection>"
  // `canonry run --until-end`: a change stream ends at the first read that waited for events in
  // vain (what existed when it was read is delivered).
  bool until_end = false;
};

// Holds the bytes of the messages of one read() so that they stay valid until the next.
class MessageBuffer {
 public:
  void clear() {
    bytes_.clear();
    slices_.clear();
  }
  size_t size() const { return slices_.size(); }
  void add(int64_t offset, int64_t next_offset, int64_t timestamp_ms,
           std::optional<std::string_view> key, std::optional<std::string_view> value) {
    Slice slice{offset, next_offset,     timestamp_ms,     bytes_.size(), key ? key->size() : 0,
                0,      key.has_value(), value.has_value()};
    if (key) bytes_ += *key;
    if (value) {
      bytes_ += *value;
      slice.value_size = value->size();
    }
    slices_.push_back(slice);
  }
  // Messages pointing into the buffer, made once it holds everything (it may move while filled).
  void publish(MessageBatch& batch) const {
    batch.messages.clear();
    for (const Slice& s : slices_) {
      Message m;
      m.offset = s.offset;
      m.next_offset = s.next_offset;
      m.timestamp_ms = s.timestamp_ms;
      if (s.has_key) m.key = std::string_view(bytes_.data() + s.begin, s.key_size);
      if (s.has_value) {
        m.value = std::string_view(bytes_.data() + s.begin + s.key_size, s.value_size);
      }
      batch.messages.push_back(m);
    }
  }

 private:
  struct Slice {
    int64_t offset, next_offset, timestamp_ms;
    size_t begin, key_size, value_size;
    bool has_key, has_value;
  };
  std::string bytes_;
  std::vector<Slice> slices_;
};

// A snapshot: the collection in _id order, one document per message. The offset of a document is
// its ordinal (documents before it in this order), so that positions are integers as every sink
// holds them; the checkpoint maps the committed ordinal to the last _id, and a restart queries
// `_id > last` from there.
class SnapshotReader final : public pipeline::PartitionReader {
 public:
  SnapshotReader(ClientPool& pool, const SourceConfig& config, CheckpointLog& log,
                 int64_t first_ordinal, int64_t skip_until, BsonPtr after_id)
      : pool_(pool),
        config_(config),
        log_(log),
        lease_(pool.lease()),
        ordinal_(first_ordinal),
        skip_until_(skip_until),
        last_id_(std::move(after_id)) {}

  Status read(MessageBatch& batch, size_t max_messages, std::chrono::milliseconds) override {
    buffer_.clear();
    batch.end = false;
    if (!cursor_) open_cursor();
    const bson_t* document = nullptr;
    while (buffer_.size() < max_messages && mongoc_cursor_next(cursor_.get(), &document)) {
      add(document);
    }
    bson_error_t error;
    if (mongoc_cursor_error(cursor_.get(), &error)) {
      cursor_.reset();  // the next read() queries again after the last _id delivered
      buffer_.publish(batch);
      return status_from(error, "reading " + config_.target.describe());
    }
    if (buffer_.size() < max_messages) batch.end = true;  // the cursor is exhausted
    buffer_.publish(batch);
    return Status::ok();
  }

 private:
  void open_cursor() {
    BsonPtr filter(bson_new());
    if (last_id_) {
      bson_iter_t id;
      bson_iter_init_find(&id, last_id_.get(), "_id");
      bson_t condition;
      BSON_APPEND_DOCUMENT_BEGIN(filter.get(), "_id", &condition);
      bson_append_iter(&condition, "$gt", 3, &id);
      bson_append_document_end(filter.get(), &condition);
    }
    BsonPtr options(BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}", "batchSize",
                             BCON_INT32(config_.batch_size)));
    collection_ = open_collection(lease_.get(), config_.target.database, config_.target.collection);
    cursor_.reset(
        mongoc_collection_find_with_opts(collection_.get(), filter.get(), options.get(), nullptr));
  }

  void add(const bson_t* document) {
    int64_t offset = ordinal_++;
    int64_t next_offset = ordinal_;
    std::optional<std::string> key;
    int64_t timestamp_ms = -1;
    bson_iter_t id;
    if (bson_iter_init_find(&id, document, "_id")) {
      last_id_.reset(bson_new());
      bson_append_iter(last_id_.get(), "_id", 3, &id);
      log_.record(next_offset, last_id_.get());
      // An _id that is not valid (invalid UTF-8) leaves the message without a key: the document
      // then fails to decode the same way and reaches the DLQ with its bytes and the reason.
      Result<std::string> id_json = element_to_json(&id);
      if (id_json) key = std::move(*id_json);
      // An ObjectId carries its creation time: the closest thing to an event time a snapshot has.
      if (BSON_ITER_HOLDS_OID(&id)) {
        timestamp_ms = static_cast<int64_t>(bson_oid_get_time_t(bson_iter_oid(&id))) * 1000;
      }
    }
    // Documents the sinks already hold (a restart from an older checkpoint) are not sent again.
    if (next_offset <= skip_until_) return;
    buffer_.add(
        offset, next_offset, timestamp_ms, key,
        std::string_view(reinterpret_cast<const char*>(bson_get_data(document)), document->len));
  }

  ClientPool& pool_;
  const SourceConfig& config_;
  CheckpointLog& log_;
  ClientPool::Lease lease_;
  CollectionPtr collection_;
  CursorPtr cursor_;
  int64_t ordinal_;
  int64_t skip_until_;
  BsonPtr last_id_;
  MessageBuffer buffer_;
};

struct ChangeStreamDeleter {
  void operator()(mongoc_change_stream_t* s) const { mongoc_change_stream_destroy(s); }
};
using ChangeStreamPtr = std::unique_ptr<mongoc_change_stream_t, ChangeStreamDeleter>;

// Cluster time (seconds, increment) as one ordered int64: the position of a change event.
int64_t pack_cluster_time(uint32_t seconds, uint32_t increment) {
  return (static_cast<int64_t>(seconds) << 32) | increment;
}

Result<ChangeStreamPtr> open_change_stream(mongoc_client_t* client, const SourceConfig& config,
                                           const bson_t* resume_token,
                                           std::optional<int64_t> start_at,
                                           std::chrono::milliseconds await) {
  CollectionPtr collection =
      open_collection(client, config.target.database, config.target.collection);
  BsonPtr pipeline(bson_new());
  BsonPtr options(BCON_NEW("fullDocument", BCON_UTF8("updateLookup"), "batchSize",
                           BCON_INT32(config.batch_size), "maxAwaitTimeMS",
                           BCON_INT64(static_cast<int64_t>(await.count()))));
  if (resume_token) {
    BSON_APPEND_DOCUMENT(options.get(), "resumeAfter", resume_token);
  } else if (start_at) {
    bson_append_timestamp(options.get(), "startAtOperationTime", -1,
                          static_cast<uint32_t>(*start_at >> 32),
                          static_cast<uint32_t>(*start_at & 0xffffffff));
  }
  ChangeStreamPtr stream(mongoc_collection_watch(collection.get(), pipeline.get(), options.get()));
  const bson_t* reply = nullptr;
  bson_error_t error;
  if (mongoc_change_stream_error_document(stream.get(), &error, &reply)) {
    if (means_no_change_streams(error.code)) {
      return Status(ErrorCode::kInvalidArgument,
                    "mongodb: " + config.target.describe() +
                        " has no change streams (the server answered: " + error.message +
                        "). FerretDB v1 has none, and MongoDB has them only on replica sets and "
                        "sharded clusters; use `mode: snapshot` to read the collection instead");
    }
    return status_from(error, "opening a change stream on " + config.target.describe());
  }
  return stream;
}

// A change stream: each event becomes a Debezium MongoDB change event (op c/u/d, `after` as
// extended JSON, `updateDescription` when the document is gone by the time of the lookup), so that
// the Debezium decoder applies its documented semantics; the message key is Debezium's
// {"id": "<extended JSON of _id>"}. Positions are cluster times; the resume token of the last
// committed event is the checkpoint.
class ChangeStreamReader final : public pipeline::PartitionReader {
 public:
  ChangeStreamReader(ClientPool& pool, const SourceConfig& config, CheckpointLog& log,
                     BsonPtr resume_token, std::optional<int64_t> start_at, int64_t skip_until)
      : config_(config),
        log_(log),
        lease_(pool.lease()),
        resume_token_(std::move(resume_token)),
        start_at_(start_at),
        skip_until_(skip_until) {}

  Status read(MessageBatch& batch, size_t max_messages,
              std::chrono::milliseconds timeout) override {
    buffer_.clear();
    batch.end = false;
    if (!stream_) {
      Result<ChangeStreamPtr> stream =
          open_change_stream(lease_.get(), config_, resume_token_.get(), start_at_, timeout);
      if (!stream) {
        batch.messages.clear();
        return stream.take_status();
      }
      stream_ = std::move(*stream);
    }
    const bson_t* event = nullptr;
    while (buffer_.size() < max_messages && mongoc_change_stream_next(stream_.get(), &event)) {
      Status status = add(event);
      if (!status.is_ok()) {
        buffer_.publish(batch);
        return status;
      }
    }
    bson_error_t error;
    const bson_t* reply = nullptr;
    if (mongoc_change_stream_error_document(stream_.get(), &error, &reply)) {
      stream_.reset();  // reopened after the last event delivered on the next read()
      buffer_.publish(batch);
      return status_from(error, "reading the change stream of " + config_.target.describe());
    }
    if (config_.until_end && buffer_.size() == 0) batch.end = true;
    buffer_.publish(batch);
    return Status::ok();
  }

 private:
  Status add(const bson_t* event) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, event, "_id") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      uint32_t length = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&it, &length, &data);
      resume_token_.reset(bson_new_from_data(data, length));
      start_at_.reset();
    }
    uint32_t seconds = 0, increment = 0;
    if (bson_iter_init_find(&it, event, "clusterTime") && BSON_ITER_HOLDS_TIMESTAMP(&it)) {
      bson_iter_timestamp(&it, &seconds, &increment);
    }
    // Events of one transaction share their cluster time: they share offset and next_offset.
    int64_t offset = pack_cluster_time(seconds, increment);
    int64_t next_offset = offset + 1;
    BsonPtr point(bson_new());
    if (resume_token_) BSON_APPEND_DOCUMENT(point.get(), "token", resume_token_.get());
    log_.record(next_offset, point.get());
    if (next_offset <= skip_until_) return Status::ok();

    std::string operation;
    if (bson_iter_init_find(&it, event, "operationType") && BSON_ITER_HOLDS_UTF8(&it)) {
      operation = bson_iter_utf8(&it, nullptr);
    }
    if (operation == "invalidate") {
      return Status(ErrorCode::kIo, "mongodb: the change stream of " + config_.target.describe() +
                                        " was invalidated (the collection was dropped or renamed)");
    }
    int64_t timestamp_ms = static_cast<int64_t>(seconds) * 1000;
    key_.clear();
    value_.clear();
    bson_iter_t id;
    if (bson_iter_init_find(&it, event, "documentKey") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &id) && bson_iter_find(&id, "_id")) {
      Result<std::string> id_json = element_to_json(&id);
      if (!id_json) return id_json.take_status();
      key_ = "{\"id\":";
      json::append_quoted(key_, *id_json);
      key_ += '}';
    }
    if (operation == "insert" || operation == "replace" || operation == "update") {
      Status status = event_value(event, operation);
      if (!status.is_ok()) return status;
    } else if (operation == "delete") {
      value_ =
          "{\"op\":\"d\",\"before\":null,\"after\":null,\"ts_ms\":" + std::to_string(timestamp_ms) +
          "}";
    } else {
      // drop, rename, dropDatabase, DDL events: no document changes, only the position moves.
      buffer_.add(offset, next_offset, timestamp_ms, key_, std::nullopt);
      return Status::ok();
    }
    buffer_.add(offset, next_offset, timestamp_ms, key_, value_);
    return Status::ok();
  }

  // Appends a sub-document as extended JSON that canonry's parser reads back into the same types.
  Status append_document_json(std::string& out, const bson_iter_t* it) {
    uint32_t length = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(it, &length, &data);
    arena_.reset();
    Result<json::Value> value = formats::bson_to_value(data, length, arena_, 128);
    if (!value) return value.take_status();
    std::string text;
    formats::append_store_json(text, *value);
    json::append_quoted(out, text);
    return Status::ok();
  }

  Status event_value(const bson_t* event, const std::string& operation) {
    bson_iter_t it;
    value_ = "{\"op\":\"";
    value_ += operation == "insert" ? "c" : "u";
    value_ += "\",\"ts_ms\":";
    uint32_t seconds = 0, increment = 0;
    if (bson_iter_init_find(&it, event, "clusterTime"))
      bson_iter_timestamp(&it, &seconds, &increment);
    value_ += std::to_string(static_cast<int64_t>(seconds) * 1000);
    if (bson_iter_init_find(&it, event, "fullDocument") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      value_ += ",\"after\":";
      CANONRY_RETURN_IF_ERROR(append_document_json(value_, &it));
    } else if (bson_iter_init_find(&it, event, "updateDescription") &&
               BSON_ITER_HOLDS_DOCUMENT(&it)) {
      // The document was deleted before the lookup: the update is applied by the Debezium decoder
      // to the last document the state store holds for the key.
      bson_iter_t description;
      bson_iter_recurse(&it, &description);
      value_ += ",\"after\":null,\"updateDescription\":{";
      bool first = true;
      while (bson_iter_next(&description)) {
        std::string_view field = bson_iter_key(&description);
        if (!first) value_ += ',';
        first = false;
        json::append_quoted(value_, field);
        value_ += ':';
        if (field == "updatedFields" && BSON_ITER_HOLDS_DOCUMENT(&description)) {
          CANONRY_RETURN_IF_ERROR(append_document_json(value_, &description));
        } else {
          Result<std::string> other = element_to_json(&description);
          if (!other) return other.take_status();
          value_ += *other;
        }
      }
      value_ += '}';
    } else {
      value_ += ",\"after\":null";
    }
    value_ += '}';
    return Status::ok();
  }

  const SourceConfig& config_;
  CheckpointLog& log_;
  ClientPool::Lease lease_;
  BsonPtr resume_token_;
  std::optional<int64_t> start_at_;
  int64_t skip_until_;
  ChangeStreamPtr stream_;
  MessageBuffer buffer_;
  Arena arena_{16 * 1024};
  std::string key_, value_;
};

class MongoSource final : public pipeline::Source {
 public:
  explicit MongoSource(SourceConfig config) : config_(std::move(config)) {}

  const std::string& name() const override { return config_.name; }
  bool bounded() const override { return config_.mode == Mode::kSnapshot || config_.until_end; }

  Status start(pipeline::PartitionListener& listener) override {
    Result<std::unique_ptr<ClientPool>> pool = ClientPool::create(config_.target);
    if (!pool) return pool.take_status();
    pool_ = std::move(*pool);
    if (config_.mode == Mode::kChanges) {
      // Asked once here so that a server without change streams fails the start, with the reason,
      // rather than every read.
      ClientPool::Lease lease = pool_->lease();
      Result<ChangeStreamPtr> probe = open_change_stream(
          lease.get(), config_, nullptr, std::nullopt, std::chrono::milliseconds(1));
      if (!probe) return probe.take_status();
    }
    const int32_t partitions[] = {kPartition};
    return listener.on_assigned(partitions);
  }

  Status poll(std::chrono::milliseconds timeout) override {
    std::this_thread::sleep_for(timeout);  // one fixed partition: no group protocol to serve
    return Status::ok();
  }

  Result<std::unique_ptr<pipeline::PartitionReader>> open_partition(
      int32_t partition, std::optional<int64_t> position) override {
    if (partition != kPartition) {
      return Status(ErrorCode::kInvalidArgument,
                    "mongodb: " + config_.target.describe() + " has only partition 0");
    }
    log_.clear();
    Result<std::optional<Resume>> checkpoint = load_checkpoint();
    if (!checkpoint) return checkpoint.take_status();
    // Resume after the checkpoint when the sinks hold at least what it covers: documents between
    // it and the sinks' position are read again but not sent. Otherwise (no position, or sinks
    // that hold less than the checkpoint: a store that was reset) read from the start.
    const bool use_checkpoint = position && *checkpoint && (*checkpoint)->next_offset <= *position;
    const int64_t skip_until = position.value_or(0);
    if (config_.mode == Mode::kSnapshot) {
      BsonPtr after_id;
      int64_t first_ordinal = 0;
      if (use_checkpoint) {
        first_ordinal = (*checkpoint)->next_offset;
        after_id = std::move((*checkpoint)->point);
      }
      return std::unique_ptr<pipeline::PartitionReader>(std::make_unique<SnapshotReader>(
          *pool_, config_, log_, first_ordinal, skip_until, std::move(after_id)));
    }
    BsonPtr token;
    std::optional<int64_t> start_at;
    if (use_checkpoint) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, (*checkpoint)->point.get(), "token") &&
          BSON_ITER_HOLDS_DOCUMENT(&it)) {
        uint32_t length = 0;
        const uint8_t* data = nullptr;
        bson_iter_document(&it, &length, &data);
        token.reset(bson_new_from_data(data, length));
      }
    } else if (position) {
      start_at = *position;  // the cluster time after the last event the sinks hold
    }
    return std::unique_ptr<pipeline::PartitionReader>(std::make_unique<ChangeStreamReader>(
        *pool_, config_, log_, std::move(token), start_at, skip_until));
  }

  Status commit(int32_t, int64_t position) override {
    std::optional<Resume> resume = log_.take_until(position);
    if (!resume) return Status::ok();
    ClientPool::Lease lease = pool_->lease();
    CollectionPtr collection =
        open_collection(lease.get(), config_.target.database, config_.checkpoint_collection);
    BsonPtr selector(BCON_NEW("_id", BCON_UTF8(config_.checkpoint_id.c_str())));
    BsonPtr update(bson_new());
    bson_t set;
    BSON_APPEND_DOCUMENT_BEGIN(update.get(), "$set", &set);
    BSON_APPEND_INT64(&set, "position", resume->next_offset);
    BSON_APPEND_DOCUMENT(&set, "resume", resume->point.get());
    bson_append_document_end(update.get(), &set);
    BsonPtr options(BCON_NEW("upsert", BCON_BOOL(true)));
    bson_error_t error;
    if (!mongoc_collection_update_one(collection.get(), selector.get(), update.get(), options.get(),
                                      nullptr, &error)) {
      return status_from(error, "writing the checkpoint of source " + config_.name);
    }
    return Status::ok();
  }

  Status close() override {
    pool_.reset();
    return Status::ok();
  }

 private:
  Result<std::optional<Resume>> load_checkpoint() {
    ClientPool::Lease lease = pool_->lease();
    CollectionPtr collection =
        open_collection(lease.get(), config_.target.database, config_.checkpoint_collection);
    BsonPtr filter(BCON_NEW("_id", BCON_UTF8(config_.checkpoint_id.c_str())));
    CursorPtr cursor(
        mongoc_collection_find_with_opts(collection.get(), filter.get(), nullptr, nullptr));
    const bson_t* document = nullptr;
    std::optional<Resume> found;
    if (mongoc_cursor_next(cursor.get(), &document)) {
      bson_iter_t position, point;
      if (bson_iter_init_find(&position, document, "position") &&
          bson_iter_init_find(&point, document, "resume") && BSON_ITER_HOLDS_DOCUMENT(&point)) {
        uint32_t length = 0;
        const uint8_t* data = nullptr;
        bson_iter_document(&point, &length, &data);
        found = Resume{bson_iter_as_int64(&position), BsonPtr(bson_new_from_data(data, length))};
      }
    }
    bson_error_t error;
    if (mongoc_cursor_error(cursor.get(), &error)) {
      return status_from(error, "reading the checkpoint of source " + config_.name);
    }
    return found;
  }

  SourceConfig config_;
  std::unique_ptr<ClientPool> pool_;
  CheckpointLog log_;
};

}  // namespace

std::unique_ptr<pipeline::Source> make_source(const pipeline::SourceSpec& spec) {
  pipeline::ConnectorOptions& options = *spec.options;
  SourceConfig config;
  config.name = spec.name;
  Result<Target> target = parse_target(spec.uri);
  if (!target) throw ConfigError(spec.uri_where + ": uri: " + target.status().message());
  config.target = std::move(*target);
  config.checkpoint_id = spec.name + "/" + config.target.collection;
  config.until_end = spec.until_end;
  if (auto mode = options.take("mode")) {
    if (mode->value == "snapshot") {
      config.mode = Mode::kSnapshot;
    } else if (mode->value == "changes") {
      config.mode = Mode::kChanges;
    } else {
      throw ConfigError(mode->where + ": mode: expected snapshot or changes, not \"" + mode->value +
                        "\"");
    }
  }
  if (auto batch = options.take("batch_size")) {
    int value = 0;
    try {
      value = std::stoi(batch->value);
    } catch (const std::exception&) {
    }
    if (value < 1 || value > 100000) {
      throw ConfigError(batch->where + ": batch_size: expected an integer from 1 to 100000");
    }
    config.batch_size = value;
  }
  if (auto checkpoints = options.take("checkpoints")) {
    if (checkpoints->value.empty() || checkpoints->value.find('$') != std::string::npos) {
      throw ConfigError(checkpoints->where + ": checkpoints: expected a collection name");
    }
    config.checkpoint_collection = checkpoints->value;
  }
  // What each mode delivers decides the format: documents as BSON, change events as Debezium's.
  const std::string expected = config.mode == Mode::kSnapshot ? "bson" : "debezium";
  if (spec.format != expected) {
    throw ConfigError(
        options.where() + ": format: a mongodb source in " +
        (config.mode == Mode::kSnapshot ? "snapshot" : "changes") + " mode delivers " +
        (config.mode == Mode::kSnapshot ? "BSON documents" : "Debezium change events") +
        ": set `format: " + expected + "`");
  }
  return std::make_unique<MongoSource>(std::move(config));
}

}  // namespace canonry::mongodb
