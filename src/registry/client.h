// The two registry calls the command line makes against a running registry (canonry's or
// Confluent's): register a JSON Schema under a subject, fetch a subject's latest JSON Schema.
#pragma once

#include <string>

#include "common/status.h"

namespace canonry::registry {

struct RegisteredId {
  int id = 0;
};

// POST {base_url}/subjects/{subject}/versions with schemaType JSON; the registry's error
// (409 incompatible, 42201 invalid...) comes back as a kInvalidArgument with its message.
Result<RegisteredId> register_json_schema(const std::string& base_url, const std::string& subject,
                                          const std::string& schema_json,
                                          const std::string& bearer_token = {});

// GET {base_url}/subjects/{subject}/versions/latest → the schema text.
Result<std::string> fetch_latest_schema(const std::string& base_url, const std::string& subject);

}  // namespace canonry::registry
