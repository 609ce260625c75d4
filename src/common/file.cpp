#include "common/file.h"

#include <fstream>
#include <sstream>

namespace canonry {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, path + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIo, path + ": cannot read");
  return std::move(buffer).str();
}

}  // namespace canonry
