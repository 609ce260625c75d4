// The embedded store: one SQLite file (WAL, so that readers never block the writer).
#include <sqlite3.h>

#include "metrics/sql_store.h"

namespace canonry::metrics {
namespace {

class SqliteStore final : public SqlStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

 protected:
  Status exec(std::string_view sql, const std::vector<SqlParam>& params) override {
    return run(sql, params, nullptr);
  }
  Status query(std::string_view sql, const std::vector<SqlParam>& params,
               const std::function<void(const SqlRow&)>& row) override {
    return run(sql, params, &row);
  }

 private:
  Status error(std::string_view what) const {
    return Status(ErrorCode::kIo, "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  Status run(std::string_view sql, const std::vector<SqlParam>& params,
             const std::function<void(const SqlRow&)>* row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return error(sql.substr(0, 60));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i) + 1;
      const SqlParam& p = params[i];
      switch (p.kind) {
        case SqlParam::Kind::kNull:
          sqlite3_bind_null(stmt, index);
          break;
        case SqlParam::Kind::kInteger:
          sqlite3_bind_int64(stmt, index, p.integer);
          break;
        case SqlParam::Kind::kText:
          sqlite3_bind_text(stmt, index, p.text.data(), static_cast<int>(p.text.size()),
                            SQLITE_STATIC);
          break;
      }
    }
    int rc;
    SqlRow values;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (row == nullptr) continue;
      int columns = sqlite3_column_count(stmt);
      values.assign(static_cast<size_t>(columns), std::nullopt);
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) continue;
        const unsigned char* text = sqlite3_column_text(stmt, c);
        values[static_cast<size_t>(c)] =
            std::string(reinterpret_cast<const char*>(text),
                        static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
      }
      (*row)(values);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return error(sql.substr(0, 60));
    return Status::ok();
  }

  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status(ErrorCode::kIo, "sqlite:" + path + ": " + message);
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  return std::unique_ptr<Store>(new SqliteStore(db));
}

}  // namespace canonry::metrics
