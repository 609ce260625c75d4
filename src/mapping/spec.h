// A mapping spec (DESIGN 4.3), loaded and checked: every error names the file and the JSON pointer
// of what is wrong. Loading is configuration: it reports errors as Status (kSpec) and never sees a
// record.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::mapping {

// One step of a target path: a member name, or `[*]` (the n-th `[*]` of `dst` follows the n-th
// `[*]` of `src`).
struct TargetStep {
  std::string name;  // empty for [*]
  bool is_wildcard() const { return name.empty(); }
};

// Parses "$.a.b[*].c" or "$['a b'][*]". Errors are kPathSyntax with the character position.
Result<std::vector<TargetStep>> parse_target_path(std::string_view text);
std::string target_path_text(const std::vector<TargetStep>& steps);

struct FieldMappingSpec {
  std::vector<std::string> src;  // empty for expr fields; several: the first non-null wins
  std::string dst;
  const json::Value* transform = nullptr;  // spec form, null when absent (identity)
  std::string expr;                        // computed field (JSONata), empty when not
  std::string pointer;                     // "/fieldMappings/3", for messages
};

struct SpecTest {
  const json::Value* input = nullptr;
  const json::Value* expect = nullptr;  // expected fields (subset match)
  std::string expect_error;             // or: a substring of the error it must fail with
  std::string pointer;
};

struct MappingSpec {
  std::string file;  // where it was read from, for messages
  std::string mapping_id;
  std::string source_format;   // source.format when given
  std::string target_subject;  // target.subject when given
  std::string key;             // target path, may be empty
  std::string event_time;      // target path, may be empty
  std::vector<FieldMappingSpec> fields;
  const json::Value* defaults = nullptr;  // object or null
  std::vector<SpecTest> tests;

  // Owns the parsed spec document the pointers above refer to.
  std::shared_ptr<Arena> storage;
  json::Value document;
};

// Loads and checks the shape of a spec. `file` is used in messages ("spec.json: /fieldMappings/2/
// src: ..."). A syntax error names the line and column.
Result<MappingSpec> load_spec_text(std::string_view text, const std::string& file);
Result<MappingSpec> load_spec_file(const std::string& path);

}  // namespace canonry::mapping
