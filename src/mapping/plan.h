// A mapping spec compiled into a plan (DESIGN 2, "map"): source paths parsed once, target paths
// merged into one template of the canonical record, transforms built once. Per record the plan
// reads only the source paths it uses, fills a slot tree in the record's arena and writes the
// canonical JSON straight from it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"
#include "mapping/spec.h"

namespace canonry::mapping {

// What mapping one record produced besides its JSON.
struct MapInfo {
  // The canonical key (the value at the spec's `key` path), null when the spec has no key.
  json::Value key;
  // The event time (the value at `eventTime`) in epoch milliseconds, when present and readable.
  std::optional<int64_t> event_time_ms;
};

// Why a record could not be mapped: the status (kTransform, kMissingKey, kExpression) and the
// concrete target path ("$.line_items[2].quantity"), for the DLQ.
struct MapError {
  Status status;
  std::string dst;
};

class Plan {
 public:
  // Compiles a loaded spec. Errors name the spec file and the JSON pointer.
  static Result<std::shared_ptr<const Plan>> compile(const MappingSpec& spec);
  ~Plan();

  const std::string& mapping_id() const;
  const MappingSpec& spec() const;

  // Maps one source document and appends the canonical record as compact JSON to `out`. On
  // failure nothing is appended and `error` says why. Scratch values go into `arena`.
  bool map(const json::Value& document, Arena& arena, std::string& out, MapInfo& info,
           MapError& error) const;
  // The same, building the canonical record as a value (for spec tests and validation).
  bool map_to_value(const json::Value& document, Arena& arena, json::Value& record, MapInfo& info,
                    MapError& error) const;

  struct Impl;

 private:
  explicit Plan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace canonry::mapping
