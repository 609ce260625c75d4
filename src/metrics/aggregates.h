// The partial aggregate of one measure for many groups (a group: one window and one combination
// of dimension values), stored column-wise so that adding a record touches one slot per measure.
// Partials merge (sum of sums and counts, min of mins, merge of sketches) and serialise, so that
// threads, source partitions and stores each keep their own and combine them when read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/decimal.h"
#include "common/status.h"
#include "json/value.h"
#include "metrics/spec.h"

namespace canonry::metrics {

// One measure's input from one record (or one element of a wildcard dimension's array), read
// once and added to every window and group the record falls in.
struct MeasureInput {
  bool present = false;  // false: the field is missing or null, the measure skips the record
  // Numbers: an exact value as mantissa * 10^-scale when it has at most 18 digits (the fast path
  // of sums), else `exact`; `approximate` for comparisons and sketches; `text` as it was written.
  bool fast = false;
  int64_t mantissa = 0;
  int32_t scale = 0;
  std::optional<Decimal> exact;
  double approximate = 0;
  std::string_view text;
  char text_buffer[32];
  uint64_t hash = 0;  // count_distinct
};

class MeasureColumn {
 public:
  virtual ~MeasureColumn() = default;
  // Makes room for groups [0, groups).
  virtual void resize(size_t groups) = 0;
  // Reads the measure's value; an error (kMetric, with the path) when the record has a value the
  // aggregate cannot take (a string for sum).
  virtual Status prepare(const json::Value* value, MeasureInput& input) const = 0;
  virtual void add(uint32_t group, const MeasureInput& input) = 0;
  // Merges `other`'s group into this column's group (a column of the same measure).
  virtual void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) = 0;
  virtual void serialize(uint32_t group, std::string& out) const = 0;
  // Merges a serialised partial into the group; false when the bytes are not one.
  virtual bool merge_serialized(uint32_t group, std::string_view& in) = 0;
  // The final value as JSON (null for a group the measure saw no value in).
  virtual void append_result(uint32_t group, std::string& out) const = 0;
};

std::unique_ptr<MeasureColumn> make_column(const Measure& measure);

}  // namespace canonry::metrics
