// The PostgreSQL state store (DESIGN 4.7 `state: "postgres://user@host:port/db"`): the same tables
// and semantics as the SQLite store, written through libpq with one COPY and one round trip of
// set-based statements per batch. See README.md.
#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string_view>

#include "pgclient/session.h"
#include "pipeline/connector.h"

namespace canonry::connectors::postgres {
namespace {

using pipeline::Batch;
using pipeline::ConnectorSpec;
using pipeline::Entry;
using pipeline::PartitionKey;
using pipeline::StateStore;

// Created once per database; the advisory lock keeps processes that start together from racing on
// CREATE TABLE IF NOT EXISTS (which is not atomic in PostgreSQL's catalogs). It is the
// transaction's, so that a failure half-way cannot leave it held by the session.
constexpr const char* kSchema = R"sql(
BEGIN;
SELECT pg_advisory_xact_lock(7462011);
CREATE TABLE IF NOT EXISTS canonry_entities (
  subject TEXT NOT NULL, key TEXT NOT NULL, document TEXT,
  source TEXT NOT NULL, partition INTEGER NOT NULL, position BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY (subject, key));
CREATE TABLE IF NOT EXISTS canonry_source_keys (
  source TEXT NOT NULL, source_key TEXT NOT NULL, subject TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (source, source_key));
CREATE TABLE IF NOT EXISTS canonry_raw_documents (
  source TEXT NOT NULL, source_key TEXT NOT NULL, partition INTEGER NOT NULL,
  position BIGINT NOT NULL, document TEXT,
  PRIMARY KEY (source, source_key, position));
CREATE TABLE IF NOT EXISTS canonry_positions (
  source TEXT NOT NULL, partition INTEGER NOT NULL, position BIGINT NOT NULL,
  PRIMARY KEY (source, partition));
COMMIT;
)sql";

// Each batch is copied into this table of the session, then applied by set-based statements. A
// temporary table dies with its session: every new writer connection creates it again.
constexpr const char* kBatchTable = R"sql(
CREATE TEMP TABLE IF NOT EXISTS canonry_batch (
  seq INTEGER, kind "char", key TEXT, document TEXT, source_key TEXT, raw TEXT,
  "offset" BIGINT, next_offset BIGINT) ON COMMIT DELETE ROWS
)sql";

// A query result that clears itself.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult() { PQclear(result_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return result_; }
  ExecStatusType status() const { return PQresultStatus(result_); }

 private:
  PGresult* result_;
};

// COPY text format: backslash, newline, carriage return and tab are escaped; \N is NULL.
void append_copy_field(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
}

class PostgresStateStore final : public StateStore {
 public:
  explicit PostgresStateStore(const ConnectorSpec& spec) : uri_(spec.uri) {
    // Progress lines and errors show the URI without its password.
    description_ = uri_;
    size_t scheme_end = description_.find("://");
    size_t at = description_.find('@');
    if (scheme_end != std::string::npos && at != std::string::npos && at > scheme_end) {
      size_t colon = description_.find(':', scheme_end + 3);
      if (colon != std::string::npos && colon < at) {
        description_.replace(colon + 1, at - colon - 1, "***");
      }
    }
    if (!spec.rest.starts_with("//")) {
      throw ConfigError(spec.uri_where + ": uri: expected postgres://user@host:port/database");
    }
  }
  ~PostgresStateStore() override { close(); }

  const std::string& describe() const override { return description_; }

  Status open(const pipeline::SinkContext& context) override {
    clock_ = context.clock != nullptr ? context.clock : &pipeline::system_clock();
    CANONRY_RETURN_IF_ERROR(ensure_writer());
    CANONRY_RETURN_IF_ERROR(exec(writer_, kSchema, PGRES_COMMAND_OK));
    return connect(reader_);
  }

  Result<std::optional<int64_t>> applied_position(const PartitionKey& partition) override {
    std::string number = std::to_string(partition.partition);
    auto row = query_one(
        "SELECT position FROM canonry_positions WHERE source = $1 AND partition = $2::integer",
        {partition.source, number});
    if (!row) return row.status();
    if (!*row) return std::optional<int64_t>();
    return std::optional<int64_t>(std::stoll(**row));
  }

