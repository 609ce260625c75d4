// What the SQLite and PostgreSQL stores share: the same tables and statements (both accept $N
// parameters and INSERT ... ON CONFLICT DO UPDATE), over a connection each implements.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/store.h"

namespace canonry::metrics {

struct SqlParam {
  enum class Kind { kNull, kInteger, kText } kind = Kind::kNull;
  int64_t integer = 0;
  std::string text;
  static SqlParam null() { return {}; }
  static SqlParam of(int64_t v) { return {Kind::kInteger, v, {}}; }
  static SqlParam of(std::string v) { return {Kind::kText, 0, std::move(v)}; }
};

using SqlRow = std::vector<std::optional<std::string>>;

class SqlStore : public Store {
 public:
  Status register_metric(const MetricSpec& spec) override;
  Status replace_range(const WindowOperator& op, const std::string& partition,
                       int64_t position) override;
  Status write_partials(const std::string& metric_id, const std::string& partition,
                        const std::vector<Partial>& partials,
                        const PartitionPosition& position) override;
  Status load_partition(const std::string& metric_id, const std::string& partition,
                        PartitionPosition& position, std::vector<Partial>& partials) override;
  Status read_metric(const std::string& metric_id, std::string& spec_json,
                     const std::function<Status(const Partial&)>& visit) override;

 protected:
  virtual Status exec(std::string_view sql, const std::vector<SqlParam>& params) = 0;
  virtual Status query(std::string_view sql, const std::vector<SqlParam>& params,
                       const std::function<void(const SqlRow&)>& row) = 0;
  // Runs `body` in a transaction: committed when it succeeds, rolled back otherwise.
  Status transaction(const std::function<Status()>& body);
  Status ensure_tables();

 private:
  Status upsert_partial(const std::string& metric_id, const std::string& partition,
                        const Partial& partial, int64_t position);
  Status upsert_position(const std::string& metric_id, const std::string& partition,
                         const PartitionPosition& position);
  bool tables_ready_ = false;
};

}  // namespace canonry::metrics
