#include "registry/store.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>

namespace canonry::registry {

namespace {

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  void bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, int value) { sqlite3_bind_int(stmt_, index, value); }
  void bind_null(int index) { sqlite3_bind_null(stmt_, index); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }
  int integer(int column) const { return sqlite3_column_int(stmt_, column); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Status sqlite_error(sqlite3* db, std::string_view what) {
  return Status(ErrorCode::kIo, std::string(what) + ": " + sqlite3_errmsg(db));
}

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS schemas (
  id INTEGER PRIMARY KEY,
  schema_type TEXT NOT NULL,
  schema TEXT NOT NULL,
  refs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  subject TEXT NOT NULL,
  version INTEGER NOT NULL,
  schema_id INTEGER NOT NULL REFERENCES schemas(id),
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, version)
);
CREATE TABLE IF NOT EXISTS compatibility (subject TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS modes (subject TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir, bool sync_commits) {
  std::string path = ":memory:";
  if (!data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) {
      return Status(ErrorCode::kIo, data_dir + ": cannot create the data folder: " + ec.message());
    }
    path = (std::filesystem::path(data_dir) / "registry.db").string();
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Status status = sqlite_error(db, path);
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<Store> store(new Store(db));
  // WAL: a commit appends to the log. FULL: fsync'd before the commit returns. NORMAL: written
  // to the OS before it returns (a killed process loses nothing), fsync'd at checkpoints.
  CANONRY_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL"));
  CANONRY_RETURN_IF_ERROR(
      store->exec(sync_commits ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  CANONRY_RETURN_IF_ERROR(store->exec("PRAGMA busy_timeout=5000"));
  CANONRY_RETURN_IF_ERROR(store->exec(kSchemaSql));
  if (!data_dir.empty()) {
    CANONRY_RETURN_IF_ERROR(store->exec("PRAGMA wal_autocheckpoint=0"));
    store->start_checkpointer(path);
  }
  return store;
}

void Store::start_checkpointer(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &checkpoint_db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    // Without a second connection the commits checkpoint themselves, as SQLite does by default.
    sqlite3_close(checkpoint_db_);
    checkpoint_db_ = nullptr;
    exec("PRAGMA wal_autocheckpoint=1000");
    return;
  }
  sqlite3_busy_timeout(checkpoint_db_, 5000);
  checkpointer_ = std::thread([this] {
    std::unique_lock lock(checkpoint_mutex_);
    while (!stopping_) {
      checkpoint_wake_.wait_for(lock, std::chrono::seconds(1));
      if (dirty_.exchange(false)) {
        sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      }
    }
  });
}

Store::~Store() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_wake_.notify_all();
    checkpointer_.join();
  }
  sqlite3_close(checkpoint_db_);
  sqlite3_close(db_);
}

Status Store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return Status(ErrorCode::kIo, std::string("registry store: ") + message);
  }
  return Status::ok();
}

Result<StoredState> Store::load() {
  StoredState state;
  {
    Statement select(db_, "SELECT id, schema_type, schema, refs FROM schemas ORDER BY id");
    if (!select.ok()) return sqlite_error(db_, "registry store");
    while (select.step() == SQLITE_ROW) {
      state.schemas.push_back({select.integer(0), select.text(1), select.text(2), select.text(3)});
    }
  }
  {
    Statement select(
        db_, "SELECT subject, version, schema_id, deleted FROM versions ORDER BY subject, version");
    if (!select.ok()) return sqlite_error(db_, "registry store");
    while (select.step() == SQLITE_ROW) {
      state.versions.push_back(
          {select.text(0), select.integer(1), select.integer(2), select.integer(3) != 0});
    }
  }
  for (auto [table, out] :
       {std::pair{"compatibility", &state.compatibility}, std::pair{"modes", &state.modes}}) {
    Statement select(db_, (std::string("SELECT subject, value FROM ") + table).c_str());
    if (!select.ok()) return sqlite_error(db_, "registry store");
    while (select.step() == SQLITE_ROW) out->push_back({select.text(0), select.text(1)});
  }
  return state;
}

Status Store::add_version(const std::optional<StoredSchema>& new_schema,
                          const StoredVersion& version) {
  CANONRY_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  bool ok = true;
  if (new_schema) {
    Statement insert(db_, "INSERT INTO schemas (id, schema_type, schema, refs) VALUES (?,?,?,?)");
    insert.bind(1, new_schema->id);
    insert.bind(2, new_schema->schema_type);
    insert.bind(3, new_schema->schema);
    insert.bind(4, new_schema->references_json);
    ok = insert.ok() && insert.step() == SQLITE_DONE;
  }
  if (ok) {
    Statement insert(db_,
                     "INSERT OR REPLACE INTO versions (subject, version, schema_id, deleted) "
                     "VALUES (?,?,?,?)");
    insert.bind(1, version.subject);
    insert.bind(2, version.version);
    insert.bind(3, version.schema_id);
    insert.bind(4, version.deleted ? 1 : 0);
    ok = insert.ok() && insert.step() == SQLITE_DONE;
  }
  if (!ok) {
    Status status = sqlite_error(db_, "registry store");
    exec("ROLLBACK");
    return status;
  }
  return written(exec("COMMIT"));
}

Status Store::set_version_deleted(const std::string& subject, int version) {
  Statement update(db_, "UPDATE versions SET deleted = 1 WHERE subject = ? AND version = ?");
  update.bind(1, subject);
  update.bind(2, version);
  if (!update.ok() || update.step() != SQLITE_DONE) return sqlite_error(db_, "registry store");
  return written(Status::ok());
}

Status Store::remove_version(const std::string& subject, int version) {
  Statement remove(db_, "DELETE FROM versions WHERE subject = ? AND version = ?");
  remove.bind(1, subject);
  remove.bind(2, version);
  if (!remove.ok() || remove.step() != SQLITE_DONE) return sqlite_error(db_, "registry store");
  return written(Status::ok());
}

Status Store::set_setting(const char* table, const std::string& subject,
                          const std::optional<std::string>& value) {
  std::string sql =
      value ? std::string("INSERT OR REPLACE INTO ") + table + " (subject, value) VALUES (?, ?)"
            : std::string("DELETE FROM ") + table + " WHERE subject = ?";
  Statement statement(db_, sql.c_str());
  statement.bind(1, subject);
  if (value) statement.bind(2, *value);
  if (!statement.ok() || statement.step() != SQLITE_DONE) {
    return sqlite_error(db_, "registry store");
  }
  return written(Status::ok());
}

Status Store::set_compatibility(const std::string& subject,
                                const std::optional<std::string>& value) {
  return set_setting("compatibility", subject, value);
}

Status Store::set_mode(const std::string& subject, const std::optional<std::string>& value) {
  return set_setting("modes", subject, value);
}

}  // namespace canonry::registry
