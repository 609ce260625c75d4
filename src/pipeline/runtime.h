// The runtime of a pipeline (DESIGN 2, 3 "Threading", 5): one thread per source partition runs
// decode → map → validate into batches, bounded queues carry every batch to every sink's thread
// (backpressure), and positions are committed to the sources once every sink has flushed them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "pipeline/config.h"
#include "pipeline/stats.h"

namespace canonry::pipeline {

struct RunOptions {
  // Stop once every partition of every source has reached its end (all sources must be bounded,
  // or built with SourceSpec::until_end), after every sink flushed.
  bool until_end = false;
  // Set from a signal handler (SIGTERM, SIGINT): stop reading, flush, commit, return 0.
  const std::atomic<bool>* stop = nullptr;
  const Clock* clock = &system_clock();
  // Where progress lines and runtime messages go (canonry run: standard error). Called from the
  // control thread only.
  std::function<void(const std::string&)> log;
};

class Runtime {
 public:
  explicit Runtime(PipelineConfig& config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs until the end (until_end), a stop request, or a failure that retries did not cure.
  // Returns ok after a clean stop (everything read was flushed and committed).
  Status run(const RunOptions& options);

  // Counters and histograms, readable from any thread while the pipeline runs.
  const PipelineStats& stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace canonry::pipeline
