// The pipeline's metrics sink (`metrics:` in the pipeline config, DESIGN 4.7): the streaming driver
// of metrics::WindowOperator. Each source partition has its own operator per metric (its own
// watermark, as each input file has in `canonry metrics`), so the same records give the same rows
// either way. Partials go to the metrics store at every flush, together with the partition's
// position and largest event time, per metric in one transaction; on assignment they are loaded
// back, and entries at or below a metric's stored position are skipped (DESIGN 5).
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/arena.h"
#include "common/time.h"
#include "json/parser.h"
#include "mapping/dlq.h"
#include "metrics/spec.h"
#include "metrics/store.h"
#include "metrics/window_operator.h"
#include "pipeline/connector.h"
#include "pipeline/section.h"

namespace canonry::pipeline {
namespace {

struct MetricsConfig {
  std::vector<metrics::MetricSpec> specs;
  std::string store_uri;
  std::string store_where;
  // Where records a metric refuses (late, or no usable value) go, as DLQ lines: `metrics.dlq`, or
  // else the pipeline's own DLQ sink, taken over from the runtime (SectionContext::
  // take_pipeline_dlq), which then gets the pipeline's dead letters from here too.
  std::unique_ptr<Sink> dlq;
  bool dlq_is_pipelines = false;
};

class MetricsSink final : public Sink {
 public:
  explicit MetricsSink(std::shared_ptr<MetricsConfig> config)
      : config_(std::move(config)), description_("metrics:" + config_->store_uri) {}

  std::string_view role() const override { return "metrics"; }
  const std::string& describe() const override { return description_; }

  Status open(const SinkContext& context) override {
    auto store = metrics::open_store(config_->store_uri);
    if (!store) return store.take_status();
    store_ = std::move(*store);
    for (const auto& spec : config_->specs) CANONRY_RETURN_IF_ERROR(store_->register_metric(spec));
    return config_->dlq->open(context);
  }

  Result<std::optional<int64_t>> applied_position(const PartitionKey& key) override {
    auto partition = load(key);
    if (!partition) return partition.take_status();
    std::optional<int64_t> lowest;
    for (const MetricState& m : (*partition)->metrics) {
      if (m.held < 0) return std::optional<int64_t>();  // a metric holds nothing: from the start
      lowest = lowest ? std::min(*lowest, m.held) : m.held;
    }
    auto dlq_held = config_->dlq->applied_position(key);
    if (!dlq_held) return dlq_held.take_status();
    if (!*dlq_held) return std::optional<int64_t>();
    return std::optional<int64_t>(std::min(*lowest, **dlq_held));
  }

  Status apply(const Batch& batch) override {
    auto loaded = load(batch.partition);
    if (!loaded) return loaded.take_status();
    Partition& partition = **loaded;
    Batch dead_letters;
    dead_letters.partition = batch.partition;
    dead_letters.subject = batch.subject;
    dead_letters.mapping_id = batch.mapping_id;
    dead_letters.first_offset = batch.first_offset;
    dead_letters.next_offset = batch.next_offset;
    dead_letters.created_ns = batch.created_ns;
    Status error;
    for (const Entry& entry : batch.entries) {
      Entry passed{Entry::Kind::kSkipped, entry.offset, entry.next_offset, entry.timestamp_ms};
      if (entry.kind == Entry::Kind::kDeadLetter && config_->dlq_is_pipelines) {
        passed.kind = Entry::Kind::kDeadLetter;
        passed.document = dead_letters.append(batch.view(entry.document));
      } else if (entry.kind == Entry::Kind::kUpsert) {
        arena_.reset();
        auto document = parser_.parse(batch.view(entry.document), arena_);
        for (MetricState& m : partition.metrics) {
          if (entry.next_offset <= m.held) continue;
          m.held = entry.next_offset;
          m.dirty = true;
          if (!m.op->spec().source.empty() && m.op->spec().source != batch.subject) continue;
          if (!document) {
            refuse(batch, entry, dead_letters, passed, mapping::Step::kMetrics, document.status());
            continue;
          }
          switch (m.op->add(*document, error)) {
            case metrics::WindowOperator::Outcome::kAdded:
              break;
            case metrics::WindowOperator::Outcome::kLate:
              ++late_;
              refuse(batch, entry, dead_letters, passed, mapping::Step::kLate, late_status(*m.op));
              break;
            case metrics::WindowOperator::Outcome::kError:
              refuse(batch, entry, dead_letters, passed, mapping::Step::kMetrics,
                     Status(error.code(),
                            "metric \"" + m.op->spec().metric_id + "\": " + error.message(),
                            error.path()));
              break;
          }
        }
      } else {
        for (MetricState& m : partition.metrics) {
          if (entry.next_offset > m.held) {
            m.held = entry.next_offset;
            m.dirty = true;
          }
        }
      }
      dead_letters.entries.push_back(passed);
    }
    return config_->dlq->apply(dead_letters);
  }

