// The window operator alone (issue 7 target: >= 5M records/s on one core after parsing): canonical
// orders parsed once into memory, then WindowOperator::add over them again and again. Usage:
//   canonry_metrics_bench CANONICAL.jsonl [google-benchmark flags]
// The first argument is a file of canonical records (bench/metrics/run.sh passes the first 200000
// of its input); its spec is the one bench/metrics/run.sh times against DuckDB.
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

std::vector<canonry::json::Value>* g_records = nullptr;
std::string g_spec_path;

void run_operator(benchmark::State& state, const std::string& spec_path) {
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
  canonry::Arena arena(64 << 20);
  canonry::json::Parser parser;
  std::vector<canonry::json::Value> records;
  std::string line;
  while (std::getline(in, line)) {
    auto value = parser.parse(line, arena);
    if (value) records.push_back(*value);
  }
  g_records = &records;
  int next = 2;
  std::vector<std::string> specs;
  while (next < argc && argv[next][0] != '-') specs.push_back(argv[next++]);
  for (const std::string& spec : specs) {
    std::string name = "WindowOperator/" + spec.substr(spec.rfind('/') + 1);
    benchmark::RegisterBenchmark(name.c_str(), [spec](benchmark::State& state) {
      run_operator(state, spec);
    })->Unit(benchmark::kMillisecond);
  }
  int bench_argc = 1 + (argc - next);
  std::vector<char*> bench_argv{argv[0]};
  for (int i = next; i < argc; ++i) bench_argv.push_back(argv[i]);
  benchmark::Initialize(&bench_argc, bench_argv.data());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
