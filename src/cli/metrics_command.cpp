// canonry metrics --spec METRICS [--map SPEC] [--format F] [--threads N] [--dlq FILE] [--out FILE]
//                 [--store URI] INPUT...
// canonry metrics dump --store URI --metric ID
//
// Batch and backfill metrics over files (DESIGN 4.6): each input is one partition with its own
// watermark, aggregated on its own thread into partial aggregates that are merged at the end.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
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
  size_t min_part_bytes = 8 << 20;
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

// A part of an input: the whole of it, or (a large JSON-lines file on several threads) a byte
// range starting at a line.
struct Part {
  size_t input = 0;
  std::string_view bytes;  // the range, mapped; empty: read the input by its path
  int64_t begin = 0;       // its byte offset in the input
  bool first = true;       // the input's first part
};

// A record a metric took in a part other than the first: where to find it again if an earlier
// part's records turn out to have moved the watermark past all its windows.
struct Taken {
  uint32_t seq;
  int64_t latest_window_end;
  int64_t event_time;
  int64_t max_time_before;  // the part's largest event time before it (INT64_MIN: none)
  int64_t offset;           // in the part
  uint32_t size;
  int64_t line;  // in the part
  // Already late within its part: its DLQ line waits for the merge, which knows the watermark a
  // sequential reading had at this record.
  bool late_in_part = false;
};

// A dead letter of a part, written once the parts before it have said how many lines they hold.
struct PartLetter {
  uint64_t key;  // by record and metric, to put the letters back in input order
  mapping::Step step;
  Status status;
  std::string path;
  int64_t line;    // in the part
  int64_t offset;  // in the part
  std::string raw;
  bool raw_is_binary;
};

// What one part produced: a partial aggregate per metric, its dead letters, its counts.
struct PartResult {
  std::vector<std::unique_ptr<metrics::WindowOperator>> operators;
  std::vector<PartLetter> dlq;
  int64_t lines = 0;  // in the part: the next part's first line follows them
  Counters counters;
  std::vector<std::vector<Taken>> taken;  // per metric
  std::vector<uint8_t> accepted;          // per record: how many metrics took it
  Status failure;                         // the input could not be read at all
};

uint64_t dlq_key(uint64_t seq, size_t slot) {
  return (seq << 8) | slot;
}

Status late_status(const metrics::WindowOperator& op, int64_t event_time, int64_t watermark) {
  return Status(ErrorCode::kMetric,
                "metric \"" + op.spec().metric_id + "\": event time " +
                    format_rfc3339_millis(event_time) + " is behind the watermark " +
                    format_rfc3339_millis(watermark) + " (lateness " +
                    std::to_string(op.spec().lateness_ms) + " ms)",
                op.spec().time_text);
}

