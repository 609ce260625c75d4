// The HTTP routes of a running pipeline (DESIGN 4.8), added to the server `canonry run` starts when
// the config has `server:`: Prometheus text at /metrics, canonical entities by key, and the
// pipeline's status.
#pragma once

#include "pipeline/runtime.h"
#include "server/server.h"

namespace canonry::pipeline {

// GET /metrics: PipelineStats::prometheus().
// GET /api/v1/entities/{subject}/{key}: the entity's canonical JSON from the state store (404
//   without one). The key is the canonical key's value: `A-1` finds the string "A-1"; a key that is
//   JSON text (`42`, `"42"`) is also tried as such, so numeric keys are found too.
// GET /api/v1/pipeline: name, sources with their partitions' counters, sinks.
// `state` may be null (no state store: the entity route answers 404 with a message saying so).
void add_pipeline_routes(server::Server& server, const Runtime& runtime, StateStore* state);

}  // namespace canonry::pipeline
