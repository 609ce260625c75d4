// `canonry discover` (DESIGN 4.1, 4.5): profiles the records of its inputs and writes the JSON
// Schema or the flat profile. Inputs are profiled in parallel, one partial profile per thread
// over a contiguous run of inputs, merged in order; a single input is split between a decoding
// thread and a profiling thread, so that both cores work on one large file too.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <new>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/arena.h"
#include "formats/reader.h"
#include "json/parser.h"
#include "json/writer.h"
#include "registry/client.h"
#include "schema/discover.h"
#include "schema/profile.h"

namespace canonry::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DiscoverOptions {
  std::string format = "auto";
  std::string output = "schema";
  std::string out;
  uint64_t sample = 0;
  uint64_t seed = 1;
  unsigned threads = 0;
  double required_threshold = 1.0;
  std::string register_url;  // a schema registry to register the schema at
  std::string source;        // names the subject raw.<source>.inferred
  std::vector<std::string> inputs;
};

// What every worker reports, read by the progress line and the summary.
struct Totals {
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> skipped{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex mutex;
  std::vector<std::string> first_errors;  // a few, for the summary
  std::optional<std::string> fatal;       // an input that could not be opened

  void error(const formats::Record& record, const Status& status) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex);
    if (first_errors.size() < 5) {
      first_errors.push_back(record.position.to_string() + ": " + status.to_string());
    }
  }
  void fail(std::string message) {
    std::lock_guard lock(mutex);
    if (!fatal) fatal = std::move(message);
  }
};

std::unique_ptr<formats::RecordReader> open_input(const std::string& path,
                                                  const formats::ReaderOptions& options,
                                                  Totals& totals) {
  auto reader = formats::open_reader(path, options);
  if (!reader) {
    totals.fail(path + ": " + reader.status().message());
    return nullptr;
  }
  return std::move(reader.value());
}

// Reads `reader` to its end, handing each decoded document to `consume` (with the arena that
// holds it, reset after the call).
template <typename Consume>
void drain(formats::RecordReader& reader, Totals& totals, Consume&& consume) {
  Arena arena;
  formats::Record record;
  Status error;
  uint64_t reported_bytes = 0;
  uint64_t since_report = 0;
  while (true) {
    auto next = reader.next(arena, record, error);
    if (next == formats::RecordReader::Next::kEnd) break;
    if (next == formats::RecordReader::Next::kError) {
      totals.error(record, error);
    } else if (record.document.is_null() && record.op == formats::Op::kDelete) {
      totals.skipped.fetch_add(1, std::memory_order_relaxed);
    } else {
      consume(record.document);
      totals.records.fetch_add(1, std::memory_order_relaxed);
    }
    arena.reset();
    if (++since_report == 4096) {
      since_report = 0;
      uint64_t now = reader.bytes_read();
      totals.bytes.fetch_add(now - reported_bytes, std::memory_order_relaxed);
      reported_bytes = now;
    }
  }
  totals.bytes.fetch_add(reader.bytes_read() - reported_bytes, std::memory_order_relaxed);
  totals.skipped.fetch_add(reader.skipped(), std::memory_order_relaxed);
}

// One input split over two threads: this thread decodes batches of documents into arenas, a
// second one profiles them; two batches circulate so that neither waits on the other for long.
class PipelinedInput {
 public:
  PipelinedInput(schema::Profile& profile, Totals& totals) : profile_(profile), totals_(totals) {}

