// MongoDB extended JSON (canonical, relaxed and the v1 "strict" shapes): recognising a
// just-parsed object as the type it wraps.
#pragma once

#include <optional>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::json {

// If `object` is an extended JSON wrapper, returns the value it denotes; returns nullopt when it is
// an ordinary object; returns an error when it looks like a wrapper but has the wrong shape.
// Only objects whose first key starts with '$' are examined, so the common case costs one compare.
Result<std::optional<Value>> decode_extended(const Value& object, Arena& arena);

}  // namespace canonry::json
