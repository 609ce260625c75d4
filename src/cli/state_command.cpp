// canonry state dump --store URI --subject SUBJECT
#include <cstdio>

#include "cli/commands.h"
#include "cli/io.h"
#include "pipeline/connector.h"

namespace canonry::cli {
namespace {

struct StateDumpOptions {
  std::string store;
  std::string subject;
};

// One canonical entity per line, sorted by key (DESIGN 4.1).
int run_state_dump(const StateDumpOptions& options) {
  std::unique_ptr<pipeline::StateStore> store;
  try {
    store = pipeline::open_state_store(options.store);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "canonry state dump: %s\n", e.what());
    return kExitBadInput;
  }
  OutputFile out;
  if (Status opened = out.open("-"); !opened) return kExitBadInput;
  Status dumped = store->dump(options.subject, [&](std::string_view, std::string_view document) {
    out.buffer() += document;
    out.buffer() += '\n';
    out.maybe_flush();
  });
  bool written = out.close();
  Status closed = store->close();
  if (!dumped || !closed) {
    std::fprintf(stderr, "canonry state dump: %s\n", (!dumped ? dumped : closed).message().c_str());
    return kExitBadInput;
  }
  return written ? kExitOk : kExitBadInput;
}

Command add_state(CLI::App& app) {
  auto options = std::make_shared<StateDumpOptions>();
  CLI::App* state = app.add_subcommand("state", "Read a pipeline's state store");
  state->require_subcommand(1);
  CLI::App* dump = state->add_subcommand(
      "dump", "Print the current canonical entities of a subject, one JSON line each, by key");
  dump->add_option("--store", options->store,
                   "State store URI (sqlite:var/state.db, postgres://..., mongodb://...)")
      ->required();
  dump->add_option("--subject", options->subject, "Subject (a mapping's target.subject)")
      ->required();
  return {state, [options] { return run_state_dump(*options); }};
}

CANONRY_COMMAND(add_state);

}  // namespace
}  // namespace canonry::cli
