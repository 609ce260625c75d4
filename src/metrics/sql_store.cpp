#include "metrics/sql_store.h"

#include <algorithm>
#include <charconv>

#include "common/base64.h"

namespace canonry::metrics {
namespace {

int64_t to_int(const std::optional<std::string>& text) {
  int64_t v = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

}  // namespace

Status SqlStore::transaction(const std::function<Status()>& body) {
  CANONRY_RETURN_IF_ERROR(exec("BEGIN", {}));
  Status status = body();
  if (!status) {
    (void)exec("ROLLBACK", {});
    return status;
  }
  return exec("COMMIT", {});
}

Status SqlStore::ensure_tables() {
  if (tables_ready_) return Status::ok();
  CANONRY_RETURN_IF_ERROR(
      exec("CREATE TABLE IF NOT EXISTS canonry_metric_specs (metric TEXT PRIMARY KEY, spec TEXT "
           "NOT NULL, canonical TEXT NOT NULL)",
           {}));
  CANONRY_RETURN_IF_ERROR(exec(
      "CREATE TABLE IF NOT EXISTS canonry_metric_partials (metric TEXT NOT NULL, source_partition "
      "TEXT "
      "NOT NULL, window_start BIGINT NOT NULL, window_end BIGINT NOT NULL, dimensions TEXT NOT "
      "NULL, position BIGINT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (metric, source_partition, "
      "window_start, dimensions))",
      {}));
  CANONRY_RETURN_IF_ERROR(
      exec("CREATE TABLE IF NOT EXISTS canonry_metric_positions (metric TEXT NOT NULL, "
           "source_partition TEXT NOT NULL, position BIGINT NOT NULL, max_event_time BIGINT, "
           "PRIMARY KEY (metric, source_partition))",
           {}));
  tables_ready_ = true;
  return Status::ok();
}

Status SqlStore::register_metric(const MetricSpec& spec) {
  CANONRY_RETURN_IF_ERROR(ensure_tables());
  std::optional<std::string> stored;
  CANONRY_RETURN_IF_ERROR(query("SELECT canonical FROM canonry_metric_specs WHERE metric = $1",
                                {SqlParam::of(spec.metric_id)},
                                [&](const SqlRow& row) { stored = row[0]; }));
  if (stored) {
    if (*stored != spec.canonical_json) {
      return Status(ErrorCode::kSpec,
                    "metric \"" + spec.metric_id +
                        "\" is stored with a different spec (its windows, dimensions or measures "
                        "changed); give the changed metric a new metricId");
    }
    return Status::ok();
  }
  return exec(
      "INSERT INTO canonry_metric_specs (metric, spec, canonical) VALUES ($1, $2, $3) ON "
      "CONFLICT (metric) DO NOTHING",
      {SqlParam::of(spec.metric_id), SqlParam::of(spec.spec_json),
       SqlParam::of(spec.canonical_json)});
}

Status SqlStore::upsert_partial(const std::string& metric_id, const std::string& partition,
                                const Partial& partial, int64_t position) {
  return exec(
      "INSERT INTO canonry_metric_partials (metric, source_partition, window_start, window_end, "
      "dimensions, position, state) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (metric, "
      "source_partition, window_start, dimensions) DO UPDATE SET window_end = excluded.window_end, "
      "position = excluded.position, state = excluded.state",
      {SqlParam::of(metric_id), SqlParam::of(partition), SqlParam::of(partial.window_start),
       SqlParam::of(partial.window_end), SqlParam::of(partial.dimensions), SqlParam::of(position),
       SqlParam::of(base64_encode(partial.state))});
}

Status SqlStore::upsert_position(const std::string& metric_id, const std::string& partition,
                                 const PartitionPosition& position) {
  SqlParam max_time =
      position.max_event_time ? SqlParam::of(*position.max_event_time) : SqlParam::null();
  return exec(
      "INSERT INTO canonry_metric_positions (metric, source_partition, position, max_event_time) "
      "VALUES "
      "($1, $2, $3, $4) ON CONFLICT (metric, source_partition) "
      "DO UPDATE SET position = excluded.position, max_event_time = excluded.max_event_time",
      {SqlParam::of(metric_id), SqlParam::of(partition), SqlParam::of(position.position),
       max_time});
}

Status SqlStore::replace_range(const WindowOperator& op, const std::string& partition,
                               int64_t position) {
  CANONRY_RETURN_IF_ERROR(ensure_tables());
  const std::string& metric_id = op.spec().metric_id;
  return transaction([&]() -> Status {
    if (op.group_count() > 0) {
      int64_t first = op.window_start(0), last = op.window_start(0);
      for (uint32_t g = 0; g < op.group_count(); ++g) {
        first = std::min(first, op.window_start(g));
        last = std::max(last, op.window_start(g));
      }
      CANONRY_RETURN_IF_ERROR(exec(
          "DELETE FROM canonry_metric_partials WHERE metric = $1 AND source_partition = $2 AND "
          "window_start >= $3 AND window_start <= $4",
          {SqlParam::of(metric_id), SqlParam::of(partition), SqlParam::of(first),
           SqlParam::of(last)}));
      for (uint32_t g = 0; g < op.group_count(); ++g) {
        Partial p{op.window_start(g), op.window_end(g), op.dimensions_json(g),
                  op.serialize_state(g)};
        CANONRY_RETURN_IF_ERROR(upsert_partial(metric_id, partition, p, position));
      }
    }
    return upsert_position(metric_id, partition, {position, op.max_event_time()});
  });
}

Status SqlStore::write_partials(const std::string& metric_id, const std::string& partition,
                                const std::vector<Partial>& partials,
                                const PartitionPosition& position) {
  CANONRY_RETURN_IF_ERROR(ensure_tables());
  return transaction([&]() -> Status {
    for (const Partial& p : partials) {
      CANONRY_RETURN_IF_ERROR(upsert_partial(metric_id, partition, p, position.position));
    }
    return upsert_position(metric_id, partition, position);
  });
}

Status SqlStore::load_partition(const std::string& metric_id, const std::string& partition,
                                PartitionPosition& position, std::vector<Partial>& partials) {
  CANONRY_RETURN_IF_ERROR(ensure_tables());
  position = {};
  CANONRY_RETURN_IF_ERROR(
      query("SELECT position, max_event_time FROM canonry_metric_positions WHERE metric = $1 AND "
            "source_partition = $2",
            {SqlParam::of(metric_id), SqlParam::of(partition)}, [&](const SqlRow& row) {
              position.position = to_int(row[0]);
              if (row[1]) position.max_event_time = to_int(row[1]);
            }));
  Status decode;
  CANONRY_RETURN_IF_ERROR(
      query("SELECT window_start, window_end, dimensions, state FROM canonry_metric_partials WHERE "
            "metric = $1 AND source_partition = $2",
            {SqlParam::of(metric_id), SqlParam::of(partition)}, [&](const SqlRow& row) {
              auto state = base64_decode(row[3].value_or(""));
              if (!state) {
                decode = Status(ErrorCode::kMetric, "a stored partial is not base64");
                return;
              }
              partials.push_back({to_int(row[0]), to_int(row[1]), row[2].value_or("{}"), *state});
            }));
  return decode;
}

Status SqlStore::read_metric(const std::string& metric_id, std::string& spec_json,
                             const std::function<Status(const Partial&)>& visit) {
  CANONRY_RETURN_IF_ERROR(ensure_tables());
  bool found = false;
  CANONRY_RETURN_IF_ERROR(query("SELECT spec FROM canonry_metric_specs WHERE metric = $1",
                                {SqlParam::of(metric_id)}, [&](const SqlRow& row) {
                                  found = true;
                                  spec_json = row[0].value_or("");
                                }));
  if (!found) {
    return Status(ErrorCode::kInvalidArgument, "the store has no metric \"" + metric_id + "\"");
  }
  Status status;
  CANONRY_RETURN_IF_ERROR(
      query("SELECT window_start, window_end, dimensions, state FROM canonry_metric_partials WHERE "
            "metric = $1",
            {SqlParam::of(metric_id)}, [&](const SqlRow& row) {
              if (!status) return;
              auto state = base64_decode(row[3].value_or(""));
              if (!state) {
                status = Status(ErrorCode::kMetric, "a stored partial is not base64");
                return;
              }
              status = visit({to_int(row[0]), to_int(row[1]), row[2].value_or("{}"), *state});
            }));
  return status;
}

}  // namespace canonry::metrics
