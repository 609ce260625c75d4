#include "pipeline/stats.h"

#include <algorithm>
#include <cstdio>

namespace canonry::pipeline {
namespace {

// Label values are quoted with backslash, quote and newline escaped (the exposition format).
void append_label(std::string& out, std::string_view name, std::string_view value) {
  if (out.back() != '{') out += ',';
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

}  // namespace

void LatencyHistogram::observe(double seconds, uint64_t count) {
  if (seconds < 0) seconds = 0;
  size_t bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  buckets_[bucket].fetch_add(count, std::memory_order_relaxed);
  count_.fetch_add(count, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6) * count, std::memory_order_relaxed);
}

std::array<uint64_t, LatencyHistogram::kBounds.size() + 1> LatencyHistogram::buckets() const {
  std::array<uint64_t, kBounds.size() + 1> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double LatencyHistogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

double LatencyHistogram::quantile(double q) const {
  auto counts = buckets();
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return kBounds[i];
  }
  return kBounds.back();
}

PartitionStats& PipelineStats::partition(const PartitionKey& key) {
  std::lock_guard lock(mutex_);
  for (const auto& stats : partitions_) {
    if (stats->partition == key) return *stats;
  }
  partitions_.push_back(std::make_shared<PartitionStats>(key));
  return *partitions_.back();
}

SinkStats& PipelineStats::add_sink(std::string role, std::string name) {
  std::lock_guard lock(mutex_);
  sinks_.push_back(std::make_shared<SinkStats>(std::move(role), std::move(name)));
  return *sinks_.back();
}

std::vector<std::shared_ptr<PartitionStats>> PipelineStats::partitions() const {
  std::lock_guard lock(mutex_);
  return partitions_;
}

std::vector<std::shared_ptr<SinkStats>> PipelineStats::sinks() const {
  std::lock_guard lock(mutex_);
  return sinks_;
}

std::string PipelineStats::prometheus() const {
  std::string out;
  auto partitions = this->partitions();
  auto sinks = this->sinks();

  struct PartitionMetric {
    const char* name;
    const char* type;
    const char* help;
    int64_t (*read)(const PartitionStats&);
  };
  static const PartitionMetric kPartitionMetrics[] = {
      {"canonry_source_received_total", "counter", "Messages read from the source.",
       [](const PartitionStats& s) { return static_cast<int64_t>(s.received.load()); }},
      {"canonry_source_sent_total", "counter",
       "Canonical records (upserts and deletes) sent to the sinks.",
       [](const PartitionStats& s) {
         return static_cast<int64_t>(s.upserts.load() + s.deletes.load());
       }},
      {"canonry_source_deletes_total", "counter", "Deletes sent to the sinks.",
       [](const PartitionStats& s) { return static_cast<int64_t>(s.deletes.load()); }},
      {"canonry_source_dropped_total", "counter", "Messages skipped by design (tombstones).",
       [](const PartitionStats& s) { return static_cast<int64_t>(s.dropped.load()); }},
      {"canonry_source_dlq_total", "counter",
       "Records that failed to decode, map or validate, sent to the DLQ.",
       [](const PartitionStats& s) { return static_cast<int64_t>(s.dead_letters.load()); }},
      {"canonry_source_errors_total", "counter", "Failed reads from the source (retried).",
       [](const PartitionStats& s) { return static_cast<int64_t>(s.errors.load()); }},
      {"canonry_source_lag", "gauge",
       "How far the partition's reader is behind its end (Kafka: messages; files: bytes).",
       [](const PartitionStats& s) { return s.lag.load(); }},
      {"canonry_source_committed_position", "gauge",
       "The last position committed to the source after every sink flushed.",
       [](const PartitionStats& s) { return s.committed.load(); }},
  };
  for (const PartitionMetric& metric : kPartitionMetrics) {
    out += std::string("# HELP ") + metric.name + " " + metric.help + "\n";
    out += std::string("# TYPE ") + metric.name + " " + metric.type + "\n";
    for (const auto& stats : partitions) {
      int64_t value = metric.read(*stats);
      if (value < 0) continue;  // unknown gauges are left out
      out += metric.name;
      out += '{';
      append_label(out, "pipeline", pipeline_);
      append_label(out, "source", stats->partition.source);
      append_label(out, "partition", std::to_string(stats->partition.partition));
      out += "} " + std::to_string(value) + "\n";
    }
  }

  struct SinkMetric {
    const char* name;
    const char* help;
    uint64_t (*read)(const SinkStats&);
  };
  static const SinkMetric kSinkMetrics[] = {
      {"canonry_sink_batches_total", "Batches applied.",
       [](const SinkStats& s) { return s.batches.load(); }},
      {"canonry_sink_entries_total", "Entries of the batches applied.",
       [](const SinkStats& s) { return s.entries.load(); }},
      {"canonry_sink_errors_total", "Failed apply or flush calls (retried).",
       [](const SinkStats& s) { return s.errors.load(); }},
      {"canonry_sink_flushes_total", "Flushes (checkpoints).",
       [](const SinkStats& s) { return s.flushes.load(); }},
  };
  auto sink_labels = [&](std::string& line, const SinkStats& stats) {
    line += '{';
    append_label(line, "pipeline", pipeline_);
    append_label(line, "role", stats.role);
    append_label(line, "sink", stats.name);
  };
  for (const SinkMetric& metric : kSinkMetrics) {
    out += std::string("# HELP ") + metric.name + " " + metric.help + "\n";
    out += std::string("# TYPE ") + metric.name + " counter\n";
    for (const auto& stats : sinks) {
      out += metric.name;
      sink_labels(out, *stats);
      out += "} " + std::to_string(metric.read(*stats)) + "\n";
    }
  }

  const char* histogram = "canonry_sink_latency_seconds";
  out += std::string("# HELP ") + histogram +
         " End-to-end latency: from the message's source timestamp (or when it was read) to the "
         "sink having applied it.\n";
  out += std::string("# TYPE ") + histogram + " histogram\n";
  for (const auto& stats : sinks) {
    auto counts = stats->latency.buckets();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      out += std::string(histogram) + "_bucket";
      sink_labels(out, *stats);
      append_label(out, "le",
                   i < LatencyHistogram::kBounds.size() ? number(LatencyHistogram::kBounds[i])
                                                        : std::string("+Inf"));
      out += "} " + std::to_string(cumulative) + "\n";
    }
    out += std::string(histogram) + "_sum";
    sink_labels(out, *stats);
    out += "} " + number(stats->latency.sum()) + "\n";
    out += std::string(histogram) + "_count";
    sink_labels(out, *stats);
    out += "} " + std::to_string(stats->latency.count()) + "\n";
  }
  return out;
}

}  // namespace canonry::pipeline
