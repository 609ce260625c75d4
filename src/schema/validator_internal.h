// Pieces of the validator that stand on their own: URI references (RFC 3986), ECMA-262 patterns
// translated to RE2, the `format` checks, and the value semantics shared by the keywords.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <re2/re2.h>

#include "common/status.h"
#include "json/value.h"

namespace canonry::schema::detail {

// RFC 3986 section 5.2: `reference` resolved against the absolute (or empty) `base`.
std::string resolve_uri(std::string_view base, std::string_view reference);
// Splits "uri#fragment" at the first '#'; the fragment comes back without it.
void split_fragment(std::string_view uri, std::string_view& without, std::string_view& fragment);
// Percent-decodes a URI fragment; false when an escape is malformed.
bool percent_decode(std::string_view text, std::string& out);

// Translates an ECMA-262 (u-mode-like) pattern into RE2 syntax. Fails with a message for what
// RE2 cannot do: lookaround, backreferences.
Result<std::string> ecma_to_re2(std::string_view pattern);
// A compiled ECMA-262 pattern. The common anchored shape ^[ASCII set]{n,m}$ (codes, SKUs, hex
// digests) is matched without RE2: a byte table and a length check.
class Pattern {
 public:
  // Unanchored search, as JSON Schema's `pattern` applies.
  bool search(std::string_view text) const {
    if (!simple_) return RE2::PartialMatch(text, *re_);
    if (text.size() < min_ || text.size() > max_) return false;
    for (char c : text) {
      if (!allowed_[static_cast<unsigned char>(c)]) return false;
    }
    return true;
  }

 private:
  friend Result<std::shared_ptr<const Pattern>> compile_pattern(std::string_view pattern);
  std::unique_ptr<RE2> re_;
  bool simple_ = false;
  bool allowed_[256] = {};
  size_t min_ = 0;
  size_t max_ = 0;
};

// Translated and compiled, or the reason it cannot be.
Result<std::shared_ptr<const Pattern>> compile_pattern(std::string_view pattern);

// A format check: true when `text` is in the format. nullptr for formats not known.
using FormatCheck = bool (*)(std::string_view text);
FormatCheck find_format(std::string_view name);

// Deep equality of JSON Schema: numbers by value across integer, number and decimal (1 == 1.0),
// objectId and date equal to the strings they validate as.
bool schema_equal(const json::Value& a, const json::Value& b);
// A hash consistent with schema_equal.
size_t schema_hash(const json::Value& value);
// The text a string-like value validates as: the string itself, an objectId's hex, a date's
// RFC 3339 text (built in `scratch`). False for other types.
bool string_form(const json::Value& value, std::string& scratch, std::string_view& out);

// canonry's own metaschema for the 2020-12 or draft 7 metaschema URI (without fragment), empty
// for any other URI.
std::string_view builtin_metaschema(std::string_view uri);

// Unicode code points of valid UTF-8 text.
size_t code_points(std::string_view text);

}  // namespace canonry::schema::detail

namespace canonry::schema::detail {

// Bits of the JSON Schema types a value has: decimal is a number, objectId and date are strings,
// and any number without a fractional part is also an integer.
enum TypeBit : unsigned {
  kNullBit = 1,
  kBooleanBit = 2,
  kObjectBit = 4,
  kArrayBit = 8,
  kNumberBit = 16,
  kStringBit = 32,
  kIntegerBit = 64,
};
unsigned type_bits(const json::Value& value);
// True for the values numeric keywords apply to: integer, number, decimal.
bool is_numeric(const json::Value& value);
// -1, 0, 1 comparing two numeric values exactly; 2 when they cannot be compared (a decimal NaN).
int compare_numbers(const json::Value& a, const json::Value& b);
// True when `value` is an integral multiple of the positive `divisor`.
bool is_multiple_of(const json::Value& value, const json::Value& divisor);

}  // namespace canonry::schema::detail
