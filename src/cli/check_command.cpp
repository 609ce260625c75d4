// canonry check --spec SPEC [--source-schema S] [--target-schema T | --registry URL]
// With --registry, the target schema is the latest version of the spec's target subject
// (canonical.<entity>) in that schema registry.
#include <cstdio>

#include "cli/commands.h"
#include "common/file.h"
#include "json/parser.h"
#include "mapping/check.h"
#include "mapping/plan.h"
#include "registry/client.h"

namespace canonry::cli {
namespace {

struct CheckOptions {
  std::string spec;
  std::string source_schema;
  std::string target_schema;
  std::string registry_url;
};

// `where` names the schema's origin (a file, a registry subject) in messages.
Result<json::Value> parse_schema(const std::string& where, const std::string& text, Arena& arena) {
  json::ParseOptions options;
  options.extended_json = false;
  auto parsed = json::parse(text, arena, options);
  if (!parsed)
    return Status(ErrorCode::kSchema, where + ": not valid JSON: " + parsed.status().message());
  if (!parsed->is_object() && !parsed->is_bool()) {
    return Status(ErrorCode::kSchema, where + ": a JSON Schema is an object or a boolean");
  }
  return *parsed;
}

Result<json::Value> load_schema(const std::string& path, Arena& arena) {
  auto text = read_file(path);
  if (!text) return Status(ErrorCode::kIo, path + ": cannot open the schema");
  return parse_schema(path, *text, arena);
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
  if (!options.registry_url.empty()) {
    if (spec->target_subject.empty()) {
      std::fprintf(stderr, "%s: --registry needs the spec's target.subject\n",
                   options.spec.c_str());
      return kExitBadInput;
    }
    auto text = registry::fetch_latest_schema(options.registry_url, spec->target_subject);
    if (!text) {
      std::fprintf(stderr, "%s\n", text.status().message().c_str());
      return kExitBadInput;
    }
    std::string where = options.registry_url + " subject " + spec->target_subject;
    auto schema = parse_schema(where, *text, arena);
    if (!schema) {
      std::fprintf(stderr, "%s\n", schema.status().message().c_str());
      return kExitBadInput;
    }
    target = *schema;
    std::fprintf(stderr, "check: target schema: latest version of %s\n", where.c_str());
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
  auto* target = sub->add_option("--target-schema", options->target_schema,
                                 "JSON Schema of the canonical record")
                     ->check(CLI::ExistingFile);
  sub->add_option("--registry", options->registry_url,
                  "Schema registry (http://HOST:PORT) holding the target schema under the spec's "
                  "target.subject")
      ->excludes(target);
  return {sub, [options] { return run_check(*options); }};
}

CANONRY_COMMAND(add_check);

}  // namespace
}  // namespace canonry::cli
