#include "pipeline/section.h"

#include <map>

namespace canonry::pipeline {
namespace {

std::map<std::string, SectionHandler>& sections() {
  static std::map<std::string, SectionHandler> table;
  return table;
}

}  // namespace

std::string SectionContext::where(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void SectionContext::fail(const YAML::Node& node, const std::string& key,
                          const std::string& message) const {
  throw ConfigError(where(node) + ": " + key + ": " + message);
}

void register_config_section(std::string key, SectionHandler handler) {
  sections()[std::move(key)] = std::move(handler);
}

const SectionHandler* find_config_section(const std::string& key) {
  auto it = sections().find(key);
  return it == sections().end() ? nullptr : &it->second;
}

}  // namespace canonry::pipeline
