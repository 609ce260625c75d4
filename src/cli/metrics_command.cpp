// canonry metrics --spec METRICS [--map SPEC] [--format F] [--threads N] [--dlq FILE] [--out FILE]
//                 [--store URI] INPUT...
// canonry metrics dump --store URI --metric ID
//
// Batch and backfill metrics over files (DESIGN 4.6): each input is one partition with its own
// watermark, aggregated on its own thread into partial aggregates that are merged at the end.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/io.h"
#include "common/time.h"
#include "formats/reader.h"
#include "mapping/dlq.h"
#include "mapping/plan.h"
#include "metrics/spec.h"
#include "metrics/store.h"
#include "metrics/window_operator.h"

namespace canonry::cli {
namespace {

struct MetricsOptions {
  std::string spec;
  std::string map;
  std::string format = "auto";
  unsigned threads = 0;
  std::string dlq;
  std::string out = "-";
  std::string store;
  std::vector<std::string> inputs;
};

struct DumpOptions {
  std::string store;
  std::string metric;
};

struct Counters {
  uint64_t in = 0, aggregated = 0, deletes = 0, late = 0, dlq_decode = 0, dlq_map = 0,
           dlq_metrics = 0, bytes = 0;
  void add(const Counters& o) {
    in += o.in;
    aggregated += o.aggregated;
    deletes += o.deletes;
    late += o.late;
    dlq_decode += o.dlq_decode;
    dlq_map += o.dlq_map;
    dlq_metrics += o.dlq_metrics;
    bytes += o.bytes;
  }
};

// What one input produced: a partial aggregate per metric, its dead letters, its counts.
struct InputResult {
  std::vector<std::unique_ptr<metrics::WindowOperator>> operators;
  std::string dlq;
  Counters counters;
  int64_t last_position = 0;  // the byte offset the partials cover (the input's end)
  Status failure;             // the input could not be read at all
};

void aggregate_input(const std::string& input, const std::vector<metrics::MetricSpec>& specs,
                     const mapping::Plan* plan, const formats::ReaderOptions& reader_options,
                     InputResult& result) {
  for (const auto& spec : specs) {
    result.operators.push_back(std::make_unique<metrics::WindowOperator>(spec));
  }
  auto reader = formats::open_reader(input, reader_options);
  if (!reader) {
    result.failure = reader.status();
    return;
  }
  std::string_view mapping_id = plan != nullptr ? std::string_view(plan->mapping_id()) : "";
  Arena arena(256 * 1024);
  formats::Record record;
  Status error;
  mapping::MapInfo info;
  mapping::MapError map_error;
  Counters& counters = result.counters;
  auto dead_letter = [&](mapping::Step step, const Status& status, std::string_view path) {
    mapping::append_dead_letter(result.dlq, {step, &status, path, mapping_id, &record.position,
                                             record.raw, record.raw_is_binary});
  };
  while (true) {
    arena.reset();
    auto next = (*reader)->next(arena, record, error);
    if (next == formats::RecordReader::Next::kEnd) break;
    ++counters.in;
    if (next == formats::RecordReader::Next::kError) {
      ++counters.dlq_decode;
      dead_letter(mapping::Step::kDecode, error, {});
      continue;
    }
    if (record.op == formats::Op::kDelete) {
      // Metrics aggregate events; a delete retracts nothing from windows already counted.
      ++counters.deletes;
      continue;
    }
    json::Value canonical = record.document;
    if (plan != nullptr &&
        !plan->map_to_value(record.document, arena, canonical, info, map_error)) {
      ++counters.dlq_map;
      dead_letter(mapping::Step::kMap, map_error.status, map_error.dst);
      continue;
    }
    bool aggregated = false;
    for (auto& op : result.operators) {
      switch (op->add(canonical, error)) {
        case metrics::WindowOperator::Outcome::kAdded:
          aggregated = true;
          break;
        case metrics::WindowOperator::Outcome::kLate: {
          ++counters.late;
          Status late(ErrorCode::kMetric,
                      "metric \"" + op->spec().metric_id + "\": event time " +
                          format_rfc3339_millis(op->last_event_time()) +
                          " is behind the watermark " +
                          format_rfc3339_millis(*op->max_event_time() - op->spec().lateness_ms) +
                          " (lateness " + std::to_string(op->spec().lateness_ms) + " ms)",
                      op->spec().time_text);
          dead_letter(mapping::Step::kLate, late, {});
          break;
        }
        case metrics::WindowOperator::Outcome::kError: {
          ++counters.dlq_metrics;
          Status tagged(error.code(), "metric \"" + op->spec().metric_id + "\": " + error.message(),
                        error.path());
          dead_letter(mapping::Step::kMetrics, tagged, {});
          break;
        }
      }
    }
    if (aggregated) ++counters.aggregated;
  }
  counters.bytes = (*reader)->bytes_read();
  result.last_position = static_cast<int64_t>(counters.bytes);
}

int run_metrics(const MetricsOptions& options) {
  auto specs = metrics::load_metric_specs_file(options.spec);
  if (!specs) {
    std::fprintf(stderr, "canonry metrics: %s\n", specs.status().message().c_str());
    return kExitBadInput;
  }
  std::shared_ptr<const mapping::Plan> plan;
  if (!options.map.empty()) {
    auto spec = mapping::load_spec_file(options.map);
    if (!spec) {
      std::fprintf(stderr, "canonry metrics: --map: %s\n", spec.status().message().c_str());
      return kExitBadInput;
    }
    auto compiled = mapping::Plan::compile(*spec);
    if (!compiled) {
      std::fprintf(stderr, "canonry metrics: --map: %s\n", compiled.status().message().c_str());
      return kExitBadInput;
    }
    plan = *compiled;
  }
  auto format = formats::parse_format(options.format);
  if (!format) {
    std::fprintf(stderr, "canonry metrics: --format: %s\n", format.status().message().c_str());
    return kExitUsage;
  }
  std::unique_ptr<metrics::Store> store;
  if (!options.store.empty()) {
    auto opened = metrics::open_store(options.store);
    if (!opened) {
      std::fprintf(stderr, "canonry metrics: --store: %s\n", opened.status().message().c_str());
      return kExitBadInput;
    }
    store = std::move(*opened);
    for (const auto& spec : *specs) {
      if (auto s = store->register_metric(spec); !s) {
        std::fprintf(stderr, "canonry metrics: --store: %s\n", s.message().c_str());
        return kExitBadInput;
      }
    }
  }
  OutputFile out, dlq;
  if (auto s = out.open(options.out); !s) {
    std::fprintf(stderr, "canonry metrics: %s\n", s.message().c_str());
    return kExitBadInput;
  }
  if (auto s = dlq.open(options.dlq.empty() ? "stderr" : options.dlq); !s) {
    std::fprintf(stderr, "canonry metrics: %s\n", s.message().c_str());
    return kExitBadInput;
  }

  auto raw_store = formats::make_memory_raw_store();
  formats::ReaderOptions reader_options;
  reader_options.format = *format;
  reader_options.raw_store = raw_store.get();

  auto started = std::chrono::steady_clock::now();
  std::vector<InputResult> results(options.inputs.size());
  unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(options.inputs.size()));
  // Standard input carries state across records (Debezium updates find earlier documents in the
  // raw store), so inputs run one per thread, each with a raw store of its own.
  std::atomic<size_t> next_input{0};
  auto worker = [&] {
    auto own_raw_store = formats::make_memory_raw_store();
    formats::ReaderOptions own = reader_options;
    own.raw_store = own_raw_store.get();
    for (size_t i = next_input++; i < options.inputs.size(); i = next_input++) {
      aggregate_input(options.inputs[i], *specs, plan.get(), own, results[i]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();

  Counters counters;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].failure) {
      std::fprintf(stderr, "canonry metrics: %s\n", results[i].failure.message().c_str());
      return kExitBadInput;
    }
    counters.add(results[i].counters);
    dlq.buffer() += results[i].dlq;
    dlq.maybe_flush();
  }

