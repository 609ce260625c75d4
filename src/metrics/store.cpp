#include "metrics/store.h"

namespace canonry::metrics {

Status Store::dump(const std::string& metric_id, std::string& out) {
  std::string spec_json;
  std::vector<Partial> partials;
  CANONRY_RETURN_IF_ERROR(read_metric(metric_id, spec_json, [&](const Partial& p) {
    partials.push_back(p);
    return Status::ok();
  }));
  auto specs = load_metric_specs_text(spec_json, "stored spec of " + metric_id);
  if (!specs) return specs.take_status();
  WindowOperator merged(specs->front());
  for (const Partial& p : partials) {
    CANONRY_RETURN_IF_ERROR(merged.merge_partial(p.window_start, p.dimensions, p.state));
  }
  merged.append_rows(out);
  return Status::ok();
}

Result<std::unique_ptr<Store>> open_store(const std::string& uri) {
  if (uri.rfind("sqlite:", 0) == 0) {
    std::string path = uri.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    if (path.empty())
      return Status(ErrorCode::kInvalidArgument, uri + ": sqlite:PATH needs a path");
    return open_sqlite_store(path);
  }
  if (uri.rfind("postgres://", 0) == 0 || uri.rfind("postgresql://", 0) == 0) {
    return open_postgres_store(uri);
  }
  if (uri.rfind("clickhouse://", 0) == 0) return open_clickhouse_store(uri);
  return Status(ErrorCode::kInvalidArgument,
                "\"" + uri +
                    "\" is not a metrics store (sqlite:PATH, postgres://..., "
                    "clickhouse://host:port/db)");
}

}  // namespace canonry::metrics