void aggregate_part(const std::string& input, const Part& part,
                    const std::vector<metrics::MetricSpec>& specs, const mapping::Plan* plan,
                    const formats::ReaderOptions& reader_options, PartResult& result) {
  for (const auto& spec : specs) {
    result.operators.push_back(std::make_unique<metrics::WindowOperator>(spec));
  }
  result.taken.resize(specs.size());
  auto reader = part.bytes.empty() ? formats::open_reader(input, reader_options)
                                   : formats::open_mapped_reader(part.bytes, input, reader_options);
  if (!reader) {
    result.failure = reader.status();
    return;
  }
  Arena arena(256 * 1024);
  formats::Record record;
  Status error;
  mapping::MapInfo info;
  mapping::MapError map_error;
  Counters& counters = result.counters;
  uint64_t seq = 0;
  auto dead_letter = [&](size_t slot, mapping::Step step, const Status& status,
                         std::string_view path) {
    result.dlq.push_back({dlq_key(seq, slot), step, status, std::string(path), record.position.line,
                          record.position.offset, std::string(record.raw), record.raw_is_binary});
  };
  for (;; ++seq) {
    arena.reset();
    auto next = (*reader)->next(arena, record, error);
    if (next == formats::RecordReader::Next::kEnd) {
      // Counted by the reader rather than by a pass over the part of its own.
      result.lines = record.position.line;
      break;
    }
    ++counters.in;
    if (!part.first) result.accepted.push_back(0);
    if (next == formats::RecordReader::Next::kError) {
      ++counters.dlq_decode;
      dead_letter(0, mapping::Step::kDecode, error, {});
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
      dead_letter(0, mapping::Step::kMap, map_error.status, map_error.dst);
      continue;
    }
    bool aggregated = false;
    for (size_t m = 0; m < result.operators.size(); ++m) {
      metrics::WindowOperator& op = *result.operators[m];
      const int64_t max_time_before = op.max_event_time().value_or(INT64_MIN);
      switch (op.add(canonical, error)) {
        case metrics::WindowOperator::Outcome::kAdded:
          aggregated = true;
          if (!part.first) {
            ++result.accepted.back();
            result.taken[m].push_back(
                {static_cast<uint32_t>(seq), op.last_latest_window_end(), op.last_event_time(),
                 max_time_before, record.position.offset, static_cast<uint32_t>(record.raw.size()),
                 record.position.line});
          }
          break;
        case metrics::WindowOperator::Outcome::kLate:
          ++counters.late;
          if (!part.first) {
            result.taken[m].push_back(
                {static_cast<uint32_t>(seq), op.last_latest_window_end(), op.last_event_time(),
                 max_time_before, record.position.offset, static_cast<uint32_t>(record.raw.size()),
                 record.position.line, true});
            break;
          }
          dead_letter(
              m + 1, mapping::Step::kLate,
              late_status(op, op.last_event_time(), *op.max_event_time() - op.spec().lateness_ms),
              {});
          break;
        case metrics::WindowOperator::Outcome::kError: {
          ++counters.dlq_metrics;
          Status tagged(error.code(), "metric \"" + op.spec().metric_id + "\": " + error.message(),
                        error.path());
          dead_letter(m + 1, mapping::Step::kMetrics, tagged, {});
          break;
        }
      }
    }
    if (aggregated) ++counters.aggregated;
  }
  counters.bytes = (*reader)->bytes_read();
}

// Merges an input's parts in order into its first, as if one thread had read the input: a later
// part's windows that an earlier part had already closed are dropped, and its records whose
// windows were all closed go to the DLQ as late, exactly as a sequential reading decides.
// Dead letters end up with lines and offsets in the input.
void merge_parts(const std::vector<const Part*>& parts, std::vector<PartResult*>& results) {
  PartResult& total = *results[0];
  int64_t first_line = 1 + total.lines;  // of the part merged next
  for (size_t k = 1; k < results.size(); ++k) {
    PartResult& later = *results[k];
    const Part& part = *parts[k];
    for (size_t m = 0; m < total.operators.size(); ++m) {
      metrics::WindowOperator& before = *total.operators[m];
      metrics::WindowOperator& op = *later.operators[m];
      const std::optional<int64_t> max_time = before.max_event_time();
      const int64_t lateness = op.spec().lateness_ms;
      if (max_time) op.drop_windows_ending_by(*max_time - lateness);
      for (const Taken& t : later.taken[m]) {
        int64_t max_before = std::max(max_time.value_or(INT64_MIN), t.max_time_before);
        if (!t.late_in_part) {
          if (!max_time || t.latest_window_end > *max_time - lateness) continue;
          ++later.counters.late;
          if (--later.accepted[t.seq] == 0) --later.counters.aggregated;
        }
        // The watermark a sequential reading had at this record.
        later.dlq.push_back(
            {dlq_key(t.seq, m + 1), mapping::Step::kLate,
             late_status(op, t.event_time, max_before - lateness), std::string(), t.line, t.offset,
             std::string(part.bytes.substr(static_cast<size_t>(t.offset), t.size)), false});
      }
      before.merge(op);
    }
    std::stable_sort(later.dlq.begin(), later.dlq.end(),
                     [](const auto& a, const auto& b) { return a.key < b.key; });
    for (PartLetter& letter : later.dlq) {
      letter.line += first_line - 1;
      letter.offset += part.begin;
      total.dlq.push_back(std::move(letter));
    }
    later.dlq.clear();
    first_line += later.lines;
    total.counters.add(later.counters);
  }
}