  Status flush() override {
    // The DLQ first: a metric's stored position must never pass the dead letters it produced,
    // or a restart (which resumes from the metric's position) would not produce them again. The
    // DLQ sink skips what it already holds when they are.
    CANONRY_RETURN_IF_ERROR(config_->dlq->flush());
    for (auto& [key, partition] : partitions_) {
      for (MetricState& m : partition->metrics) {
        if (!m.dirty) continue;
        std::vector<metrics::Partial> partials;
        std::vector<uint32_t> changed = m.op->take_changed_groups();
        for (uint32_t g : changed) {
          partials.push_back({m.op->window_start(g), m.op->window_end(g), m.op->dimensions_json(g),
                              m.op->serialize_state(g)});
        }
        Status written = store_->write_partials(m.op->spec().metric_id, key.to_string(), partials,
                                                {m.held, m.op->max_event_time()});
        if (!written) {
          // Written again at the next flush: the groups stay marked as changed.
          for (uint32_t g : changed) m.op->mark_changed(g);
          return written;
        }
        m.dirty = false;
        // Closed windows take no more records: their stored partials are final, memory can go.
        if (auto max_time = m.op->max_event_time()) {
          m.op->drop_windows_ending_by(*max_time - m.op->spec().lateness_ms);
        }
      }
    }
    return Status::ok();
  }

  void on_committed(const PartitionKey& partition, int64_t position) override {
    config_->dlq->on_committed(partition, position);
  }

  Status release(std::span<const PartitionKey> released) override {
    for (const PartitionKey& key : released) partitions_.erase(key);
    return config_->dlq->release(released);
  }

  Status close() override {
    if (late_ > 0) {
      std::fprintf(stderr, "canonry run: metrics: %llu late records\n",
                   static_cast<unsigned long long>(late_));
    }
    return config_->dlq->close();
  }

 private:
  struct MetricState {
    std::unique_ptr<metrics::WindowOperator> op;
    int64_t held = -1;  // the next_offset of the last entry applied, -1: none
    bool dirty = false;
  };
  struct Partition {
    std::vector<MetricState> metrics;
  };

  // The partition's operators, loaded from the store on first use (after an assignment).
  Result<Partition*> load(const PartitionKey& key) {
    auto found = partitions_.find(key);
    if (found != partitions_.end()) return found->second.get();
    auto partition = std::make_unique<Partition>();
    for (const auto& spec : config_->specs) {
      MetricState m;
      m.op = std::make_unique<metrics::WindowOperator>(spec);
      metrics::PartitionPosition position;
      std::vector<metrics::Partial> partials;
      CANONRY_RETURN_IF_ERROR(
          store_->load_partition(spec.metric_id, key.to_string(), position, partials));
      for (const auto& p : partials) {
        CANONRY_RETURN_IF_ERROR(m.op->merge_partial(p.window_start, p.dimensions, p.state));
      }
      m.op->take_changed_groups();
      if (position.max_event_time) {
        m.op->observe_event_time(*position.max_event_time);
        m.op->drop_windows_ending_by(*position.max_event_time - spec.lateness_ms);
      }
      m.held = position.position;
      partition->metrics.push_back(std::move(m));
    }
    Partition* raw = partition.get();
    partitions_.emplace(key, std::move(partition));
    return raw;
  }

  static Status late_status(const metrics::WindowOperator& op) {
    return Status(ErrorCode::kMetric,
                  "metric \"" + op.spec().metric_id + "\": event time " +
                      format_rfc3339_millis(op.last_event_time()) + " is behind the watermark " +
                      format_rfc3339_millis(*op.max_event_time() - op.spec().lateness_ms) +
                      " (lateness " + std::to_string(op.spec().lateness_ms) + " ms)",
                  op.spec().time_text);
  }

