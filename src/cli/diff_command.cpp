// `canonry diff OLD NEW` (DESIGN 4.1): drift between two discovered schemas or profiles. The
// changes go to standard output as JSON (or text with --format text), a short summary for people
// to standard error. Exit 0 whatever the changes, unless --fail-on breaking asks for 3 when a
// change breaks consumers; 1 when an input cannot be read.
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "common/file.h"
#include "schema/diff.h"

namespace canonry::cli {
namespace {

constexpr int kExitBreaking = 3;

struct DiffOptions {
  std::string old_path;
  std::string new_path;
  std::string format = "json";
  std::string fail_on = "none";
  double presence_threshold = 0.1;
  double required_threshold = 1.0;
};

Result<schema::Shape> load(const std::string& path, double required_threshold) {
  auto text = read_file(path);
  if (!text) return Status(ErrorCode::kIo, path + ": cannot read");
  auto shape = schema::load_shape(*text, required_threshold);
  if (!shape) {
    const Status& s = shape.status();
    return Status(s.code(),
                  path + ": " + s.message() + (s.path().empty() ? "" : " at " + s.path()));
  }
  return shape;
}

int run_diff(const DiffOptions& opts) {
  auto old_shape = load(opts.old_path, opts.required_threshold);
  if (!old_shape) {
    std::cerr << "canonry diff: " << old_shape.status().message() << "\n";
    return kExitBadInput;
  }
  auto new_shape = load(opts.new_path, opts.required_threshold);
  if (!new_shape) {
    std::cerr << "canonry diff: " << new_shape.status().message() << "\n";
    return kExitBadInput;
  }
  schema::DiffOptions options;
  options.presence_threshold = opts.presence_threshold;
  auto changes = schema::diff_shapes(*old_shape, *new_shape, options);
  std::string text = schema::changes_to_text(changes);
  if (opts.format == "text") {
    std::cout << text;
  } else {
    std::cout << schema::changes_to_json(changes);
    // The verdict line only: the full list is on standard output already.
    std::cerr << "diff: " << text.substr(text.rfind('\n', text.size() - 2) + 1);
  }
  std::cout.flush();
  bool breaking = false;
  for (const auto& c : changes) breaking |= c.breaking;
  return breaking && opts.fail_on == "breaking" ? kExitBreaking : kExitOk;
}

Command add_diff(CLI::App& app) {
  auto opts = std::make_shared<DiffOptions>();
  CLI::App* sub =
      app.add_subcommand("diff", "Drift between two discovered schemas or profiles (OLD NEW)");
  sub->add_option("old", opts->old_path, "The earlier schema or profile")->required();
  sub->add_option("new", opts->new_path, "The later schema or profile")->required();
  sub->add_option("--format", opts->format, "json (default) or text")
      ->check(CLI::IsMember({"json", "text"}));
  sub->add_option("--fail-on", opts->fail_on, "breaking: exit 3 when a change breaks consumers")
      ->check(CLI::IsMember({"none", "breaking"}));
  sub->add_option("--presence-threshold", opts->presence_threshold,
                  "Report presence changes at least this large (default 0.1)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--required-threshold", opts->required_threshold,
                  "For profiles: presence from which a member counts as required (default 1.0)")
      ->check(CLI::Range(0.0, 1.0));
  return {sub, [opts] { return run_diff(*opts); }};
}

CANONRY_COMMAND(add_diff);

}  // namespace
}  // namespace canonry::cli
