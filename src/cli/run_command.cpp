// canonry run PIPELINE.yaml [--until-end] [--check] [--listen HOST:PORT]
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "pipeline/config.h"
#include "pipeline/routes.h"
#include "pipeline/runtime.h"
#include "registry/routes.h"
#include "server/server.h"

namespace canonry::cli {
namespace {

struct RunOptions {
  std::string config;
  bool until_end = false;
  bool check = false;
  std::string listen;
};

std::atomic<bool> stop_requested{false};

// The first SIGTERM or SIGINT asks for a graceful stop (flush, commit, exit 0); a second one
// kills as usual.
extern "C" void request_stop(int signal) {
  stop_requested.store(true);
  std::signal(signal, SIG_DFL);
}

int run_pipeline(const RunOptions& options) {
  pipeline::PipelineConfig config;
  try {
    config = pipeline::load_pipeline_config(options.config, {.until_end = options.until_end});
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "canonry run: %s\n", e.what());
    return kExitBadInput;
  }
  if (!options.listen.empty()) {
    if (!config.server) config.server = pipeline::ServerConfig{};
    config.server->listen = options.listen;
    config.server->where = "--listen";
  }
  if (options.check) {
    std::fprintf(stderr, "canonry run: %s: ok (%zu sources, %zu sinks)\n", options.config.c_str(),
                 config.sources.size(), config.sinks.size() + (config.state ? 1 : 0));
    return kExitOk;
  }
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  pipeline::Runtime runtime(config);
  std::unique_ptr<server::Server> http;
  if (config.server) {
    server::Options server_options;
    server_options.listen = config.server->listen;
    server_options.threads = 2;
    http = std::make_unique<server::Server>(server_options);
    pipeline::add_pipeline_routes(*http, runtime, config.state.get());
    // `registry: embedded`: the pipeline serves its registry too (the Confluent API at the root).
    if (config.embedded_registry) registry::add_routes(*http, *config.embedded_registry);
    if (Status started = http->start(); !started) {
      std::fprintf(stderr, "canonry run: %s: server: %s\n", config.server->where.c_str(),
                   started.message().c_str());
      return kExitBadInput;
    }
    std::fprintf(stderr, "canonry run: %s: serving http://%s (/metrics, /api/v1/entities/...)\n",
                 config.name.c_str(), http->address().c_str());
  }
  pipeline::RunOptions run;
  run.until_end = options.until_end;
  run.stop = &stop_requested;
  run.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  Status status = runtime.run(run);
  if (http) http->stop();
  if (!status) {
    std::fprintf(stderr, "canonry run: %s: %s\n", config.name.c_str(), status.message().c_str());
    return kExitBadInput;
  }
  return kExitOk;
}

Command add_run(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run", "Run a pipeline: sources through mappings into state, events and DLQ sinks");
  sub->add_option("config", options->config, "Pipeline config (YAML, see docs/pipeline.md)")
      ->required();
  sub->add_flag("--until-end", options->until_end,
                "Exit once every source is drained and every sink flushed");
  sub->add_flag("--check", options->check, "Only check the config (and everything it names)");
  sub->add_option("--listen", options->listen,
                  "Serve /metrics and /api/v1 on HOST:PORT (overrides server.listen; port 0 picks "
                  "a free one)");
  return {sub, [options] { return run_pipeline(*options); }};
}

CANONRY_COMMAND(add_run);

}  // namespace
}  // namespace canonry::cli
