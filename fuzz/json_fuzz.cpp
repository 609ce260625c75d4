// Arbitrary bytes through the JSON parser (extended JSON on) and back through the writer: the
// parser must never crash or hang, and whatever it accepts must be written as JSON it accepts
// again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json/parser.h"
#include "json/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  canonry::Arena arena;
  canonry::json::ParseOptions options;
  options.max_depth = 64;
  canonry::json::Parser parser(options);
  auto parsed = parser.parse(std::string_view(reinterpret_cast<const char*>(data), size), arena);
  if (!parsed) return 0;
  std::string text = canonry::json::to_json(*parsed);
  canonry::Arena again;
  auto reparsed = parser.parse(text, again);
  if (!reparsed) std::abort();  // the writer produced JSON its own parser rejects
  return 0;
}
