// libFuzzer target: arbitrary bytes compiled as a JSONata expression and evaluated against a
// small document under tight limits. Compiling and evaluating must never crash, hang or
// overflow the stack: every failure is an error with a code.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expr/expression.h"
#include "json/parser.h"
#include "json/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  canonry::expr::ExprError error;
  auto compiled = canonry::expr::Expression::compile(text, &error);
  if (!compiled) {
    if (error.code.empty()) __builtin_trap();
    return 0;
  }
  static canonry::Arena doc_arena;
  static const canonry::json::Value doc = *canonry::json::parse(
      R"({"a": 1, "b": [1, 2.5, "x", null, true], "c": {"d": "text", "e": [{"f": 1}, {"f": 2}]},
          "s": "Hello World", "t": "2024-03-01T10:15:00Z"})",
      doc_arena);
  canonry::Arena arena(4096);
  canonry::expr::Limits limits;
  limits.max_depth = 200;
  limits.timeout_ms = 200;
  limits.max_stack_bytes = 256 << 10;
  auto result = compiled->evaluate(&doc, arena, nullptr, limits, &error);
  if (!result) {
    if (error.code.empty()) __builtin_trap();
    return 0;
  }
  if (result->has_value()) {
    std::string out = canonry::json::to_json(**result);
    if (out.empty()) __builtin_trap();
  }
  return 0;
}
