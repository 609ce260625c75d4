// PostgreSQL through libpq: the same tables and statements as SQLite (sql_store.cpp).

#include <string>
#include <string_view>

#include "metrics/sql_store.h"
#include "pgclient/session.h"

namespace canonry::metrics {
namespace {

// A session whose waits are bounded (pgclient::connect), so that a server that went away fails
// the call instead of hanging it.
Result<PGconn*> connect(const std::string& uri) {
  auto opened = pgclient::connect(uri);
  if (!opened)
    return Status(ErrorCode::kIo, "postgres: cannot connect: " + opened.status().message());
  return opened;
}

class PostgresStore final : public SqlStore {
 public:
  PostgresStore(std::string uri, PGconn* conn) : uri_(std::move(uri)), conn_(conn) {}
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
    if (PQstatus(conn_) != CONNECTION_OK) {
      // The server went away (a restart): the transaction that was open is lost, so its
      // statements fail and its ROLLBACK has nothing left to undo; the next statement outside
      // it opens a new session. The caller (the pipeline runtime) retries.
      if (in_transaction_) {
        if (sql == "ROLLBACK") {
          in_transaction_ = false;
          return Status::ok();
        }
        return Status(ErrorCode::kIo, "postgres: the connection was lost in a transaction");
      }
      auto reconnected = connect(uri_);
      if (!reconnected) return reconnected.take_status();
      PQfinish(conn_);
      conn_ = *reconnected;
    }
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
    // Unknown once the connection broke: then it stays what it was before the statement.
    if (PGTransactionStatusType now = PQtransactionStatus(conn_); now != PQTRANS_UNKNOWN) {
      in_transaction_ = now != PQTRANS_IDLE;
    }
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

  std::string uri_;
  PGconn* conn_;
  bool in_transaction_ = false;  // as of the last statement the server answered
};

}  // namespace

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& uri) {
  auto conn = connect(uri);
  if (!conn) return conn.take_status();
  return std::unique_ptr<Store>(new PostgresStore(uri, *conn));
}

}  // namespace canonry::metrics