  Status apply(const Batch& batch) override {
    Status status = apply_batch(batch);
    if (!status && writer_ != nullptr) {
      // The runtime retries the batch: it must find no transaction open and no COPY under way.
      // A connection that cannot even roll back (the server went away or restarted) is dropped,
      // and the retry opens a new session.
      bool usable = PQstatus(writer_) == CONNECTION_OK &&
                    (PQtransactionStatus(writer_) == PQTRANS_IDLE ||
                     exec(writer_, "ROLLBACK", PGRES_COMMAND_OK).is_ok());
      if (!usable) {
        PQfinish(writer_);
        writer_ = nullptr;
      }
    }
    return status;
  }

  // Every batch commits in apply(): nothing is pending here.
  Status flush() override { return Status::ok(); }

  Status close() override {
    PQfinish(writer_);
    writer_ = nullptr;
    std::lock_guard lock(reader_mutex_);
    PQfinish(reader_);
    reader_ = nullptr;
    return Status::ok();
  }

  void on_committed(const PartitionKey& partition, int64_t position) override {
    std::lock_guard lock(committed_mutex_);
    committed_[partition] = position;
  }

  Result<std::optional<std::string>> canonical_key(std::string_view source,
                                                   std::string_view source_key_json) override {
    return query_one("SELECT key FROM canonry_source_keys WHERE source = $1 AND source_key = $2",
                     {std::string(source), std::string(source_key_json)});
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
  Result<std::optional<std::string>> get(std::string_view subject,
                                         std::string_view key_json) override {
    return query_one(
        "SELECT document FROM canonry_entities WHERE subject = $1 AND key = $2 "
        "AND document IS NOT NULL",
        {std::string(subject), std::string(key_json)});
  }

  Status dump(std::string_view subject,
              const std::function<void(std::string_view, std::string_view)>& visit) override {
    std::lock_guard lock(reader_mutex_);
    CANONRY_RETURN_IF_ERROR(ensure_connected(reader_));
    std::string subject_text(subject);
    const char* values[] = {subject_text.c_str()};
    // Bytewise order of the keys' JSON text, as every store sorts them.
    PgResult result(PQexecParams(reader_,
                                 "SELECT key, document FROM canonry_entities WHERE subject = $1 "
                                 "AND document IS NOT NULL ORDER BY key COLLATE \"C\"",
                                 1, nullptr, values, nullptr, nullptr, 0));
    if (result.status() != PGRES_TUPLES_OK) return error(reader_);
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      visit({PQgetvalue(result.get(), row, 0),
             static_cast<size_t>(PQgetlength(result.get(), row, 0))},
            {PQgetvalue(result.get(), row, 1),
             static_cast<size_t>(PQgetlength(result.get(), row, 1))});
    }
    return Status::ok();
  }

 private:
  Status error(PGconn* connection) const {
    return Status(ErrorCode::kIo, description_ + ": " + pgclient::one_line_error(connection));
  }

  // A new session, its waits bounded so that the runtime's retries and runtime.sink_retry_limit
  // decide what a server that went away means.
  Status connect(PGconn*& connection) {
    PQfinish(connection);
    connection = nullptr;
    auto opened = pgclient::connect(uri_);
    if (!opened) return Status(ErrorCode::kIo, description_ + ": " + opened.status().message());
    connection = *opened;
    return Status::ok();
  }

  // The writer's session: a connection with the batch table. A connection that broke is
  // replaced rather than reset, so the session is always set up the same way.
  Status ensure_writer() {
    if (writer_ != nullptr && PQstatus(writer_) == CONNECTION_OK) return Status::ok();
    CANONRY_RETURN_IF_ERROR(connect(writer_));
    Status status = exec(writer_, kBatchTable, PGRES_COMMAND_OK);
    if (!status) {
      PQfinish(writer_);
      writer_ = nullptr;
    }
    return status;
  }

  Status ensure_connected(PGconn*& connection) {
    if (connection != nullptr && PQstatus(connection) == CONNECTION_OK) return Status::ok();
    return connect(connection);
  }

  Status exec(PGconn* connection, const char* sql, ExecStatusType expected) {
    PgResult result(PQexec(connection, sql));
    if (result.status() != expected) return error(connection);
    return Status::ok();
  }

