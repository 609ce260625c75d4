// The subcommands. Each add_* function declares its options on `app` and returns the action that
// runs it when it was the one chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace canonry::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_map(CLI::App& app);
Command add_check(CLI::App& app);

}  // namespace canonry::cli
