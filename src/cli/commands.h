// The subcommands register themselves: each command's file defines a function that declares its
// options on the application and returns the action to run when it was chosen, and registers it
// with CANONRY_COMMAND, so adding a command never touches another file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace canonry::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

using CommandFactory = Command (*)(CLI::App& app);

std::vector<CommandFactory>& command_factories();

struct CommandRegistration {
  explicit CommandRegistration(CommandFactory factory) { command_factories().push_back(factory); }
};

// Exit codes of DESIGN 4.1.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;
inline constexpr int kExitUsage = 2;

}  // namespace canonry::cli

#define CANONRY_COMMAND(factory)                                               \
  static const ::canonry::cli::CommandRegistration canonry_command_##factory { \
    factory                                                                    \
  }
