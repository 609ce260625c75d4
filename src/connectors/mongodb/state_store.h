// The MongoDB state store (DESIGN 4.1 `state dump`, 5): the latest canonical entity per
// (subject, key), the source-key index and the last raw document per source key, each write
// carrying the source position it applies. See README.md for the documents and the guarantees.
#pragma once

#include <memory>

#include "pipeline/connector.h"

namespace canonry::mongodb {

// Checks the URI (mongodb://host:port/db.collection); throws ConfigError. Connects to nothing.
std::unique_ptr<pipeline::StateStore> make_state_store(const pipeline::ConnectorSpec& spec);

}  // namespace canonry::mongodb
