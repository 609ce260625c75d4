// Loading a JSON Schema file into a compiled validator, for the commands that take --schema or
// --validate and for pipelines: references to other files resolve relative to the schema file,
// never the network.
#pragma once

#include <string>

#include "common/status.h"
#include "schema/validator.h"

namespace canonry::schema {

// Messages name the file ("order.schema.json: ..."); the schema's own errors add where in it.
Result<Validator> load_validator(const std::string& path, ValidatorOptions options);

}  // namespace canonry::schema
