// PostgreSQL sessions through libpq, opened the same way by every store that talks to
// PostgreSQL: the pipeline's state store (connectors/postgres) and the metrics store
// (metrics/postgres_store.cpp).
#pragma once

#include <libpq-fe.h>

#include <string>

#include "common/status.h"

namespace canonry::pgclient {

// A session on `uri`, its notices limited to warnings (concurrent first uses race on CREATE
// TABLE IF NOT EXISTS, and notices about existing tables are noise). libpq waits for ever by
// default: on a connect to a host that does not answer, and on a socket whose peer vanished
// without closing it (a crashed host, a dropped network path). The session bounds both, so that
// a call fails and the caller's retries decide; the URI's own parameters come last and win.
// On failure the status (code io) carries libpq's message on one line, for the caller to
// prefix with what it was doing; the caller owns the connection (PQfinish).
Result<PGconn*> connect(const std::string& uri);

// libpq's last message of `connection` on one line: its lines ("...failed: Connection
// refused\n\tIs the server running...") trimmed and joined by "; ".
std::string one_line_error(const PGconn* connection);

}  // namespace canonry::pgclient
