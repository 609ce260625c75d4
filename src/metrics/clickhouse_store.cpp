// ClickHouse over its HTTP interface (Boost.Beast), designed for what Debian's ClickHouse 18.16
// supports: no transactions and no cheap deletes, so every table is a ReplacingMergeTree keyed
// like the SQL stores' primary keys, with a `version` column. A write inserts whole rows with a
// version above every earlier one of that partition; a backfill that no longer produces a group
// inserts a tombstone (`deleted = 1`). Reads take each key's row of the highest version
// (argMax), so they are right before ClickHouse has merged the parts, and merging only makes the
// table smaller. Each write is one INSERT, which ClickHouse applies atomically.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <map>
#include <set>

#include "common/base64.h"
#include "metrics/store.h"

namespace canonry::metrics {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// A string literal in ClickHouse SQL.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

// A field of TabSeparated input.
void append_tsv(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
}

// The fields of TabSeparated output lines, unescaped.
std::vector<std::vector<std::string>> parse_tsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row(1);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      rows.push_back(std::move(row));
      row.assign(1, {});
    } else if (c == '\t') {
      row.emplace_back();
    } else if (c == '\\' && i + 1 < text.size()) {
      char e = text[++i];
      row.back() += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == '0' ? '\0' : e;
    } else {
      row.back() += c;
    }
  }
  return rows;
}

