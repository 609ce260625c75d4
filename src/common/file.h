// Reading a whole (small) file: specs, schemas, expressions. Records are streamed instead.
#pragma once

#include <string>

#include "common/status.h"

namespace canonry {

// The file's bytes; kIo with "PATH: cannot open" / "PATH: cannot read" otherwise.
Result<std::string> read_file(const std::string& path);

}  // namespace canonry
