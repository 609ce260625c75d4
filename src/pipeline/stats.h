// What a running pipeline counts (DESIGN 4.8 /metrics, issue 6 "Observability"): per source
// partition and per sink counters, lag, and end-to-end latency histograms, written by the runtime's
// threads with relaxed atomics and read by anyone (the progress line, the Prometheus exposition).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/connector.h"

namespace canonry::pipeline {

struct PartitionStats {
  explicit PartitionStats(PartitionKey key) : partition(std::move(key)) {}
  const PartitionKey partition;
  std::atomic<uint64_t> received{0};      // messages read from the source
  std::atomic<uint64_t> upserts{0};       // canonical records sent to the sinks
  std::atomic<uint64_t> deletes{0};       // deletes sent to the sinks
  std::atomic<uint64_t> dropped{0};       // skipped by design (tombstones)
  std::atomic<uint64_t> dead_letters{0};  // sent to the DLQ
  std::atomic<uint64_t> errors{0};        // failed reads (retried)
  std::atomic<int64_t> lag{-1};           // PartitionReader::lag, -1 when unknown
  std::atomic<int64_t> committed{-1};     // the last position committed to the source
};

// Latency in seconds, in fixed buckets (Prometheus histogram semantics: counts are cumulative when
// exposed).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                                                     0.2,   0.5,   1,     2,    5,    10,   30};
  void observe(double seconds, uint64_t count = 1);
  // Counts per bucket (the last one: above every bound), not cumulative.
  std::array<uint64_t, kBounds.size() + 1> buckets() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;
  // The upper bound of the bucket holding the q-quantile (an estimate at bucket resolution).
  double quantile(double q) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

struct SinkStats {
  SinkStats(std::string role, std::string name) : role(std::move(role)), name(std::move(name)) {}
  const std::string role;  // "events", "state", "dlq", ...
  const std::string name;  // Sink::describe()
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> entries{0};  // entries of applied batches (each sink sees every entry)
  std::atomic<uint64_t> errors{0};   // failed apply or flush calls (retried)
  std::atomic<uint64_t> flushes{0};
  // From the message's source timestamp (or, when it has none, from when the runtime read it) to
  // the sink's apply returning.
  LatencyHistogram latency;
};

class PipelineStats {
 public:
  explicit PipelineStats(std::string pipeline) : pipeline_(std::move(pipeline)) {}

  // The stats of a partition, created on first use; stays valid for the life of the stats (a
  // partition assigned again continues its counters).
  PartitionStats& partition(const PartitionKey& key);
  SinkStats& add_sink(std::string role, std::string name);

  std::vector<std::shared_ptr<PartitionStats>> partitions() const;
  std::vector<std::shared_ptr<SinkStats>> sinks() const;
  const std::string& pipeline() const { return pipeline_; }

  // The Prometheus text exposition format (version 0.0.4) of everything above.
  std::string prometheus() const;

 private:
  std::string pipeline_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<PartitionStats>> partitions_;
  std::vector<std::shared_ptr<SinkStats>> sinks_;
};

}  // namespace canonry::pipeline