  void run(formats::RecordReader& reader) {
    std::thread profiler([this] { profile_batches(); });
    Batch* batch = take(free_);
    formats::Record record;
    Status error;
    uint64_t reported_bytes = 0;
    size_t batch_bytes = 0;
    while (true) {
      auto next = reader.next(batch->arena, record, error);
      if (next == formats::RecordReader::Next::kEnd) break;
      if (next == formats::RecordReader::Next::kError) {
        totals_.error(record, error);
      } else if (record.document.is_null() && record.op == formats::Op::kDelete) {
        totals_.skipped.fetch_add(1, std::memory_order_relaxed);
      } else {
        // A reader's values may borrow its buffer until the next record; a batch lives longer.
        batch->documents.push_back(json::deep_copy(record.document, batch->arena));
        // The record's bytes stand for what its document holds in the arena (whose blocks stay
        // reserved across resets, so it cannot tell what one batch uses).
        batch_bytes += record.raw.size();
      }
      if (batch->documents.size() == kBatchDocuments || batch_bytes >= kBatchBytes) {
        put(full_, batch);
        batch = take(free_);
        batch_bytes = 0;
        uint64_t now = reader.bytes_read();
        totals_.bytes.fetch_add(now - reported_bytes, std::memory_order_relaxed);
        reported_bytes = now;
      }
    }
    put(full_, batch);
    put(full_, nullptr);
    profiler.join();
    totals_.bytes.fetch_add(reader.bytes_read() - reported_bytes, std::memory_order_relaxed);
    totals_.skipped.fetch_add(reader.skipped(), std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kBatchDocuments = 2048;
  static constexpr size_t kBatchBytes = 8 << 20;
  struct Batch {
    Arena arena{1 << 20};
    std::vector<json::Value> documents;
  };

  Batch* take(std::queue<Batch*>& queue) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue.empty(); });
    Batch* batch = queue.front();
    queue.pop();
    return batch;
  }
  void put(std::queue<Batch*>& queue, Batch* batch) {
    {
      std::lock_guard lock(mutex_);
      queue.push(batch);
    }
    changed_.notify_all();
  }
  void profile_batches() {
    while (Batch* batch = take(full_)) {
      for (const json::Value& document : batch->documents) profile_.add(document);
      totals_.records.fetch_add(batch->documents.size(), std::memory_order_relaxed);
      batch->documents.clear();
      batch->arena.reset();
      put(free_, batch);
    }
  }

  schema::Profile& profile_;
  Totals& totals_;
  Batch batches_[3];
  std::mutex mutex_;
  std::condition_variable changed_;
  std::queue<Batch*> free_{std::deque<Batch*>{&batches_[0], &batches_[1], &batches_[2]}};
  std::queue<Batch*> full_;
};

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

// Prints a progress line on stderr every few seconds until `done`.
class Progress {
 public:
  explicit Progress(Totals& totals) : totals_(totals), start_(Clock::now()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Progress() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!changed_.wait_for(lock, std::chrono::seconds(3), [&] { return done_; })) {
      uint64_t bytes = totals_.bytes.load();
      double s = seconds();
      std::fprintf(stderr, "discover: %llu records, %s, %.0f MB/s\n",
                   static_cast<unsigned long long>(totals_.records.load()),
                   megabytes(bytes).c_str(), static_cast<double>(bytes) / 1e6 / s);
    }
  }
  Totals& totals_;
  Clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread thread_;
};

