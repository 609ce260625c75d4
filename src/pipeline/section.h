// Hooks for the top-level sections of a pipeline config that other modules own (DESIGN 4.7
// `metrics:`): a module registers a handler for its key, and the config loader calls it with the
// section's YAML node while the config is checked, before anything starts. The handler returns the
// sinks the section adds to the pipeline (each gets every batch, like the events and state sinks).
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/connector.h"

namespace canonry::pipeline {

struct SectionContext {
  std::string file;  // the config file, as given
  // Resolves a path relative to the config file's folder (absolute paths stay as they are).
  std::function<std::string(const std::string&)> resolve_path;
  // Hands the pipeline's DLQ sink (`dlq:`) over to a section whose sink refuses records of its
  // own and has no DLQ of its own, so that those records are not lost either (DESIGN 4.4). The
  // section's sink then owns it and drives it in the runtime's place: it passes on every batch's
  // dead letters together with its own, for the same positions, and flushes, releases and closes
  // it. Null once a section has taken it.
  std::function<std::unique_ptr<Sink>()> take_pipeline_dlq;

  // "pipeline.yaml:7:3", the node's location.
  std::string where(const YAML::Node& node) const;
  // Throws ConfigError "pipeline.yaml:7:3: key: message", the form of every config error.
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& message) const;
};

using SectionHandler = std::function<std::vector<std::unique_ptr<Sink>>(
    const YAML::Node& node, const SectionContext& context)>;

// Registers the handler of a top-level key ("metrics"). A config that has the key while no
// handler is registered is rejected with a message saying so.
void register_config_section(std::string key, SectionHandler handler);
const SectionHandler* find_config_section(const std::string& key);

struct SectionRegistration {
  SectionRegistration(std::string key, SectionHandler handler) {
    register_config_section(std::move(key), std::move(handler));
  }
};

}  // namespace canonry::pipeline

// In a module linked whole into the binary (every module under src/connectors/ is; see
// src/connectors/CMakeLists.txt), so that the registration is never dropped by the linker.
#define CANONRY_REGISTER_CONFIG_SECTION(id, key, handler)                      \
  static const ::canonry::pipeline::SectionRegistration canonry_section_##id { \
    key, handler                                                               \
  }