// Maps a JSON file, whose records are then read where they lie rather than copied into a read
// buffer (or through read()), and splits one of at least twice `min_part_bytes` into up to
// `count` parts at line starts; one part without bytes (read it by its path) for standard input,
// other formats, or when it cannot be mapped.
struct MappedInput {
  void* address = MAP_FAILED;
  size_t size = 0;
  ~MappedInput() {
    if (address != MAP_FAILED) munmap(address, size);
  }
};

std::vector<Part> split_input(size_t index, const std::string& path, unsigned count,
                              size_t min_part_bytes, const formats::ReaderOptions& options,
                              MappedInput& mapped) {
  std::vector<Part> whole{Part{index}};
  min_part_bytes = std::max<size_t>(min_part_bytes, 1);
  if (path == "-") return whole;
  struct stat info;
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || info.st_size == 0) return whole;
  // Only JSON documents are independent of each other; Debezium and kcat records may need the
  // documents before them (updates without `after`).
  auto probe = formats::open_reader(path, options);
  if (!probe || (*probe)->format() != formats::Format::kJson) return whole;
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return whole;
  mapped.size = static_cast<size_t>(info.st_size);
  mapped.address = mmap(nullptr, mapped.size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapped.address == MAP_FAILED) return whole;
  std::string_view bytes(static_cast<const char*>(mapped.address), mapped.size);
  count = static_cast<unsigned>(
      std::clamp<size_t>(std::min<size_t>(count, mapped.size / min_part_bytes), 1, count));
  // Parts start at line starts, which are document starts only in JSON lines: not when the
  // first document spans lines (pretty-printed) or is not the first line (a top-level array).
  if (count > 1) {
    Arena arena;
    formats::Record first;
    Status error;
    std::string_view first_line = bytes.substr(0, bytes.find('\n'));
    if (first_line.ends_with('\r')) first_line.remove_suffix(1);
    if ((*probe)->next(arena, first, error) == formats::RecordReader::Next::kEnd ||
        first.position.line != 1 || first.raw != first_line) {
      count = 1;
    }
  }
  std::vector<Part> parts;
  size_t begin = 0;
  for (unsigned k = 0; k < count && begin < bytes.size(); ++k) {
    size_t end = k + 1 == count ? bytes.size() : bytes.size() / count * (k + 1);
    if (end < begin) end = begin;
    size_t newline = bytes.find('\n', end);
    end = newline == std::string_view::npos ? bytes.size() : newline + 1;
    parts.push_back(
        Part{index, bytes.substr(begin, end - begin), static_cast<int64_t>(begin), k == 0});
    begin = end;
  }
  return parts;
}