  // A DLQ line for a record a metric refused: the canonical record is its raw text (the source
  // bytes are not in the batch), its position the partition's.
  void refuse(const Batch& batch, const Entry& entry, Batch& out, Entry& passed, mapping::Step step,
              const Status& status) {
    std::string source = batch.partition.to_string();
    formats::Position position;
    position.source = source;
    position.offset = entry.offset;
    position.partition = batch.partition.partition;
    line_.clear();
    mapping::append_dead_letter(
        line_, {step, &status, {}, batch.mapping_id, &position, batch.view(entry.document), false});
    while (!line_.empty() && line_.back() == '\n') line_.pop_back();
    if (passed.kind == Entry::Kind::kDeadLetter) {
      // A second metric refused the same record: one more line.
      out.entries.push_back(passed);
      passed = Entry{Entry::Kind::kSkipped, entry.offset, entry.next_offset, entry.timestamp_ms};
    }
    passed.kind = Entry::Kind::kDeadLetter;
    passed.document = out.append(line_);
  }

  std::shared_ptr<MetricsConfig> config_;
  std::string description_;
  std::unique_ptr<metrics::Store> store_;
  std::map<PartitionKey, std::unique_ptr<Partition>> partitions_;
  json::Parser parser_;
  Arena arena_{256 * 1024};
  std::string line_;
  uint64_t late_ = 0;
};

std::vector<std::unique_ptr<Sink>> metrics_section(const YAML::Node& node,
                                                   const SectionContext& context) {
  if (!node.IsMap()) {
    context.fail(node, "metrics", "expected {specs: [FILE...], store: URI, dlq: URI}");
  }
  auto config = std::make_shared<MetricsConfig>();
  for (const auto& item : node) {
    std::string key = item.first.as<std::string>();
    if (key != "specs" && key != "store" && key != "dlq") {
      context.fail(item.first, "metrics." + key, "unknown key (expected specs, store, dlq)");
    }
  }
  YAML::Node specs = node["specs"];
  if (!specs || !specs.IsSequence() || specs.size() == 0) {
    context.fail(specs ? specs : node, "metrics.specs", "required: a list of metric spec files");
  }
  for (const auto& item : specs) {
    if (!item.IsScalar()) context.fail(item, "metrics.specs", "a spec file path");
    auto loaded = metrics::load_metric_specs_file(context.resolve_path(item.as<std::string>()));
    if (!loaded) context.fail(item, "metrics.specs", loaded.status().message());
    for (auto& spec : *loaded) {
      for (const auto& other : config->specs) {
        if (other.metric_id == spec.metric_id) {
          context.fail(item, "metrics.specs", "metricId \"" + spec.metric_id + "\" twice");
        }
      }
      config->specs.push_back(std::move(spec));
    }
  }
  YAML::Node store = node["store"];
  if (!store || !store.IsScalar()) {
    context.fail(store ? store : node, "metrics.store",
                 "required: sqlite:PATH, postgres://... or clickhouse://host:port/db");
  }
  config->store_uri = store.as<std::string>();
  if (config->store_uri.rfind("sqlite:", 0) == 0) {
    config->store_uri = "sqlite:" + context.resolve_path(config->store_uri.substr(7));
  } else if (config->store_uri.rfind("postgres://", 0) != 0 &&
             config->store_uri.rfind("postgresql://", 0) != 0 &&
             config->store_uri.rfind("clickhouse://", 0) != 0) {
    context.fail(store, "metrics.store",
                 "expected sqlite:PATH, postgres://... or clickhouse://host:port/db");
  }
  if (YAML::Node dlq = node["dlq"]) {
    if (!dlq.IsScalar()) context.fail(dlq, "metrics.dlq", "a DLQ URI (file:..., kafka://...)");
    std::string uri = dlq.as<std::string>();
    auto parts = split_uri(uri);
    const ConnectorFactories* connector = parts ? find_connector(parts->first) : nullptr;
    if (connector == nullptr || !connector->sink) {
      context.fail(dlq, "metrics.dlq", "\"" + uri + "\" is no sink this build knows");
    }
    ConnectorOptions options(context.where(dlq), {});
    ConnectorSpec spec;
    spec.uri = uri;
    spec.scheme = parts->first;
    spec.rest = parts->second;
    spec.uri_where = context.where(dlq);
    spec.resolve_path = context.resolve_path;
    spec.options = &options;
    config->dlq = connector->sink(spec, "dlq");
  } else {
    config->dlq = context.take_pipeline_dlq();
    config->dlq_is_pipelines = true;
  }
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<MetricsSink>(std::move(config)));
  return sinks;
}

}  // namespace

CANONRY_REGISTER_CONFIG_SECTION(metrics, "metrics", metrics_section);

}  // namespace canonry::pipeline
