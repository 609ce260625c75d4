// Metrics stores (DESIGN 4.7 `metrics.store`, 5): SQLite (`sqlite:PATH`, the embedded default),
// PostgreSQL (`postgres://...`) and ClickHouse over its HTTP interface
// (`clickhouse://host:port/db`). All three keep the same thing: partial aggregates per (metric,
// window, dimensions, source partition), each with the source position it covers, replaced as a
// whole (never added to), and merged when read. Tables are created on first use; docs/metrics.md
// gives their layout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metrics/spec.h"
#include "metrics/window_operator.h"

namespace canonry::metrics {

// One stored partial aggregate.
struct Partial {
  int64_t window_start = 0;
  int64_t window_end = 0;
  std::string dimensions;  // JSON object text
  std::string state;       // WindowOperator::serialize_state bytes
};

// What a partition had applied when it last wrote: where its source resumes, and the largest
// event time it had seen (its watermark's base).
struct PartitionPosition {
  int64_t position = -1;  // -1: nothing stored for the partition
  std::optional<int64_t> max_event_time;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates the tables when missing and records the spec under its metricId; an error when that
  // id is stored with a different spec (its partials would not mean the same).
  virtual Status register_metric(const MetricSpec& spec) = 0;

  // A backfill: replaces, in one transaction, the partition's partials of every window from the
  // operator's first to its last by the operator's groups, so that re-running a backfill over a
  // time range replaces its rows instead of adding to them.
  virtual Status replace_range(const WindowOperator& op, const std::string& partition,
                               int64_t position) = 0;

  // Streaming: replaces the given partials of the partition and records its position, atomically.
  virtual Status write_partials(const std::string& metric_id, const std::string& partition,
                                const std::vector<Partial>& partials,
                                const PartitionPosition& position) = 0;

  // The partition's stored position and partials (to resume after a restart).
  virtual Status load_partition(const std::string& metric_id, const std::string& partition,
                                PartitionPosition& position, std::vector<Partial>& partials) = 0;

  // Every partial of the metric, with the spec it was registered with.
  virtual Status read_metric(const std::string& metric_id, std::string& spec_json,
                             const std::function<Status(const Partial&)>& visit) = 0;

  // The metric's rows (DESIGN 4.6, sorted), partials of all partitions merged.
  Status dump(const std::string& metric_id, std::string& out);
};

// "sqlite:PATH", "postgres://..." / "postgresql://...", "clickhouse://host:port/db".
Result<std::unique_ptr<Store>> open_store(const std::string& uri);

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);
Result<std::unique_ptr<Store>> open_postgres_store(const std::string& uri);
Result<std::unique_ptr<Store>> open_clickhouse_store(const std::string& uri);

}  // namespace canonry::metrics