int64_t to_int(std::string_view text) {
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

class ClickHouseStore final : public Store {
 public:
  ClickHouseStore(std::string host, std::string port, std::string database)
      : host_(std::move(host)), port_(std::move(port)), database_(std::move(database)) {}

  Status register_metric(const MetricSpec& spec) override {
    CANONRY_RETURN_IF_ERROR(ensure_tables());
    auto rows =
        select("SELECT argMax(canonical, version) FROM canonry_metric_specs WHERE metric = " +
               quoted(spec.metric_id) + " GROUP BY metric");
    if (!rows) return rows.take_status();
    if (!rows->empty()) {
      if ((*rows)[0][0] != spec.canonical_json) {
        return Status(ErrorCode::kSpec,
                      "metric \"" + spec.metric_id +
                          "\" is stored with a different spec (its windows, dimensions or "
                          "measures changed); give the changed metric a new metricId");
      }
      return Status::ok();
    }
    std::string body = "INSERT INTO canonry_metric_specs FORMAT TabSeparated\n";
    for (std::string_view field :
         {std::string_view(spec.metric_id), std::string_view(spec.spec_json),
          std::string_view(spec.canonical_json)}) {
      append_tsv(body, field);
      body += '\t';
    }
    body += "1\n";
    return post(body).take_status();
  }

  Status replace_range(const WindowOperator& op, const std::string& partition,
                       int64_t position) override {
    CANONRY_RETURN_IF_ERROR(ensure_tables());
    const std::string& metric_id = op.spec().metric_id;
    auto version = next_version(metric_id, partition);
    if (!version) return version.take_status();
    const PartitionPosition covered{position, op.max_event_time()};
    std::string body = "INSERT INTO canonry_metric_partials FORMAT TabSeparated\n";
    if (op.group_count() > 0) {
      int64_t first = op.window_start(0), last = op.window_start(0);
      std::set<std::pair<int64_t, std::string>> written;
      for (uint32_t g = 0; g < op.group_count(); ++g) {
        first = std::min(first, op.window_start(g));
        last = std::max(last, op.window_start(g));
        Partial p{op.window_start(g), op.window_end(g), op.dimensions_json(g),
                  op.serialize_state(g)};
        append_partial(body, metric_id, partition, p, covered, false, *version);
        written.insert({p.window_start, p.dimensions});
      }
      // Tombstones for what an earlier run wrote in the range and this one did not produce.
      auto live = select(
          "SELECT window_start, any(window_end), dimensions FROM canonry_metric_partials WHERE "
          "metric = " +
          quoted(metric_id) + " AND source_partition = " + quoted(partition) +
          " AND window_start >= " + std::to_string(first) +
          " AND window_start <= " + std::to_string(last) +
          " GROUP BY window_start, dimensions HAVING argMax(deleted, version) = 0");
      if (!live) return live.take_status();
      for (const auto& row : *live) {
        if (row.size() < 3 || written.count({to_int(row[0]), row[2]}) != 0) continue;
        append_partial(body, metric_id, partition, {to_int(row[0]), to_int(row[1]), row[2], ""},
                       covered, true, *version);
      }
    }
    if (op.group_count() > 0) CANONRY_RETURN_IF_ERROR(post(body).take_status());
    return write_position(metric_id, partition, covered, *version);
  }

  Status write_partials(const std::string& metric_id, const std::string& partition,
                        const std::vector<Partial>& partials,
                        const PartitionPosition& position) override {
    CANONRY_RETURN_IF_ERROR(ensure_tables());
    auto version = next_version(metric_id, partition);
    if (!version) return version.take_status();
    if (!partials.empty()) {
      std::string body = "INSERT INTO canonry_metric_partials FORMAT TabSeparated\n";
      for (const Partial& p : partials) {
        append_partial(body, metric_id, partition, p, position, false, *version);
      }
      CANONRY_RETURN_IF_ERROR(post(body).take_status());
    }
    return write_position(metric_id, partition, position, *version);
  }

  Status load_partition(const std::string& metric_id, const std::string& partition,
                        PartitionPosition& position, std::vector<Partial>& partials) override {
    CANONRY_RETURN_IF_ERROR(ensure_tables());
    position = {};
    // The latest write of the partition, to either table: partial rows carry the position they
    // cover, and the positions table moves it when a flush changed no partial.
    std::string where =
        "metric = " + quoted(metric_id) + " AND source_partition = " + quoted(partition);
    auto rows = select(
        "SELECT position, ifNull(toString(max_event_time), '') FROM (SELECT version, position, "
        "max_event_time FROM canonry_metric_positions WHERE " +
        where +
        " UNION ALL SELECT version, position, max_event_time FROM canonry_metric_partials WHERE " +
        where + ") ORDER BY version DESC LIMIT 1");
    if (!rows) return rows.take_status();
    if (!rows->empty() && (*rows)[0].size() >= 2) {
      position.position = to_int((*rows)[0][0]);
      if (!(*rows)[0][1].empty()) position.max_event_time = to_int((*rows)[0][1]);
    }
    return read_partials(
        "metric = " + quoted(metric_id) + " AND source_partition = " + quoted(partition),
        [&](const Partial& p) {
          partials.push_back(p);
          return Status::ok();
        });
  }

  Status read_metric(const std::string& metric_id, std::string& spec_json,
                     const std::function<Status(const Partial&)>& visit) override {
    CANONRY_RETURN_IF_ERROR(ensure_tables());
    auto rows = select("SELECT argMax(spec, version) FROM canonry_metric_specs WHERE metric = " +
                       quoted(metric_id) + " GROUP BY metric");
    if (!rows) return rows.take_status();
    if (rows->empty()) {
      return Status(ErrorCode::kInvalidArgument, "the store has no metric \"" + metric_id + "\"");
    }
    spec_json = (*rows)[0][0];
    return read_partials("metric = " + quoted(metric_id), visit);
  }

 private:
  Status read_partials(const std::string& where,
                       const std::function<Status(const Partial&)>& visit) {
    auto rows = select(
        "SELECT window_start, argMax(window_end, version), dimensions, argMax(state, version) "
        "FROM canonry_metric_partials WHERE " +
        where +
        " GROUP BY source_partition, window_start, dimensions HAVING argMax(deleted, version) = "
        "0");
    if (!rows) return rows.take_status();
    for (const auto& row : *rows) {
      if (row.size() < 4) return Status(ErrorCode::kIo, "clickhouse: a short row");
      auto state = base64_decode(row[3]);
      if (!state) return Status(ErrorCode::kMetric, "a stored partial is not base64");
      CANONRY_RETURN_IF_ERROR(visit({to_int(row[0]), to_int(row[1]), row[2], *state}));
    }
    return Status::ok();
  }

  // A partial row carries the partition's position and largest event time with it: the INSERT
  // that writes the data also says what it covers, atomically (DESIGN 5, "the position column of
  // the rows themselves in ClickHouse").
  static void append_partial(std::string& body, const std::string& metric_id,
                             const std::string& partition, const Partial& p,
                             const PartitionPosition& position, bool deleted, uint64_t version) {
    append_tsv(body, metric_id);
    body += '\t';
    append_tsv(body, partition);
    body += '\t' + std::to_string(p.window_start) + '\t' + std::to_string(p.window_end) + '\t';
    append_tsv(body, p.dimensions);
    body += '\t' + std::to_string(position.position) + '\t';
    body += position.max_event_time ? std::to_string(*position.max_event_time) : "\\N";
    body += '\t';
    body += base64_encode(p.state);
    body += deleted ? "\t1\t" : "\t0\t";
    body += std::to_string(version) + '\n';
  }

  Status write_position(const std::string& metric_id, const std::string& partition,
                        const PartitionPosition& position, uint64_t version) {
    std::string body = "INSERT INTO canonry_metric_positions FORMAT TabSeparated\n";
    append_tsv(body, metric_id);
    body += '\t';
    append_tsv(body, partition);
    body += '\t' + std::to_string(position.position) + '\t';
    body += position.max_event_time ? std::to_string(*position.max_event_time) : "\\N";
    body += '\t' + std::to_string(version) + '\n';
    return post(body).take_status();
  }

  // A version above every one the partition has written (read once, then counted here: one
  // writer owns a partition).
  Result<uint64_t> next_version(const std::string& metric_id, const std::string& partition) {
    auto key = metric_id + '\n' + partition;
    auto found = versions_.find(key);
    if (found == versions_.end()) {
      // Both tables: a writer killed between its two INSERTs left partial rows of a version the
      // positions table never saw, and a tie with them would let argMax pick either.
      std::string where =
          "metric = " + quoted(metric_id) + " AND source_partition = " + quoted(partition);
      auto rows = select(
          "SELECT greatest((SELECT max(version) FROM canonry_metric_positions WHERE " + where +
          "), (SELECT max(version) FROM canonry_metric_partials WHERE " + where + "))");
      if (!rows) return rows.take_status();
      uint64_t highest =
          rows->empty() || (*rows)[0].empty() ? 0 : static_cast<uint64_t>(to_int((*rows)[0][0]));
      found = versions_.emplace(key, highest).first;
    }
    return ++found->second;
  }

  Status ensure_tables() {
    if (tables_ready_) return Status::ok();
    CANONRY_RETURN_IF_ERROR(
        post("CREATE DATABASE IF NOT EXISTS " + database_, false).take_status());
    for (const char* ddl : {
             "CREATE TABLE IF NOT EXISTS canonry_metric_specs (metric String, spec String, "
             "canonical String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY "
             "metric",
             "CREATE TABLE IF NOT EXISTS canonry_metric_partials (metric String, source_partition "
             "String, window_start Int64, window_end Int64, dimensions String, position Int64, "
             "max_event_time Nullable(Int64), state String, deleted UInt8, version UInt64) ENGINE "
             "= ReplacingMergeTree(version) "
             "ORDER BY (metric, source_partition, window_start, dimensions)",
             "CREATE TABLE IF NOT EXISTS canonry_metric_positions (metric String, source_partition "
             "String, position Int64, max_event_time Nullable(Int64), version UInt64) ENGINE = "
             "ReplacingMergeTree(version) ORDER BY (metric, source_partition)",
         }) {
      CANONRY_RETURN_IF_ERROR(post(ddl).take_status());
    }
    tables_ready_ = true;
    return Status::ok();
  }

  Result<std::vector<std::vector<std::string>>> select(const std::string& sql) {
    auto body = post(sql + " FORMAT TabSeparated");
    if (!body) return body.take_status();
    return parse_tsv(*body);
  }

  // POSTs a query (and, for INSERT, its data after the first line) and returns the response body.
  Result<std::string> post(const std::string& body, bool in_database = true) {
    boost::system::error_code ec;
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) return Status(ErrorCode::kIo, "clickhouse: " + host_ + ": " + ec.message());
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(endpoints, ec);
    if (ec) {
      return Status(ErrorCode::kIo,
                    "clickhouse: cannot connect to " + host_ + ":" + port_ + ": " + ec.message());
    }
    std::string target = in_database ? "/?database=" + database_ : "/";
    http::request<http::string_body> request{http::verb::post, target, 11};
    request.set(http::field::host, host_);
    request.body() = body;
    request.prepare_payload();
    http::write(stream, request, ec);
    if (ec) return Status(ErrorCode::kIo, "clickhouse: " + ec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(stream, buffer, parser, ec);
    if (ec) return Status(ErrorCode::kIo, "clickhouse: " + ec.message());
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    auto& response = parser.get();
    if (response.result() != http::status::ok) {
      std::string message = response.body();
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Status(ErrorCode::kIo, "clickhouse: " + message.substr(0, 500));
    }
    return std::move(response.body());
  }

  std::string host_, port_, database_;
  bool tables_ready_ = false;
  std::map<std::string, uint64_t> versions_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_clickhouse_store(const std::string& uri) {
  // clickhouse://host:port/db
  std::string rest = uri.substr(std::string_view("clickhouse://").size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string database = slash == std::string::npos ? "default" : rest.substr(slash + 1);
  if (database.empty()) database = "default";
  size_t colon = authority.rfind(':');
  std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  std::string port = colon == std::string::npos ? "8123" : authority.substr(colon + 1);
  bool plain = !database.empty();
  for (char c : database)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (host.empty() || !plain) {
    return Status(ErrorCode::kInvalidArgument,
                  uri + ": expected clickhouse://host:port/database (a plain database name)");
  }
  return std::unique_ptr<Store>(new ClickHouseStore(host, port, database));
}

}  // namespace canonry::metrics
