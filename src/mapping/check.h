// `canonry check`: the static checks of a mapping spec beyond what loading and compiling catch:
// the spec's own `tests`, and with schemas, the paths and types the spec relies on.
#pragma once

#include <string>
#include <vector>

#include "json/value.h"
#include "mapping/plan.h"

namespace canonry::mapping {

struct CheckFinding {
  bool is_error = true;  // false: a warning, reported without failing the check
  std::string message;   // "spec.json: fieldMappings[3] (dst $.total): …"
};

// Runs the spec's `tests`; one finding per failing test.
std::vector<CheckFinding> run_spec_tests(const Plan& plan);

// Source paths no document has, transforms that cannot accept the source type (with a source
// schema); target paths outside the target schema and required target fields nothing writes
// (with a target schema). Either schema may be null.
std::vector<CheckFinding> check_against_schemas(const Plan& plan, const json::Value* source_schema,
                                                const json::Value* target_schema);

}  // namespace canonry::mapping
