// Arbitrary bytes as a mapping spec: loading and compiling must fail cleanly or succeed; a spec
// that compiles maps a small fixed document without crashing.
#include <cstdint>
#include <string>
#include <string_view>

#include "json/parser.h"
#include "mapping/plan.h"
#include "mapping/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = canonry::mapping::load_spec_text(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!spec) return 0;
  auto plan = canonry::mapping::Plan::compile(*spec);
  if (!plan) return 0;
  canonry::Arena arena;
  auto doc = canonry::json::parse(
      R"({"a": 1, "b": "x", "items": [{"sku": "s", "qty": 2}, {"qty": "3"}], "t": "2024-03-01T10:15:00Z"})",
      arena);
  std::string out;
  canonry::mapping::MapInfo info;
  canonry::mapping::MapError error;
  (*plan)->map(*doc, arena, out, info, error);
  return 0;
}
