// The SQLite state store (the embedded default, DESIGN 4.7 `state: "sqlite:var/state.db"`): the
// latest canonical entity per (subject, key), the source-key index, the last raw document per
// source key and the positions, each batch in one transaction. See README.md.
#include <sqlite3.h>

#include <climits>
#include <filesystem>
#include <map>
#include <mutex>

#include "pipeline/connector.h"

namespace canonry::connectors::sqlite {
namespace {

using pipeline::Batch;
using pipeline::ConnectorSpec;
using pipeline::Entry;
using pipeline::PartitionKey;
using pipeline::StateStore;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS canonry_entities (
  subject TEXT NOT NULL, key TEXT NOT NULL, document TEXT,
  source TEXT NOT NULL, partition INTEGER NOT NULL, position INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (subject, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canonry_source_keys (
  source TEXT NOT NULL, source_key TEXT NOT NULL, subject TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (source, source_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canonry_raw_documents (
  source TEXT NOT NULL, source_key TEXT NOT NULL, partition INTEGER NOT NULL,
  position INTEGER NOT NULL, document TEXT,
  PRIMARY KEY (source, source_key, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canonry_positions (
  source TEXT NOT NULL, partition INTEGER NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (source, partition)) WITHOUT ROWID;
)sql";

// An upsert or a delete (document NULL, kept as a tombstone so that a replayed older upsert cannot
// bring the entity back) that only wins over a row from the same partition when it is newer.
constexpr const char* kWriteEntity = R"sql(
INSERT INTO canonry_entities (subject, key, document, source, partition, position, updated_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (subject, key) DO UPDATE SET
  document = excluded.document, source = excluded.source, partition = excluded.partition,
  position = excluded.position, updated_ms = excluded.updated_ms
WHERE NOT (canonry_entities.source = excluded.source
           AND canonry_entities.partition = excluded.partition
           AND canonry_entities.position > excluded.position)
)sql";

class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { finalize(); }

  void finalize() {
    sqlite3_finalize(statement_);
    statement_ = nullptr;
  }
  Status prepare(sqlite3* db, const char* sql) {
    finalize();
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) !=
        SQLITE_OK) {
      return Status(ErrorCode::kIo, std::string("sqlite: ") + sqlite3_errmsg(db));
    }
    return Status::ok();
  }
  sqlite3_stmt* get() { return statement_; }
  void text(int index, std::string_view value) {
    sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                      SQLITE_STATIC);
  }
  void null(int index) { sqlite3_bind_null(statement_, index); }
  void integer(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  // Runs a statement that returns no rows.
  int run() {
    int rc = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    return rc;
  }
  std::string_view column_text(int index) {
    const unsigned char* text = sqlite3_column_text(statement_, index);
    return {reinterpret_cast<const char*>(text),
            static_cast<size_t>(sqlite3_column_bytes(statement_, index))};
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(const ConnectorSpec& spec) : description_(spec.uri) {
    std::string rest = spec.rest;
    if (rest.starts_with("//")) rest = rest.substr(2);
    if (rest.empty()) throw ConfigError(spec.uri_where + ": uri: the database file is missing");
    path_ = spec.resolve_path(rest);
  }
  ~SqliteStateStore() override { close(); }

  const std::string& describe() const override { return description_; }

  Status open(const pipeline::SinkContext& context) override {
    clock_ = context.clock != nullptr ? context.clock : &pipeline::system_clock();
    std::error_code ignored;
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
    CANONRY_RETURN_IF_ERROR(connect(&writer_));
    CANONRY_RETURN_IF_ERROR(exec(writer_, kSchema));
    CANONRY_RETURN_IF_ERROR(connect(&reader_));
    CANONRY_RETURN_IF_ERROR(write_entity_.prepare(writer_, kWriteEntity));
    CANONRY_RETURN_IF_ERROR(write_source_key_.prepare(
        writer_,
        "INSERT OR REPLACE INTO canonry_source_keys (source, source_key, subject, key) "
        "VALUES (?1, ?2, ?3, ?4)"));
    // Raw documents keep their history from the last committed position on (a replay reads
    // the version before its message), one row per change, NULL for a delete.
    CANONRY_RETURN_IF_ERROR(write_raw_.prepare(
        writer_,
        "INSERT OR REPLACE INTO canonry_raw_documents (source, source_key, partition, position, "
        "document) VALUES (?1, ?2, ?3, ?4, ?5)"));
    CANONRY_RETURN_IF_ERROR(prune_raw_.prepare(
        writer_,
        "DELETE FROM canonry_raw_documents WHERE source = ?1 AND source_key = ?2 AND position < "
        "(SELECT MAX(position) FROM canonry_raw_documents WHERE source = ?1 AND source_key = ?2 "
        "AND position < ?3)"));
    CANONRY_RETURN_IF_ERROR(write_position_.prepare(
        writer_,
        "INSERT OR REPLACE INTO canonry_positions (source, partition, position) "
        "VALUES (?1, ?2, ?3)"));
    CANONRY_RETURN_IF_ERROR(held_.prepare(
        writer_, "SELECT position FROM canonry_positions WHERE source = ?1 AND partition = ?2"));
    CANONRY_RETURN_IF_ERROR(read_position_.prepare(
        reader_, "SELECT position FROM canonry_positions WHERE source = ?1 AND partition = ?2"));
    CANONRY_RETURN_IF_ERROR(read_canonical_.prepare(
        reader_, "SELECT key FROM canonry_source_keys WHERE source = ?1 AND source_key = ?2"));
    CANONRY_RETURN_IF_ERROR(read_raw_.prepare(
        reader_,
        "SELECT document FROM canonry_raw_documents WHERE source = ?1 AND source_key = ?2 "
        "AND position < ?3 ORDER BY position DESC LIMIT 1"));
    CANONRY_RETURN_IF_ERROR(read_entity_.prepare(
        reader_,
        "SELECT document FROM canonry_entities WHERE subject = ?1 AND key = ?2 "
        "AND document IS NOT NULL"));
    return Status::ok();
  }

  Result<std::optional<int64_t>> applied_position(const PartitionKey& partition) override {
    std::lock_guard lock(reader_mutex_);
    return position(read_position_, reader_, partition);
  }

  Status apply(const Batch& batch) override {
    CANONRY_RETURN_IF_ERROR(exec(writer_, "BEGIN IMMEDIATE"));
    Status status = apply_in_transaction(batch);
    if (!status) {
      exec(writer_, "ROLLBACK");
      return status;
    }
    return exec(writer_, "COMMIT");
  }

  // Every batch commits in apply(): nothing is pending here.
  Status flush() override { return Status::ok(); }

  Status close() override {
    std::lock_guard lock(reader_mutex_);  // lookups (the HTTP API) may still be running
    close_connections();
    return Status::ok();
  }

  Result<std::optional<std::string>> canonical_key(std::string_view source,
                                                   std::string_view source_key_json) override {
    return lookup(read_canonical_, source, source_key_json);
  }
  Result<std::optional<std::string>> raw_document(std::string_view source,
                                                  std::string_view source_key_json) override {
    return raw(source, source_key_json, INT64_MAX);
  }
  Result<std::optional<std::string>> raw_document_before(const PartitionKey& partition,
                                                         std::string_view source_key_json,
                                                         int64_t position) override {
    return raw(partition.source, source_key_json, position);
  }

  void on_committed(const PartitionKey& partition, int64_t position) override {
    std::lock_guard lock(committed_mutex_);
    committed_[partition] = position;
  }
  Result<std::optional<std::string>> get(std::string_view subject,
                                         std::string_view key_json) override {
    return lookup(read_entity_, subject, key_json);
  }

  Status dump(std::string_view subject,
              const std::function<void(std::string_view, std::string_view)>& visit) override {
    std::lock_guard lock(reader_mutex_);
    Statement query;
    CANONRY_RETURN_IF_ERROR(query.prepare(
        reader_,
        "SELECT key, document FROM canonry_entities WHERE subject = ?1 AND document IS NOT NULL "
        "ORDER BY key"));
    query.text(1, subject);
    int rc;
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
      visit(query.column_text(0), query.column_text(1));
    }
    if (rc != SQLITE_DONE) return error(reader_);
    return Status::ok();
  }

 private:
  Status error(sqlite3* db) const {
    return Status(ErrorCode::kIo, path_ + ": " + sqlite3_errmsg(db));
  }

  Status connect(sqlite3** db) {
    if (sqlite3_open_v2(path_.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      Status status = error(*db);
      sqlite3_close(*db);
      *db = nullptr;
      return status;
    }
    // WAL: readers (lookups, dumps, the HTTP API) never block the writer. synchronous=NORMAL keeps
    // every committed batch across a killed process (what the restart guarantees need); only a
    // power loss may lose the last commits, which the positions table then replays.
    sqlite3_busy_timeout(*db, 10000);
    return exec(*db,
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                "PRAGMA foreign_keys = OFF");
  }

  Status exec(sqlite3* db, const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Status status(ErrorCode::kIo,
                    path_ + ": " + (message != nullptr ? message : sqlite3_errmsg(db)));
      sqlite3_free(message);
      return status;
    }
    return Status::ok();
  }

  Result<std::optional<int64_t>> position(Statement& query, sqlite3* db,
                                          const PartitionKey& partition) {
    query.text(1, partition.source);
    query.integer(2, partition.partition);
    int rc = sqlite3_step(query.get());
    std::optional<int64_t> out;
    if (rc == SQLITE_ROW) out = sqlite3_column_int64(query.get(), 0);
    sqlite3_reset(query.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(db);
    return out;
  }

  Result<std::optional<std::string>> lookup(Statement& query, std::string_view first,
                                            std::string_view second) {
    std::lock_guard lock(reader_mutex_);
    query.text(1, first);
    query.text(2, second);
    int rc = sqlite3_step(query.get());
    std::optional<std::string> out;
    if (rc == SQLITE_ROW) out = std::string(query.column_text(0));
    sqlite3_reset(query.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(reader_);
    return out;
  }

  Result<std::optional<std::string>> raw(std::string_view source, std::string_view source_key_json,
                                         int64_t before) {
    std::lock_guard lock(reader_mutex_);
    read_raw_.text(1, source);
    read_raw_.text(2, source_key_json);
    read_raw_.integer(3, before);
    int rc = sqlite3_step(read_raw_.get());
    std::optional<std::string> out;
    // A NULL document is a delete: nothing to apply an update to.
    if (rc == SQLITE_ROW && sqlite3_column_type(read_raw_.get(), 0) != SQLITE_NULL) {
      out = std::string(read_raw_.column_text(0));
    }
    sqlite3_reset(read_raw_.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(reader_);
    return out;
  }

  Status write_raw(const Batch& batch, const Entry& entry, std::string_view source_key,
                   std::optional<int64_t> committed) {
    write_raw_.text(1, batch.partition.source);
    write_raw_.text(2, source_key);
    write_raw_.integer(3, batch.partition.partition);
    write_raw_.integer(4, entry.offset);
    if (entry.kind == Entry::Kind::kDelete) {
      write_raw_.null(5);
    } else {
      write_raw_.text(5, batch.view(entry.raw_document));
    }
    if (write_raw_.run() != SQLITE_DONE) return error(writer_);
    // Versions older than the newest one before the committed position are never read again.
    if (committed) {
      prune_raw_.text(1, batch.partition.source);
      prune_raw_.text(2, source_key);
      prune_raw_.integer(3, *committed);
      if (prune_raw_.run() != SQLITE_DONE) return error(writer_);
    }
    return Status::ok();
  }

  Status apply_in_transaction(const Batch& batch) {
    auto held = position(held_, writer_, batch.partition);
    if (!held) return held.status();
    std::optional<int64_t> committed;
    {
      std::lock_guard lock(committed_mutex_);
      auto it = committed_.find(batch.partition);
      if (it != committed_.end()) committed = it->second;
    }
    const int64_t now_ms = clock_->now_ms();
    for (const Entry& entry : batch.entries) {
      if (*held && entry.next_offset <= **held) continue;
      std::string_view source_key = batch.view(entry.source_key);
      // Raw documents come with records that failed to map too: a later update applies to them.
      if (!entry.raw_document.empty() ||
          (entry.kind == Entry::Kind::kDelete && !source_key.empty())) {
        CANONRY_RETURN_IF_ERROR(write_raw(batch, entry, source_key, committed));
      }
      if (entry.kind != Entry::Kind::kUpsert && entry.kind != Entry::Kind::kDelete) continue;
      // A record whose mapping has no key has no entity to keep.
      if (entry.key.empty()) continue;
      write_entity_.text(1, batch.subject);
      write_entity_.text(2, batch.view(entry.key));
      if (entry.kind == Entry::Kind::kUpsert) {
        write_entity_.text(3, batch.view(entry.document));
      } else {
        write_entity_.null(3);
      }
      write_entity_.text(4, batch.partition.source);
      write_entity_.integer(5, batch.partition.partition);
      write_entity_.integer(6, entry.next_offset);
      write_entity_.integer(7, now_ms);
      if (write_entity_.run() != SQLITE_DONE) return error(writer_);
      if (entry.kind == Entry::Kind::kUpsert && !source_key.empty()) {
        write_source_key_.text(1, batch.partition.source);
        write_source_key_.text(2, source_key);
        write_source_key_.text(3, batch.subject);
        write_source_key_.text(4, batch.view(entry.key));
        if (write_source_key_.run() != SQLITE_DONE) return error(writer_);
      }
    }
    if (!*held || batch.next_offset > **held) {
      write_position_.text(1, batch.partition.source);
      write_position_.integer(2, batch.partition.partition);
      write_position_.integer(3, batch.next_offset);
      if (write_position_.run() != SQLITE_DONE) return error(writer_);
    }
    return Status::ok();
  }

  void close_connections() {
    for (Statement* statement :
         {&write_entity_, &write_source_key_, &write_raw_, &prune_raw_, &write_position_, &held_,
          &read_position_, &read_canonical_, &read_raw_, &read_entity_}) {
      statement->finalize();
    }
    sqlite3_close(writer_);
    sqlite3_close(reader_);
    writer_ = nullptr;
    reader_ = nullptr;
  }

  std::string description_;
  std::string path_;
  const pipeline::Clock* clock_ = &pipeline::system_clock();
  sqlite3* writer_ = nullptr;  // the sink thread's
  sqlite3* reader_ = nullptr;  // lookups from any thread, under reader_mutex_
  std::mutex reader_mutex_;
  Statement write_entity_, write_source_key_, write_raw_, prune_raw_, write_position_, held_;
  std::mutex committed_mutex_;  // on_committed comes from the control thread
  std::map<PartitionKey, int64_t> committed_;
  Statement read_position_, read_canonical_, read_raw_, read_entity_;
};

pipeline::ConnectorFactories make_sqlite_connector() {
  pipeline::ConnectorFactories factories;
  factories.scheme = "sqlite";
  factories.state_store = [](const ConnectorSpec& spec) -> std::unique_ptr<StateStore> {
    return std::make_unique<SqliteStateStore>(spec);
  };
  return factories;
}

CANONRY_REGISTER_CONNECTOR(make_sqlite_connector);

}  // namespace
}  // namespace canonry::connectors::sqlite
