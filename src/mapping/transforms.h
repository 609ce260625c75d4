// The transform library of DESIGN 4.3: each transform is built once from its spec form and then
// applied per value. A transform that cannot convert a value returns ErrorCode::kTransform; the
// executor adds where (mapping, src, dst) and sends the record to the DLQ.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::mapping {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string_view name() const = 0;
  // `in` is never null here unless sees_nulls(); `document` is the whole source document (for
  // transforms that read other fields, like concat).
  virtual Result<json::Value> apply(const json::Value& in, Arena& arena,
                                    const json::Value& document) const = 0;
  // True for `default`: it runs on null and on a missing source, which every other transform
  // passes through untouched.
  virtual bool sees_nulls() const { return false; }
  // True when an array input is converted element by element (scalar transforms); false when the
  // transform takes the array whole (identity, join, default).
  virtual bool elementwise() const { return true; }
  // Whether a value of this type can be converted at all, for `canonry check` against a source
  // schema. Values of an accepted type may still fail (the string "abc" for `int`).
  virtual bool accepts(json::Type type) const = 0;
};

// Builds a transform from its spec form: a name ("trim") or an object ({"name": "map", ...}).
// `where` is the JSON pointer of the spec value, for messages. Errors are ErrorCode::kSpec.
Result<std::unique_ptr<Transform>> make_transform(const json::Value& spec,
                                                  const std::string& where);

// All transform names, for messages and suggestions.
std::span<const std::string_view> transform_names();

// The string form of a value used by `string`, `map`, `hash`, `concat`, `join`: strings as they
// are, numbers as plain decimal text, booleans, objectId hex, dates as RFC 3339 with milliseconds,
// decimals' digits; containers as compact JSON; null as "null".
std::string string_form(const json::Value& value);

}  // namespace canonry::mapping
