// How validation errors are reported where a record fails its canonical schema: one Status for
// the DLQ record (DESIGN 4.4) and the failing field as a JSONPath, as `canonry map --validate` and
// pipelines write them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/validator.h"

namespace canonry::schema {

// DLQ paths are JSONPaths (DESIGN 4.4); validators speak JSON pointers: "/items/0/a b" becomes
// "$.items[0]['a b']".
std::string pointer_to_jsonpath(std::string_view pointer);

// One status (kValidation) for all the ways a record breaks the schema: the count, then each
// error.
Status validation_status(const std::vector<ValidationError>& errors);

}  // namespace canonry::schema
