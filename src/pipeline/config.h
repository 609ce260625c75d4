// The pipeline config (DESIGN 4.7, docs/pipeline.md): a YAML file checked completely before
// anything starts. Unknown keys are rejected, every error reads `file:line:column: key: message`,
// relative paths resolve against the config file's folder, mapping specs are compiled, schemas
// loaded and every connector constructed (but not connected) while loading.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/reader.h"
#include "mapping/plan.h"
#include "pipeline/connector.h"
#include "registry/registry.h"
#include "schema/validator.h"

namespace canonry::pipeline {

struct SourceConfig {
  std::string name;
  std::string uri;
  std::string where;  // "pipeline.yaml:5:5", the entry's location
  formats::Format format = formats::Format::kAuto;
  std::string mapping_path;  // resolved
  std::shared_ptr<const mapping::Plan> plan;
  std::string schema_path;  // resolved, empty when the source has no canonical schema
  std::shared_ptr<const schema::Validator> validator;
  std::unique_ptr<Source> source;
};

struct ServerConfig {
  std::string listen;  // "127.0.0.1:8080"
  std::string where;
};

// How the runtime batches, queues and checkpoints (`runtime:` in the config, all optional).
struct RuntimeOptions {
  // Messages per batch a partition thread hands to the sinks at most.
  size_t batch_messages = 2048;
  // A partition thread closes a batch after this long even when it is not full.
  std::chrono::milliseconds batch_linger{50};
  // Batches waiting for each sink at most; a full queue blocks the partition threads
  // (backpressure).
  size_t queue_batches = 16;
  // How often sinks flush and positions are committed.
  std::chrono::milliseconds checkpoint_interval{1000};
  // How often `canonry run` prints its progress line (0: never).
  std::chrono::milliseconds progress_interval{5000};
  // How long a sink may keep failing (apply or flush, retried with backoff) before the pipeline
  // stops with an error.
  std::chrono::milliseconds sink_retry_limit{60000};
};

struct PipelineConfig {
  std::string file;    // as given
  std::string folder;  // the config file's folder, the base of relative paths
  std::string name;
  std::vector<SourceConfig> sources;
  std::unique_ptr<StateStore> state;  // null when the config has no `state`
  // Events, DLQ, and the sinks of registered sections (metrics), in that order.
  std::vector<std::unique_ptr<Sink>> sinks;
  // `registry:` "embedded" (the registry's data in `registry_data`, served on the pipeline's
  // server), a registry's URL, or empty. Sources without `schema:` validate against the latest
  // schema of their mapping's target.subject in it.
  std::string registry;
  std::string registry_data;                              // embedded only: the folder, resolved
  std::shared_ptr<registry::Registry> embedded_registry;  // embedded only
  std::optional<ServerConfig> server;
  RuntimeOptions runtime;
};

struct LoadOptions {
  bool until_end = false;  // passed to every source factory (SourceSpec::until_end)
};

// Reads and checks the config. Throws ConfigError with a located message on the first error.
PipelineConfig load_pipeline_config(const std::string& path, const LoadOptions& options = {});
// The same from text (`file` is used in messages and as the base of relative paths).
PipelineConfig load_pipeline_config_text(const std::string& text, const std::string& file,
                                         const LoadOptions& options = {});

// "500ms", "2s", "1m", "1h"; nullopt when it is none of these.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace canonry::pipeline
