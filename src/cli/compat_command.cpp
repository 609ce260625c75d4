// `canonry compat [--mode LEVEL] [--type json|avro] [--policy strict|lenient] OLD... NEW`
// (DESIGN 4.1, 4.8): whether NEW may follow the earlier versions OLD... (oldest first) of a
// subject under a compatibility level, by the same rules as the registry (docs/registry.md).
// Prints one JSON line per change found (JSON Schema) or per incompatibility (Avro), each with
// its type, path and whether it is compatible, then a verdict line. Exit 0 when compatible, 3
// when not, 1 when a schema cannot be read.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/file.h"
#include "json/parser.h"
#include "json/writer.h"
#include "registry/avro.h"
#include "registry/json_compatibility.h"
#include "registry/registry.h"

namespace canonry::cli {
namespace {

constexpr int kExitIncompatible = 3;

struct CompatOptions {
  std::string mode = "BACKWARD";
  std::string policy = "strict";
  std::string type = "json";
  std::vector<std::string> schemas;
};

void write_difference(std::string& out, const std::string& against, std::string_view check,
                      const registry::Difference& difference, registry::JsonPolicy policy) {
  json::Writer writer(out);
  writer.begin_object();
  writer.key("against");
  writer.string(against);
  writer.key("check");
  writer.string(check);
  writer.key("path");
  writer.string(difference.path);
  writer.key("type");
  writer.string(registry::difference_name(difference.type));
  writer.key("compatible");
  writer.raw(registry::is_compatible(difference.type, policy) ? "true" : "false");
  writer.end_object();
  out += '\n';
}

void write_avro(std::string& out, const std::string& against, std::string_view check,
                const registry::AvroIncompatibility& found) {
  json::Writer writer(out);
  writer.begin_object();
  writer.key("against");
  writer.string(against);
  writer.key("check");
  writer.string(check);
  writer.key("path");
  writer.string(found.path);
  writer.key("type");
  writer.string(found.type);
  writer.key("description");
  writer.string(found.description);
  writer.key("compatible");
  writer.raw("false");
  writer.end_object();
  out += '\n';
}

int run_compat(const CompatOptions& options) {
  auto level = registry::parse_compatibility(options.mode);
  if (!level) {
    std::fprintf(stderr, "canonry compat: unknown compatibility level '%s'\n",
                 options.mode.c_str());
    return kExitUsage;
  }
  if (options.schemas.size() < 2) {
    std::fprintf(stderr, "canonry compat: give at least one earlier schema and the new one\n");
    return kExitUsage;
  }
  registry::JsonPolicy policy =
      options.policy == "lenient" ? registry::JsonPolicy::kLenient : registry::JsonPolicy::kStrict;
  Arena arena;
  std::vector<json::Value> schemas;
  for (const std::string& path : options.schemas) {
    auto text = read_file(path);
    if (!text) {
      std::fprintf(stderr, "canonry compat: %s\n", text.status().message().c_str());
      return kExitBadInput;
    }
    auto value = json::parse(*text, arena);
    if (!value) {
      std::fprintf(stderr, "canonry compat: %s: %s\n", path.c_str(),
                   value.status().to_string().c_str());
      return kExitBadInput;
    }
    if (options.type == "json" && !value->is_object() && !value->is_bool()) {
      std::fprintf(stderr, "canonry compat: %s: a JSON Schema is an object or a boolean\n",
                   path.c_str());
      return kExitBadInput;
    }
    schemas.push_back(*value);
  }
  std::vector<registry::AvroSchema> avro;
  if (options.type == "avro") {
    for (size_t i = 0; i < schemas.size(); ++i) {
      auto parsed = registry::parse_avro(schemas[i]);
      if (!parsed) {
        std::fprintf(stderr, "canonry compat: %s: %s\n", options.schemas[i].c_str(),
                     parsed.status().message().c_str());
        return kExitBadInput;
      }
      avro.push_back(std::move(*parsed));
    }
  }
  bool transitive = level->find("_TRANSITIVE") != std::string::npos;
  bool backward = level->rfind("BACKWARD", 0) == 0 || level->rfind("FULL", 0) == 0;
  bool forward = level->rfind("FORWARD", 0) == 0 || level->rfind("FULL", 0) == 0;
  const json::Value& candidate = schemas.back();
  std::string out;
  bool compatible = true;
  // Newest earlier version first, as the registry checks them.
  for (size_t i = schemas.size() - 1; i-- > 0;) {
    const std::string& against = options.schemas[i];
    if (!avro.empty()) {
      for (bool is_backward : {true, false}) {
        if (is_backward ? !backward : !forward) continue;
        const auto& writer = is_backward ? avro[i] : avro.back();
        const auto& reader = is_backward ? avro.back() : avro[i];
        for (const auto& found : registry::avro_incompatibilities(writer, reader)) {
          write_avro(out, against, is_backward ? "backward" : "forward", found);
          compatible = false;
        }
      }
      if (!transitive || (!backward && !forward)) break;
      continue;
    }
    if (backward) {
      for (const auto& difference : registry::json_schema_differences(schemas[i], candidate)) {
        write_difference(out, against, "backward", difference, policy);
        compatible = compatible && registry::is_compatible(difference.type, policy);
      }
    }
    if (forward) {
      for (const auto& difference : registry::json_schema_differences(candidate, schemas[i])) {
        write_difference(out, against, "forward", difference, policy);
        compatible = compatible && registry::is_compatible(difference.type, policy);
      }
    }
    if (!transitive || (!backward && !forward)) break;
  }
  out += "{\"compatibility\":";
  json::append_quoted(out, *level);
  out += ",\"policy\":";
  json::append_quoted(out, options.policy);
  out += compatible ? ",\"is_compatible\":true}\n" : ",\"is_compatible\":false}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return compatible ? kExitOk : kExitIncompatible;
}

Command add_compat(CLI::App& app) {
  auto options = std::make_shared<CompatOptions>();
  CLI::App* sub = app.add_subcommand("compat",
                                     "Whether a new schema (JSON Schema or Avro) may follow "
                                     "earlier versions, by the schema registry's rules");
  sub->add_option("--mode", options->mode,
                  "NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, "
                  "FULL_TRANSITIVE")
      ->capture_default_str();
  sub->add_option("--type", options->type, "json (JSON Schema) or avro")
      ->check(CLI::IsMember({"json", "avro"}))
      ->capture_default_str();
  sub->add_option("--policy", options->policy,
                  "JSON Schema policy: strict (Confluent's default) or lenient")
      ->check(CLI::IsMember({"strict", "lenient"}))
      ->capture_default_str();
  sub->add_option("SCHEMAS", options->schemas, "earlier versions, oldest first, then the new one")
      ->required();
  return {sub, [options] { return run_compat(*options); }};
}

CANONRY_COMMAND(add_compat);

}  // namespace
}  // namespace canonry::cli
