// JSON text to Value, on simdjson's On-Demand API. MongoDB extended JSON wrappers
// ({"$oid": …}, {"$date": …}, {"$numberDecimal": …}, …) are read as the types they denote.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::json {

// Bytes that must be readable after a document handed to Parser::parse_padded (their content
// does not matter).
inline constexpr size_t kPadding = 64;

struct ParseOptions {
  size_t max_depth = 128;
  size_t max_document_bytes = 16 * 1024 * 1024;
  bool extended_json = true;
  // For callers that are done with a document before they parse the next one with the same
  // Parser: strings and number texts of documents from parse_padded() then point into the input
  // and into the parser's buffers instead of being copied into the arena. Faster; the values are
  // valid only until the next parse and while the input is.
  bool borrow = false;
  // For callers that read only some members of the top-level object (a metric): when set,
  // members whose key is not listed are skipped rather than converted. simdjson still checks the
  // whole document's structure and UTF-8; the values skipped are not otherwise checked. Nested
  // objects are not filtered.
  const std::vector<std::string>* top_level_members = nullptr;
};

class Parser {
 public:
  explicit Parser(ParseOptions options = {});
  ~Parser();
  Parser(Parser&&) noexcept;
  Parser& operator=(Parser&&) noexcept;

  // Parses exactly one JSON document (surrounding white space allowed). At least kPadding
  // readable bytes must follow `text` in memory; when the first of them is not white space or
  // NUL the text is parsed from a copy (simdjson would read on into them). Strings and numbers'
  // text are copied into `arena` unless ParseOptions::borrow.
  Result<Value> parse_padded(std::string_view text, Arena& arena);
  // The same for text without padding guarantees (copies it first).
  Result<Value> parse(std::string_view text, Arena& arena);

  const ParseOptions& options() const { return options_; }

 private:
  struct Impl;
  ParseOptions options_;
  std::unique_ptr<Impl> impl_;
  std::string scratch_;
};

// Parses one document, for tests and tools; throws nothing, returns the status on error.
Result<Value> parse(std::string_view text, Arena& arena, ParseOptions options = {});

}  // namespace canonry::json