// The top-level member names every path of the specs starts with ("created_at" of
// "$.created_at"); false when a path starts otherwise ("$..total", "$['a b']", "$[0]"), and then
// every member is read.
bool top_level_members(const std::vector<metrics::MetricSpec>& specs,
                       std::vector<std::string>& names) {
  auto add = [&](const std::string& path) {
    if (path.size() < 3 || path[0] != '$' || path[1] != '.') return false;
    size_t end = 2;
    while (end < path.size() &&
           (std::isalnum(static_cast<unsigned char>(path[end])) || path[end] == '_')) {
      ++end;
    }
    if (end == 2 || (end < path.size() && path[end] != '.' && path[end] != '[')) return false;
    std::string name = path.substr(2, end - 2);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    return true;
  };
  for (const auto& spec : specs) {
    if (!add(spec.time_text)) return false;
    for (const auto& d : spec.dimensions) {
      if (!add(d.path.text)) return false;
    }
    for (const auto& m : spec.measures) {
      if (m.has_field && !add(m.field.text)) return false;
    }
  }
  return true;
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
  // Canonical records are read for the top-level members the metrics use and nothing else.
  std::vector<std::string> members;
  if (plan == nullptr && top_level_members(*specs, members)) {
    reader_options.parse.top_level_members = &members;
  }

  auto started = std::chrono::steady_clock::now();
  unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  // Each input is a partition with its own watermark; a large JSON-lines input is also split
  // into parts read in parallel and merged back in order (merge_parts).
  std::vector<MappedInput> mapped(options.inputs.size());
  std::vector<Part> parts;
  for (size_t i = 0; i < options.inputs.size(); ++i) {
    for (const Part& part : split_input(i, options.inputs[i], threads, options.min_part_bytes,
                                        reader_options, mapped[i])) {
      parts.push_back(part);
    }
  }
  std::vector<PartResult> results(parts.size());
  threads = std::min<unsigned>(threads, static_cast<unsigned>(parts.size()));
  // Standard input carries state across records (Debezium updates find earlier documents in the
  // raw store), so each thread has a raw store of its own.
  std::atomic<size_t> next_part{0};
  auto worker = [&] {
    auto own_raw_store = formats::make_memory_raw_store();
    formats::ReaderOptions own = reader_options;
    own.raw_store = own_raw_store.get();
    for (size_t i = next_part++; i < parts.size(); i = next_part++) {
      aggregate_part(options.inputs[parts[i].input], parts[i], *specs, plan.get(), own, results[i]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();

  std::string_view mapping_id = plan != nullptr ? std::string_view(plan->mapping_id()) : "";
  std::vector<PartResult*> inputs;  // each input's merged result
  for (size_t p = 0; p < parts.size();) {
    std::vector<const Part*> input_parts;
    std::vector<PartResult*> input_results;
    size_t input = parts[p].input;
    for (; p < parts.size() && parts[p].input == input; ++p) {
      if (!results[p].failure) {
        std::fprintf(stderr, "canonry metrics: %s\n", results[p].failure.message().c_str());
        return kExitBadInput;
      }
      input_parts.push_back(&parts[p]);
      input_results.push_back(&results[p]);
    }
    merge_parts(input_parts, input_results);
    inputs.push_back(input_results[0]);
  }

  Counters counters;
  for (size_t i = 0; i < inputs.size(); ++i) {
    counters.add(inputs[i]->counters);
    // In input order: each part's lines are (merge_parts), and the parts follow each other.
    for (const PartLetter& letter : inputs[i]->dlq) {
      formats::Position position;
      position.source = options.inputs[i];
      position.line = letter.line;
      position.offset = letter.offset;
      mapping::append_dead_letter(dlq.buffer(),
                                  {letter.step, &letter.status, letter.path, mapping_id, &position,
                                   letter.raw, letter.raw_is_binary});
      dlq.maybe_flush();
    }
  }

  if (store) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (auto& op : inputs[i]->operators) {
        if (auto s = store->replace_range(*op, options.inputs[i],
                                          static_cast<int64_t>(inputs[i]->counters.bytes));
            !s) {
          std::fprintf(stderr, "canonry metrics: --store: %s\n", s.message().c_str());
          return kExitBadInput;
        }
      }
    }
  }

  uint64_t rows = 0;
  for (size_t m = 0; m < specs->size(); ++m) {
    metrics::WindowOperator& total = *inputs[0]->operators[m];
    for (size_t i = 1; i < inputs.size(); ++i) total.merge(*inputs[i]->operators[m]);
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
  sub->add_option("--min-part-bytes", options->min_part_bytes,
                  "With several threads, JSON-lines inputs of at least twice this size are read "
                  "in parts of at least this size in parallel")
      ->capture_default_str();
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
