// canonry check --spec SPEC [--source-schema S] [--target-schema T]
#include <cstdio>

#include "cli/commands.h"
#include "common/file.h"
#include "json/parser.h"
#include "mapping/check.h"
#include "mapping/plan.h"

namespace canonry::cli {
namespace {

struct CheckOptions {
  std::string spec;
  std::string source_schema;
  std::string target_schema;
};

Result<json::Value> load_schema(const std::string& path, Arena& arena) {
  auto text = read_file(path);
  if (!text) return Status(ErrorCode::kIo, path + ": cannot open the schema");
  json::ParseOptions options;
  options.extended_json = false;
  auto parsed = json::parse(*text, arena, options);
  if (!parsed)
    return Status(ErrorCode::kSchema, path + ": not valid JSON: " + parsed.status().message());
  if (!parsed->is_object() && !parsed->is_bool()) {
    return Status(ErrorCode::kSchema, path + ": a JSON Schema is an object or a boolean");
  }
  return *parsed;
}

int run_check(const CheckOptions& options) {
  auto spec = mapping::load_spec_file(options.spec);
  if (!spec) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return kExitBadInput;
  }
  auto plan = mapping::Plan::compile(*spec);
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.status().message().c_str());
    return kExitBadInput;
  }
  Arena arena;
  std::optional<json::Value> source, target;
  for (auto [path, slot] :
       {std::pair{&options.source_schema, &source}, std::pair{&options.target_schema, &target}}) {
    if (path->empty()) continue;
    auto schema = load_schema(*path, arena);
    if (!schema) {
      std::fprintf(stderr, "%s\n", schema.status().message().c_str());
      return kExitBadInput;
    }
    *slot = *schema;
  }
  std::vector<mapping::CheckFinding> findings = mapping::run_spec_tests(**plan);
  auto schema_findings = mapping::check_against_schemas(**plan, source ? &*source : nullptr,
                                                        target ? &*target : nullptr);
  findings.insert(findings.end(), schema_findings.begin(), schema_findings.end());
  size_t errors = 0, warnings = 0;
  std::set<std::string> seen;
  for (const auto& f : findings) {
    if (!seen.insert(f.message).second) continue;
    std::fprintf(stderr, "%s: %s\n", f.is_error ? "error" : "warning", f.message.c_str());
    (f.is_error ? errors : warnings)++;
  }
  std::fprintf(stderr, "%s: %s, %zu field mappings, %zu tests; %zu errors, %zu warnings\n",
               options.spec.c_str(), errors ? "FAILED" : "ok", spec->fields.size(),
               spec->tests.size(), errors, warnings);
  return errors ? kExitBadInput : kExitOk;
}

Command add_check(CLI::App& app) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* sub = app.add_subcommand("check", "Check a mapping spec statically and run its tests");
  sub->add_option("--spec", options->spec, "Mapping spec (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--source-schema", options->source_schema,
                  "JSON Schema of the source (e.g. from canonry discover)")
      ->check(CLI::ExistingFile);
  sub->add_option("--target-schema", options->target_schema, "JSON Schema of the canonical record")
      ->check(CLI::ExistingFile);
  return {sub, [options] { return run_check(*options); }};
}

CANONRY_COMMAND(add_check);

}  // namespace
}  // namespace canonry::cli
