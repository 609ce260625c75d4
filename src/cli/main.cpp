// `canonry`: the command line (DESIGN 4.1). Each subcommand lives in a file of its own.
#include <CLI/CLI.hpp>

#include <algorithm>

#include "cli/commands.h"

namespace canonry::cli {
std::vector<CommandFactory>& command_factories() {
  static std::vector<CommandFactory> factories;
  return factories;
}
}  // namespace canonry::cli

int main(int argc, char** argv) {
  CLI::App app{"canonry: real-time data unification engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "canonry 0.1.0");
  std::vector<canonry::cli::Command> commands;
  for (auto factory : canonry::cli::command_factories()) commands.push_back(factory(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? canonry::cli::kExitOk : canonry::cli::kExitUsage;
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return canonry::cli::kExitUsage;
}