  if (store) {
    for (size_t i = 0; i < results.size(); ++i) {
      for (auto& op : results[i].operators) {
        if (auto s = store->replace_range(*op, options.inputs[i], results[i].last_position); !s) {
          std::fprintf(stderr, "canonry metrics: --store: %s\n", s.message().c_str());
          return kExitBadInput;
        }
      }
    }
  }

  uint64_t rows = 0;
  for (size_t m = 0; m < specs->size(); ++m) {
    metrics::WindowOperator& total = *results[0].operators[m];
    for (size_t i = 1; i < results.size(); ++i) total.merge(*results[i].operators[m]);
    rows += total.group_count();
    for (uint32_t group : total.sorted_groups()) {
      total.append_row(group, out.buffer());
      out.maybe_flush();
    }
  }
  bool written = out.close();
  bool dlq_written = dlq.close();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t to_dlq = counters.dlq_decode + counters.dlq_map + counters.dlq_metrics + counters.late;
  std::fprintf(stderr,
               "canonry metrics: %llu records in, %llu aggregated, %llu to the DLQ (decode %llu, "
               "map %llu, metrics %llu, late %llu), %llu deletes; %llu rows; %.1f MB in %.2f s\n",
               static_cast<unsigned long long>(counters.in),
               static_cast<unsigned long long>(counters.aggregated),
               static_cast<unsigned long long>(to_dlq),
               static_cast<unsigned long long>(counters.dlq_decode),
               static_cast<unsigned long long>(counters.dlq_map),
               static_cast<unsigned long long>(counters.dlq_metrics),
               static_cast<unsigned long long>(counters.late),
               static_cast<unsigned long long>(counters.deletes),
               static_cast<unsigned long long>(rows), counters.bytes / 1e6, seconds);
  if (!written || !dlq_written) {
    std::fprintf(stderr, "canonry metrics: writing the output failed (disk full?)\n");
    return kExitBadInput;
  }
  return kExitOk;
}

int run_dump(const DumpOptions& options) {
  auto store = metrics::open_store(options.store);
  if (!store) {
    std::fprintf(stderr, "canonry metrics dump: %s\n", store.status().message().c_str());
    return kExitBadInput;
  }
  std::string out;
  if (auto s = (*store)->dump(options.metric, out); !s) {
    std::fprintf(stderr, "canonry metrics dump: %s\n", s.message().c_str());
    return kExitBadInput;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitBadInput;
}

Command add_metrics(CLI::App& app) {
  auto options = std::make_shared<MetricsOptions>();
  auto dump = std::make_shared<DumpOptions>();
  CLI::App* sub = app.add_subcommand(
      "metrics", "Windowed metrics over canonical records (batch and backfill), or `dump` a store");
  sub->add_option("--spec", options->spec, "Metric spec (JSON: one spec or a list)")
      ->check(CLI::ExistingFile);
  sub->add_option("--map", options->map, "Map raw records with this mapping spec first")
      ->check(CLI::ExistingFile);
  sub->add_option("--format", options->format, "Input format: auto, json, bson, debezium, kcat")
      ->capture_default_str();
  sub->add_option("--threads", options->threads,
                  "Threads (inputs are aggregated in parallel; default: one per core)");
  sub->add_option("--dlq", options->dlq, "Write dead letters to FILE (default: standard error)");
  sub->add_option("--out", options->out, "Write rows to FILE (default: standard output)");
  sub->add_option("--store", options->store,
                  "Also write the partial aggregates to a store (sqlite:PATH, postgres://..., "
                  "clickhouse://host:port/db), replacing what earlier runs over the same inputs "
                  "and windows wrote");
  sub->add_option("inputs", options->inputs, "Input files, or - for standard input");

  CLI::App* dump_app =
      sub->add_subcommand("dump", "Print a metric's stored rows, partial aggregates merged");
  dump_app->add_option("--store", dump->store, "sqlite:PATH, postgres://..., clickhouse://...")
      ->required();
  dump_app->add_option("--metric", dump->metric, "The metricId")->required();

  return {sub, [options, dump, dump_app] {
            if (dump_app->parsed()) return run_dump(*dump);
            if (options->spec.empty() || options->inputs.empty()) {
              std::fprintf(stderr,
                           "canonry metrics: --spec and at least one INPUT are required "
                           "(or: canonry metrics dump --store URI --metric ID)\n");
              return kExitUsage;
            }
            return run_metrics(*options);
          }};
}

CANONRY_COMMAND(add_metrics);

}  // namespace
}  // namespace canonry::cli