  Result<std::optional<std::string>> query_one(const char* sql,
                                               const std::vector<std::string>& parameters) {
    std::lock_guard lock(reader_mutex_);
    CANONRY_RETURN_IF_ERROR(ensure_connected(reader_));
    std::vector<const char*> values;
    for (const std::string& parameter : parameters) values.push_back(parameter.c_str());
    PgResult result(PQexecParams(reader_, sql, static_cast<int>(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0));
    if (result.status() != PGRES_TUPLES_OK) return error(reader_);
    if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0)) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(
        std::string(PQgetvalue(result.get(), 0, 0), PQgetlength(result.get(), 0, 0)));
  }

  Result<std::optional<std::string>> raw(std::string_view source, std::string_view source_key,
                                         int64_t before) {
    return query_one(
        "SELECT document FROM canonry_raw_documents WHERE source = $1 AND source_key = $2 "
        "AND position < $3::bigint ORDER BY position DESC LIMIT 1",
        {std::string(source), std::string(source_key), std::to_string(before)});
  }

  std::string literal(std::string_view text) {
    char* escaped = PQescapeLiteral(writer_, text.data(), text.size());
    std::string out = escaped != nullptr ? escaped : "NULL";
    PQfreemem(escaped);
    return out;
  }

  Status apply_batch(const Batch& batch) {
    CANONRY_RETURN_IF_ERROR(ensure_writer());
    const std::string source = literal(batch.partition.source);
    const std::string partition = std::to_string(batch.partition.partition);
    const std::string subject = literal(batch.subject);

    std::optional<int64_t> held;
    {
      std::string sql = "BEGIN; SELECT position FROM canonry_positions WHERE source = " + source +
                        " AND partition = " + partition + " FOR UPDATE";
      PgResult result(PQexec(writer_, sql.c_str()));
      if (result.status() != PGRES_TUPLES_OK) return error(writer_);
      if (PQntuples(result.get()) > 0) held = std::stoll(PQgetvalue(result.get(), 0, 0));
    }
    std::optional<int64_t> committed;
    {
      std::lock_guard lock(committed_mutex_);
      auto it = committed_.find(batch.partition);
      if (it != committed_.end()) committed = it->second;
    }

    // The entries this store does not hold yet, as COPY rows.
    std::string rows;
    int seq = 0;
    for (const Entry& entry : batch.entries) {
      if (held && entry.next_offset <= *held) continue;
      bool relevant = entry.kind == Entry::Kind::kUpsert || entry.kind == Entry::Kind::kDelete ||
                      !entry.raw_document.empty();
      if (!relevant) continue;
      rows += std::to_string(seq++);
      rows += '\t';
      rows += entry.kind == Entry::Kind::kUpsert   ? 'u'
              : entry.kind == Entry::Kind::kDelete ? 'd'
                                                   : 'x';
      auto field = [&](TextRefView view) {
        rows += '\t';
        if (view.null) {
          rows += "\\N";
        } else {
          append_copy_field(rows, view.text);
        }
      };
      field(view(batch, entry.key));
      field(entry.kind == Entry::Kind::kUpsert ? view(batch, entry.document) : TextRefView{});
      field(view(batch, entry.source_key));
      field(view(batch, entry.raw_document));
      rows += '\t' + std::to_string(entry.offset) + '\t' + std::to_string(entry.next_offset) + '\n';
    }

    if (!rows.empty()) {
      {
        PgResult result(PQexec(writer_, "COPY canonry_batch FROM STDIN"));
        if (result.status() != PGRES_COPY_IN) return error(writer_);
      }
      if (PQputCopyData(writer_, rows.data(), static_cast<int>(rows.size())) != 1 ||
          PQputCopyEnd(writer_, nullptr) != 1) {
        return error(writer_);
      }
      PgResult result(PQgetResult(writer_));
      if (result.status() != PGRES_COMMAND_OK) return error(writer_);
      while (PGresult* rest = PQgetResult(writer_)) PQclear(rest);
    }

    const std::string now = std::to_string(clock_->now_ms());
    std::string sql;
    if (!rows.empty()) {
      // Raw documents: a row per change (NULL for a delete), older versions pruned once a newer
      // one before the committed position exists.
      sql +=
          "INSERT INTO canonry_raw_documents (source, source_key, partition, position, document) "
          "SELECT " +
          source + ", source_key, " + partition +
          ", \"offset\", CASE kind WHEN 'd' THEN NULL ELSE raw END FROM canonry_batch "
          "WHERE source_key IS NOT NULL AND (raw IS NOT NULL OR kind = 'd') "
          "ON CONFLICT (source, source_key, position) DO UPDATE SET document = "
          "excluded.document;\n";
      if (committed) {
        sql +=
            "DELETE FROM canonry_raw_documents r USING (SELECT DISTINCT source_key FROM "
            "canonry_batch WHERE source_key IS NOT NULL AND (raw IS NOT NULL OR kind = 'd')) b "
            "WHERE r.source = " +
            source +
            " AND r.source_key = b.source_key AND r.position < (SELECT max(m.position) FROM "
            "canonry_raw_documents m WHERE m.source = " +
            source + " AND m.source_key = b.source_key AND m.position < " +
            std::to_string(*committed) + ");\n";
      }
      // Entities: the last change per key in the batch, guarded by position.
      sql +=
          "INSERT INTO canonry_entities (subject, key, document, source, partition, position, "
          "updated_ms) SELECT DISTINCT ON (key) " +
          subject + ", key, document, " + source + ", " + partition + ", next_offset, " + now +
          " FROM canonry_batch WHERE kind IN ('u', 'd') AND key IS NOT NULL "
          "ORDER BY key, seq DESC "
          "ON CONFLICT (subject, key) DO UPDATE SET document = excluded.document, "
          "source = excluded.source, partition = excluded.partition, "
          "position = excluded.position, updated_ms = excluded.updated_ms "
          "WHERE NOT (canonry_entities.source = excluded.source AND "
          "canonry_entities.partition = excluded.partition AND "
          "canonry_entities.position > excluded.position);\n";
      sql +=
          "INSERT INTO canonry_source_keys (source, source_key, subject, key) "
          "SELECT DISTINCT ON (source_key) " +
          source + ", source_key, " + subject +
          ", key FROM canonry_batch WHERE kind = 'u' AND key IS NOT NULL AND "
          "source_key IS NOT NULL ORDER BY source_key, seq DESC "
          "ON CONFLICT (source, source_key) DO UPDATE SET subject = excluded.subject, "
          "key = excluded.key;\n";
    }
    if (!held || batch.next_offset > *held) {
      sql += "INSERT INTO canonry_positions (source, partition, position) VALUES (" + source +
             ", " + partition + ", " + std::to_string(batch.next_offset) +
             ") ON CONFLICT (source, partition) DO UPDATE SET position = excluded.position;\n";
    }
    sql += "COMMIT";
    return exec(writer_, sql.c_str(), PGRES_COMMAND_OK);
  }

  struct TextRefView {
    bool null = true;
    std::string_view text;
  };
  static TextRefView view(const Batch& batch, pipeline::TextRef ref) {
    if (ref.empty()) return {};
    return {false, batch.view(ref)};
  }

  std::string uri_;
  std::string description_;
  const pipeline::Clock* clock_ = &pipeline::system_clock();
  PGconn* writer_ = nullptr;  // the sink thread's
  PGconn* reader_ = nullptr;  // lookups from any thread, under reader_mutex_
  std::mutex reader_mutex_;
  std::mutex committed_mutex_;
  std::map<PartitionKey, int64_t> committed_;
};

pipeline::ConnectorFactories make_connector(const char* scheme) {
  pipeline::ConnectorFactories factories;
  factories.scheme = scheme;
  factories.state_store = [](const ConnectorSpec& spec) -> std::unique_ptr<StateStore> {
    return std::make_unique<PostgresStateStore>(spec);
  };
  return factories;
}

pipeline::ConnectorFactories make_postgres_connector() {
  return make_connector("postgres");
}
pipeline::ConnectorFactories make_postgresql_connector() {
  return make_connector("postgresql");
}

CANONRY_REGISTER_CONNECTOR(make_postgres_connector);
CANONRY_REGISTER_CONNECTOR(make_postgresql_connector);

}  // namespace
}  // namespace canonry::connectors::postgres
