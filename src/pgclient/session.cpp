#include "pgclient/session.h"

#include <string_view>

namespace canonry::pgclient {

Result<PGconn*> connect(const std::string& uri) {
  static constexpr const char* keywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* values[] = {"10", "1", "10", "5", "3", "30000", uri.c_str(), nullptr};
  PGconn* connection = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (connection != nullptr && PQstatus(connection) == CONNECTION_OK) {
    PGresult* set = PQexec(connection, "SET client_min_messages = warning");
    const bool set_ok = PQresultStatus(set) == PGRES_COMMAND_OK;
    PQclear(set);
    if (set_ok) return connection;
  }
  Status failed(ErrorCode::kIo, one_line_error(connection));
  PQfinish(connection);
  return failed;
}

std::string one_line_error(const PGconn* connection) {
  std::string_view text = connection != nullptr ? PQerrorMessage(connection) : "not connected";
  std::string message;
  while (!text.empty()) {
    size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!message.empty()) message += "; ";
    message += line;
  }
  return message;
}

}  // namespace canonry::pgclient
