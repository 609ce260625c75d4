// `canonry serve [--listen ADDR] [--data DIR] [--token-file F]` (DESIGN 4.1, 4.8): the HTTP
// server with the Confluent-compatible schema registry at the root. Runs until SIGINT or SIGTERM.
// Prints "canonry serve: listening on http://HOST:PORT" on standard error once it accepts
// connections (with --listen HOST:0 that line tells the port chosen).
#include <csignal>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/file.h"
#include "registry/registry.h"
#include "registry/routes.h"
#include "server/server.h"

namespace canonry::cli {
namespace {

struct ServeOptions {
  server::Options server;
  std::string data = "canonry-data";
  std::string token_file;
  std::string json_policy = "strict";
  std::string default_compatibility = "BACKWARD";
  std::string sync = "os";
};

// The token is the file's first line; surrounding white space is not part of it.
Result<std::string> read_token(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  std::string_view token = *text;
  token = token.substr(0, token.find('\n'));
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.remove_suffix(1);
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) {
    token.remove_prefix(1);
  }
  if (token.empty()) return Status(ErrorCode::kInvalidArgument, path + ": the token file is empty");
  return std::string(token);
}

int run_serve(ServeOptions& options) {
  if (!options.token_file.empty()) {
    auto token = read_token(options.token_file);
    if (!token) {
      std::fprintf(stderr, "canonry serve: %s\n", token.status().to_string().c_str());
      return kExitBadInput;
    }
    options.server.bearer_token = std::move(*token);
  }
  registry::RegistryOptions registry_options;
  registry_options.json_policy = options.json_policy == "lenient" ? registry::JsonPolicy::kLenient
                                                                  : registry::JsonPolicy::kStrict;
  registry_options.default_compatibility = options.default_compatibility;
  registry_options.sync_commits = options.sync == "commit";
  auto registry = registry::Registry::open(options.data, registry_options);
  if (!registry) {
    std::fprintf(stderr, "canonry serve: %s\n", registry.status().to_string().c_str());
    return kExitBadInput;
  }
  // Block the stop signals before the server's threads start, so that they inherit the mask and
  // only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  server::Server server(options.server);
  registry::add_routes(server, **registry);
  if (Status started = server.start(); !started) {
    std::fprintf(stderr, "canonry serve: %s\n", started.to_string().c_str());
    return kExitBadInput;
  }
  std::fprintf(stderr, "canonry serve: listening on http://%s\n", server.address().c_str());
  std::fflush(stderr);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  std::fprintf(stderr, "canonry serve: stopped\n");
  return kExitOk;
}

Command add_serve(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* sub = app.add_subcommand("serve", "HTTP server: Confluent-compatible schema registry");
  sub->add_option("--listen", options->server.listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8081; port 0 picks a free one)");
  sub->add_option("--data", options->data, "folder of the registry's storage")
      ->capture_default_str();
  sub->add_option("--token-file", options->token_file,
                  "file whose first line is the bearer token that write endpoints then require");
  sub->add_option("--json-compatibility", options->json_policy,
                  "JSON Schema compatibility policy: strict (Confluent's default) or lenient")
      ->check(CLI::IsMember({"strict", "lenient"}))
      ->capture_default_str();
  sub->add_option("--default-compatibility", options->default_compatibility,
                  "compatibility level until PUT /config sets one")
      ->check(CLI::IsMember({"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                             "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}))
      ->capture_default_str();
  sub->add_option("--sync", options->sync,
                  "os: writes reach the OS before the answer (survive the process being killed); "
                  "commit: also fsync'd (survive power loss), slower")
      ->check(CLI::IsMember({"commit", "os"}))
      ->capture_default_str();
  sub->add_option("--threads", options->server.threads, "worker threads (default: one per core)");
  sub->add_option("--max-body", options->server.max_body_bytes,
                  "largest request body in bytes (default 1 MiB)");
  return {sub, [options] { return run_serve(*options); }};
}

CANONRY_COMMAND(add_serve);

}  // namespace
}  // namespace canonry::cli
