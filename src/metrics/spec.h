// A metric spec (DESIGN 4.6), loaded and checked before any record is read: every error names the
// file and the JSON pointer of what is wrong ("orders.json: /measures/2/agg: unknown aggregate").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "jsonpath/jsonpath.h"

namespace canonry::metrics {

enum class Aggregate { kCount, kSum, kAvg, kMin, kMax, kCountDistinct, kQuantile };
std::string_view aggregate_name(Aggregate agg);

// Where a path is evaluated: from the record's root, or (for paths under a wildcard dimension's
// array, "$.items[*].price") from each element of that array in turn.
struct BoundPath {
  std::string text;
  int unnest = -1;  // index into MetricSpec::unnests, -1: from the root
  // From the root, or "$" + the part after the wildcard; always set once loaded.
  std::optional<jsonpath::JsonPath> path;
};

struct Dimension {
  std::string name;
  BoundPath path;
};

struct Measure {
  std::string name;
  Aggregate agg = Aggregate::kCount;
  bool has_field = false;  // count without field counts rows; every other aggregate has one
  BoundPath field;
  double q = 0;  // quantile
};

// An array a wildcard dimension walks: "$.items" of "$.items[*].sku". Dimensions and measures
// under the same array advance together over its elements (zipped); different arrays multiply.
struct Unnest {
  std::string prefix_text;   // "$.items[*]"
  jsonpath::JsonPath array;  // "$.items": singular
};

struct MetricSpec {
  std::string file;
  std::string pointer;  // "" for a file holding one spec, "/2" for the third of a list
  std::string metric_id;
  std::string source;  // the canonical subject the metric reads (informational in batch)
  std::optional<jsonpath::JsonPath> time;  // always set once loaded
  std::string time_text;
  bool hopping = false;
  int64_t size_ms = 0;
  int64_t slide_ms = 0;  // == size_ms for tumbling windows
  int64_t lateness_ms = 0;
  std::vector<Unnest> unnests;
  std::vector<Dimension> dimensions;
  std::vector<Measure> measures;
  // The spec as written (compact JSON): what stores keep so that `metrics dump` can read it back.
  std::string spec_json;
  // The spec as canonical JSON (keys in a fixed order, durations in ms): what stores keep to
  // check that a metric id is not reused with a different meaning.
  std::string canonical_json;
};

// "90s", "10m", "1h", "1d", "500ms"; nullopt otherwise.
std::optional<int64_t> parse_duration_ms(std::string_view text);

// A file holds one spec object or an array of them. Errors are kSpec: "FILE: /POINTER: message".
Result<std::vector<MetricSpec>> load_metric_specs_text(std::string_view text,
                                                       const std::string& file);
Result<std::vector<MetricSpec>> load_metric_specs_file(const std::string& path);

}  // namespace canonry::metrics
