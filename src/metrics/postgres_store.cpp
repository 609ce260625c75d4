// PostgreSQL through libpq: the same tables and statements as SQLite (sql_store.cpp).
#include <libpq-fe.h>

#include "metrics/sql_store.h"

namespace canonry::metrics {
namespace {

class PostgresStore final : public SqlStore {
 public:
  explicit PostgresStore(PGconn* conn) : conn_(conn) {}
  ~PostgresStore() override { PQfinish(conn_); }

 protected:
  Status exec(std::string_view sql, const std::vector<SqlParam>& params) override {
    return run(sql, params, nullptr);
  }
  Status query(std::string_view sql, const std::vector<SqlParam>& params,
               const std::function<void(const SqlRow&)>& row) override {
    return run(sql, params, &row);
  }

 private:
  Status run(std::string_view sql, const std::vector<SqlParam>& params,
             const std::function<void(const SqlRow&)>* row) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      switch (params[i].kind) {
        case SqlParam::Kind::kNull:
          break;
        case SqlParam::Kind::kInteger:
          texts[i] = std::to_string(params[i].integer);
          values[i] = texts[i].c_str();
          break;
        case SqlParam::Kind::kText:
          values[i] = params[i].text.c_str();
          break;
      }
    }
    std::string statement(sql);
    PGresult* result = PQexecParams(conn_, statement.c_str(), static_cast<int>(params.size()),
                                    nullptr, values.data(), nullptr, nullptr, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(result);
      PQclear(result);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Status(ErrorCode::kIo, "postgres: " + message);
    }
    if (row != nullptr) {
      int rows = PQntuples(result), columns = PQnfields(result);
      SqlRow values_row;
      for (int r = 0; r < rows; ++r) {
        values_row.assign(static_cast<size_t>(columns), std::nullopt);
        for (int c = 0; c < columns; ++c) {
          if (PQgetisnull(result, r, c)) continue;
          values_row[static_cast<size_t>(c)] =
              std::string(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c)));
        }
        (*row)(values_row);
      }
    }
    PQclear(result);
    return Status::ok();
  }

  PGconn* conn_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& uri) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status(ErrorCode::kIo, "postgres: cannot connect: " + message);
  }
  // Concurrent first uses may race on CREATE TABLE IF NOT EXISTS; notices about existing tables
  // are noise.
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  return std::unique_ptr<Store>(new PostgresStore(conn));
}

}  // namespace canonry::metrics
