// A JSON Schema validator (draft 2020-12 and draft 7) that compiles a schema once into a tree of
// keyword checks with every reference resolved, then validates many instances: is_valid()
// allocates nothing unless the schema uses unevaluatedProperties/unevaluatedItems, and error
// messages are only built for instances that fail. A compiled Validator is immutable and may be
// shared by threads.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "json/value.h"

namespace canonry::schema {

struct ValidationError {
  std::string instance_path;  // JSON pointer into the instance: "/line_items/0/quantity"
  std::string schema_path;    // JSON pointer of the failing keyword ("uri#/pointer" if remote)
  std::string message;
};

// The dialect of a schema without `$schema`.
enum class Draft { k2020_12, k7 };

struct ValidatorOptions {
  // Formats are annotations unless asserted (here, or by the format-assertion vocabulary).
  bool assert_formats = false;
  size_t max_errors = 16;
  // Returns the JSON text of a schema document by its absolute URI (no fragment); called while
  // compiling only. Empty: references outside the schema are errors.
  std::function<Result<std::string>(std::string_view)> resolve_remote;
  // The URI relative references of the root schema resolve against when it has no `$id`
  // ("file:///path/to/schema.json" for a file).
  std::string base_uri;
  Draft default_draft = Draft::k2020_12;
};

class Validator {
 public:
  // ConfigError-free: returns kSchema errors with the JSON pointer into the schema of what is
  // wrong.
  static Result<Validator> compile(const json::Value& schema, ValidatorOptions options = {});

  bool is_valid(const json::Value& instance) const;  // fast path, no error collection
  std::vector<ValidationError> validate(const json::Value& instance) const;  // empty = valid

  struct Compiled;

 private:
  explicit Validator(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace canonry::schema
