// libFuzzer target: arbitrary bytes as an RFC 9535 query, evaluated on a small fixed document.
// Beyond not crashing, every accepted query must satisfy what callers rely on: the callback and
// the collecting evaluations agree, the singular fast path agrees with both, and each normalized
// path is itself a query that selects exactly its node.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/arena.h"
#include "json/parser.h"
#include "json/value.h"
#include "jsonpath/jsonpath.h"

namespace {

using canonry::json::Value;

// Every JSON type, MongoDB types, names that need escaping in normalized paths, and nesting for
// descendant segments and filters to work on.
constexpr std::string_view kDocument = R"({
  "store": {
    "book": [
      {"title": "Sayings", "price": 8.95, "tags": ["a", "b"], "isbn": null},
      {"title": "Sword", "price": 12, "tags": [], "author": {"name": "Évelyne"}},
      {"title": "Moby", "price": 8.99e0, "in stock": true, "ratings": [5, 4, 5]}
    ],
    "bicycle": {"color": "red", "price": 19.95, "gears": [1, 2, 3, 4, 5, 6, 7]}
  },
  "it's": {"a\\b": "\u000b\n", "": 0, "ünï": [[], {}]},
  "pattern": "[a-z]+",
  "big": 100000000000000000000,
  "neg": -0,
  "oid": {"$oid": "5f1d7a2b9c8e4a3b2c1d0e0f"},
  "when": {"$date": "2024-01-01T00:00:00Z"},
  "amount": {"$numberDecimal": "19.99"}
})";

const Value& document() {
  static canonry::Arena arena;
  static const Value root = [] {
    auto parsed = canonry::json::parse(kDocument, arena);
    if (!parsed.is_ok()) __builtin_trap();
    return *parsed;
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = canonry::jsonpath::JsonPath::parse(text);
  if (!path.is_ok()) return 0;
  if (path->text() != text) __builtin_trap();
  const Value& root = document();

  auto nodes = path->select_with_paths(root);
  size_t visited = 0;
  path->evaluate(root, [&](const Value& node) {
    if (visited >= nodes.size() || nodes[visited].second != &node) __builtin_trap();
    ++visited;
  });
  if (visited != nodes.size()) __builtin_trap();

  if (path->is_singular()) {
    if (nodes.size() > 1) __builtin_trap();
    const Value* expected = nodes.empty() ? nullptr : nodes[0].second;
    if (path->select_singular(root) != expected) __builtin_trap();
  }

  for (const auto& [normalized, node] : nodes) {
    auto again = canonry::jsonpath::JsonPath::parse(normalized);
    if (!again.is_ok() || !again->is_singular() || again->select_singular(root) != node) {
      __builtin_trap();
    }
  }
  return 0;
}
