// libFuzzer target: arbitrary bytes parsed as JSON, compiled as a JSON Schema (2020-12 or draft 7,
// formats asserted or not, chosen by the first byte), then applied to fixed instances. Beyond not
// crashing, what callers rely on must hold: is_valid() and validate() agree, errors respect
// max_errors, and every instance path is a JSON pointer.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/arena.h"
#include "json/parser.h"
#include "json/value.h"
#include "schema/validator.h"

namespace {

using canonry::json::Value;

constexpr std::string_view kInstances[] = {
    R"({"order_id": "7", "status": "paid", "line_items": [{"sku": "A-1", "quantity": 2,
        "unit_price": 12.50}], "total": 25.0, "tags": ["a", "b", "a"], "a/b~c": null,
        "created_at": "2024-03-01T10:15:00Z", "id": {"$oid": "65e1a0c2f1d2c3b4a5968778"},
        "amount": {"$numberDecimal": "19.99"}, "nested": {"x": {"y": [1, [2, [3]]]}}})",
    R"([1, 1.0, "1", true, null, {}, [], -0, 1e300, 18446744073709551616])",
    R"("Évelyne \u2028 @example.com")",
    "42",
};

const std::vector<Value>& instances() {
  static canonry::Arena arena;
  static const std::vector<Value> values = [] {
    std::vector<Value> out;
    for (std::string_view text : kInstances) {
      auto parsed = canonry::json::parse(text, arena);
      if (!parsed.is_ok()) __builtin_trap();
      out.push_back(*parsed);
    }
    return out;
  }();
  return values;
}

bool is_pointer(const std::string& path) {
  return path.empty() || path[0] == '/';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  canonry::Arena arena;
  canonry::json::ParseOptions plain;
  plain.extended_json = false;
  plain.max_depth = 64;
  auto schema = canonry::json::parse(text, arena, plain);
  if (!schema.is_ok()) return 0;
  canonry::schema::ValidatorOptions options;
  options.assert_formats = mode & 1;
  options.default_draft = mode & 2 ? canonry::schema::Draft::k7 : canonry::schema::Draft::k2020_12;
  options.max_errors = 1 + (mode >> 4);
  auto validator = canonry::schema::Validator::compile(*schema, options);
  if (!validator.is_ok()) {
    if (validator.status().code() != canonry::ErrorCode::kSchema) __builtin_trap();
    return 0;
  }
  for (const Value& instance : instances()) {
    bool valid = validator->is_valid(instance);
    auto errors = validator->validate(instance);
    if (valid != errors.empty()) __builtin_trap();
    if (errors.size() > options.max_errors) __builtin_trap();
    for (const auto& error : errors) {
      if (!is_pointer(error.instance_path) || error.message.empty()) __builtin_trap();
    }
  }
  return 0;
}