int run_discover(const DiscoverOptions& opts) {
  auto format = formats::parse_format(opts.format);
  if (!format) {
    std::cerr << "canonry discover: " << format.status().message() << "\n";
    return kExitUsage;
  }
  if (!opts.register_url.empty() && opts.output != "schema") {
    std::cerr << "canonry discover: --register needs --output schema\n";
    return kExitUsage;
  }
  if (opts.output != "schema" && opts.output != "profile") {
    std::cerr << "canonry discover: --output must be schema or profile, not '" << opts.output
              << "'\n";
    return kExitUsage;
  }
  formats::ReaderOptions reader_options;
  reader_options.format = *format;

  size_t n = opts.inputs.size();
  unsigned threads =
      opts.threads != 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  Totals totals;
  bool sampling = opts.sample > 0;
  bool pipelined = !sampling && threads >= 2 * n;
  // Each worker takes a contiguous run of the inputs and folds them into one partial profile (or
  // sample), and the partials are merged in worker order: the result is the profile of the
  // inputs in their order, and memory grows with the workers, not with the inputs.
  size_t workers = pipelined ? n : std::min<size_t>(threads, n);
  std::vector<schema::Profile> profiles(workers);
  std::vector<schema::Reservoir> reservoirs;
  for (size_t w = 0; w < workers; ++w) reservoirs.emplace_back(opts.sample, opts.seed + w);
  auto worker = [&](size_t w) {
    for (size_t i = w * n / workers; i < (w + 1) * n / workers; ++i) {
      // Debezium updates that carry only updateDescription apply to the document last seen for
      // their key: within one input, as inputs are read in parallel.
      auto raw_store = formats::make_memory_raw_store();
      formats::ReaderOptions options = reader_options;
      options.raw_store = raw_store.get();
      auto reader = open_input(opts.inputs[i], options, totals);
      if (!reader) continue;
      if (pipelined) {
        PipelinedInput(profiles[w], totals).run(*reader);
      } else if (sampling) {
        schema::Reservoir& reservoir = reservoirs[w];
        drain(*reader, totals, [&](const json::Value& document) {
          if (reservoir.offer()) reservoir.keep(json::to_json(document));
        });
      } else {
        drain(*reader, totals, [&](const json::Value& document) { profiles[w].add(document); });
      }
    }
  };
  double seconds;
  {
    Progress progress(totals);
    std::vector<std::thread> pool;
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(worker, w);
    worker(0);
    for (auto& t : pool) t.join();
    seconds = progress.seconds();
  }
  if (totals.fatal) {
    std::cerr << "canonry discover: " << *totals.fatal << "\n";
    return kExitBadInput;
  }

  schema::Profile profile;
  if (sampling) {
    json::Parser parser;
    Arena arena;
    for (const std::string& text : schema::Reservoir::merge(reservoirs, opts.sample, opts.seed)) {
      auto document = parser.parse(text, arena);
      if (document) profile.add(*document);
      arena.reset();
    }
  } else {
    for (const schema::Profile& partial : profiles) profile.merge(partial);
  }

  std::string output;
  if (opts.output == "profile") {
    profile.write_lines(output);
  } else {
    schema::SchemaOptions schema_options;
    schema_options.required_threshold = opts.required_threshold;
    output = schema::profile_to_schema(profile, schema_options);
  }
  if (opts.out.empty()) {
    std::fwrite(output.data(), 1, output.size(), stdout);
    std::fflush(stdout);
  } else {
    std::ofstream file(opts.out, std::ios::binary);
    file.write(output.data(), static_cast<std::streamsize>(output.size()));
    if (!file.flush()) {
      std::cerr << "canonry discover: cannot write " << opts.out << "\n";
      return kExitBadInput;
    }
  }

  if (!opts.register_url.empty()) {
    // The source's name: --source, else the first input's file name without its extensions.
    std::string source = opts.source;
    if (source.empty()) {
      source = std::filesystem::path(opts.inputs.front()).filename().string();
      source = source.substr(0, source.find('.'));
    }
    std::string subject = "raw." + source + ".inferred";
    auto registered = registry::register_json_schema(opts.register_url, subject, output);
    if (!registered) {
      std::cerr << "canonry discover: " << registered.status().message() << "\n";
      return kExitBadInput;
    }
    std::cerr << "discover: registered subject " << subject << ", schema id " << registered->id
              << "\n";
  }

  uint64_t records = totals.records.load();
  uint64_t errors = totals.errors.load();
  std::cerr << "discover: " << records << (records == 1 ? " record" : " records");
  if (sampling) std::cerr << " (" << profile.documents() << " sampled)";
  std::cerr << ", " << errors << (errors == 1 ? " decode error" : " decode errors");
  if (uint64_t skipped = totals.skipped.load(); skipped > 0)
    std::cerr << ", " << skipped << " skipped";
  std::cerr << "\n";
  for (const std::string& e : totals.first_errors) std::cerr << "discover: " << e << "\n";
  uint64_t bytes = totals.bytes.load();
  char rate[96];
  std::snprintf(rate, sizeof rate, "discover: %s in %.2f s (%.0f MB/s)\n", megabytes(bytes).c_str(),
                seconds, seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0);
  std::cerr << rate;
  return kExitOk;
}

Command add_discover(CLI::App& app) {
  auto opts = std::make_shared<DiscoverOptions>();
  CLI::App* sub = app.add_subcommand("discover", "Discover the schema and statistics of records");
  sub->add_option("--format", opts->format, "Input format: auto, json, bson, debezium, kcat");
  sub->add_option("--output", opts->output, "schema (JSON Schema 2020-12) or profile (JSON lines)");
  sub->add_option("--out", opts->out, "Write to this file instead of standard output");
  sub->add_option("--sample", opts->sample,
                  "Profile a uniform sample of this many records (reservoir sampling)");
  sub->add_option("--seed", opts->seed, "Random seed of --sample");
  sub->add_option("--threads", opts->threads, "Threads to use (default: all cores)");
  sub->add_option("--required-threshold", opts->required_threshold,
                  "Presence from which a member is listed in `required` (default 1.0)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--register", opts->register_url,
                  "Register the schema at this schema registry (http://HOST:PORT) as subject "
                  "raw.<source>.inferred");
  sub->add_option("--source", opts->source,
                  "Source name of the subject (default: the first input's name without extension)");
  sub->add_option("inputs", opts->inputs, "Input files, - for standard input")->required();
  return {sub, [opts] { return run_discover(*opts); }};
}

CANONRY_COMMAND(add_discover);

}  // namespace
}  // namespace canonry::cli
