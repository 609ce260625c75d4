// `canonry`: the command line (DESIGN 4.1). Each subcommand lives in a file of its own.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"canonry: real-time data unification engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "canonry 0.1.0");
  const std::vector<canonry::cli::Command> commands = {
      canonry::cli::add_map(app),
      canonry::cli::add_check(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return 2;
}
