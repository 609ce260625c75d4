// The MongoDB source (DESIGN 2): a collection snapshot in _id order for backfills, or a change
// stream where the server has them. See README.md for positions, checkpoints and guarantees.
#pragma once

#include <memory>

#include "pipeline/connector.h"

namespace canonry::mongodb {

// Checks the URI and the options (`mode`, `batch_size`, `checkpoints`) and the format the mode
// delivers; throws ConfigError with their location. Connects to nothing.
std::unique_ptr<pipeline::Source> make_source(const pipeline::SourceSpec& spec);

}  // namespace canonry::mongodb
