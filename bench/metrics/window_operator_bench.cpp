// The window operator alone (issue 7 target: >= 5M records/s on one core after parsing): canonical
// orders parsed, then WindowOperator::add over them, only the adds timed. Usage:
//   canonry_metrics_bench CANONICAL.jsonl SPEC.json... [google-benchmark flags]
// The first argument is a file of canonical records (bench/metrics/run.sh passes the first 200000
// of its input); the specs are those bench/metrics/run.sh times against DuckDB.
//
// Two ways, both timing the operator alone:
// - WindowOperator/batches/SPEC: the records are parsed 1024 at a time just before they are
//   added, so the operator finds them in the cache, as in both drivers (canonry metrics and the
//   pipeline's metrics sink add each record right after parsing it). The target.
// - WindowOperator/parsed-beforehand/SPEC: all records are parsed first (hundreds of MB), then
//   added; each record is a cache miss. An upper bound of the operator's cost.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/arena.h"
#include "json/parser.h"
#include "metrics/spec.h"
#include "metrics/window_operator.h"

namespace {

std::vector<std::string>* g_lines = nullptr;
std::vector<canonry::json::Value>* g_records = nullptr;  // all of g_lines, parsed

constexpr size_t kBatch = 1024;

void run_batches(benchmark::State& state, const std::string& spec_path) {
  auto specs = canonry::metrics::load_metric_specs_file(spec_path);
  if (!specs) {
    state.SkipWithError(specs.status().message().c_str());
    return;
  }
  canonry::Status error;
  canonry::Arena arena(4 << 20);
  canonry::json::Parser parser;
  std::vector<canonry::json::Value> batch;
  uint64_t added = 0;
  for (auto _ : state) {
    canonry::metrics::WindowOperator op(specs->front());
    for (size_t begin = 0; begin < g_lines->size(); begin += kBatch) {
      state.PauseTiming();
      arena.reset();
      batch.clear();
      for (size_t i = begin; i < std::min(begin + kBatch, g_lines->size()); ++i) {
        auto value = parser.parse((*g_lines)[i], arena);
        if (value) batch.push_back(*value);
      }
      state.ResumeTiming();
      for (const canonry::json::Value& record : batch) {
        added += op.add(record, error) == canonry::metrics::WindowOperator::Outcome::kAdded;
      }
    }
    benchmark::DoNotOptimize(op.group_count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_lines->size()));
  state.counters["added"] = static_cast<double>(added) / static_cast<double>(state.iterations());
}

void run_parsed_beforehand(benchmark::State& state, const std::string& spec_path) {
  auto specs = canonry::metrics::load_metric_specs_file(spec_path);
  if (!specs) {
    state.SkipWithError(specs.status().message().c_str());
    return;
  }
  canonry::Status error;
  uint64_t added = 0;
  for (auto _ : state) {
    canonry::metrics::WindowOperator op(specs->front());
    for (const canonry::json::Value& record : *g_records) {
      added += op.add(record, error) == canonry::metrics::WindowOperator::Outcome::kAdded;
    }
    benchmark::DoNotOptimize(op.group_count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_records->size()));
  state.counters["added"] = static_cast<double>(added) / static_cast<double>(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CANONICAL.jsonl SPEC.json... [benchmark flags]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  canonry::Arena arena(64 << 20);
  canonry::json::Parser parser;
  std::vector<canonry::json::Value> records;
  for (const std::string& text : lines) {
    auto value = parser.parse(text, arena);
    if (value) records.push_back(*value);
  }
  g_lines = &lines;
  g_records = &records;
  int next = 2;
  std::vector<std::string> specs;
  while (next < argc && argv[next][0] != '-') specs.push_back(argv[next++]);
  for (const std::string& spec : specs) {
    std::string file = spec.substr(spec.rfind('/') + 1);
    benchmark::RegisterBenchmark(("WindowOperator/batches/" + file).c_str(),
                                 [spec](benchmark::State& state) { run_batches(state, spec); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(
        ("WindowOperator/parsed-beforehand/" + file).c_str(),
        [spec](benchmark::State& state) { run_parsed_beforehand(state, spec); })
        ->Unit(benchmark::kMillisecond);
  }
  int bench_argc = 1 + (argc - next);
  std::vector<char*> bench_argv{argv[0]};
  for (int i = next; i < argc; ++i) bench_argv.push_back(argv[i]);
  benchmark::Initialize(&bench_argc, bench_argv.data());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
