// json::Value to BSON, the inverse of formats::bson_to_value, for documents canonry writes into
// MongoDB (canonical entities in the state store).
#pragma once

#include <bson/bson.h>

#include <string_view>

#include "common/status.h"
#include "json/value.h"

namespace canonry::mongodb {

// Appends `value` to `document` under `key`. Numbers keep what their text says: an integer that
// fits int64 becomes an int64; a number whose text reads back unchanged from a double (what
// formats::bson_to_value writes for a double: "19.99", "20.0") becomes a double; any other number
// text ("19.90", "1e3", integers beyond int64) becomes a Decimal128 holding exactly its digits, so
// that reading the entity back gives the same JSON text. Servers without Decimal128 (FerretDB v1)
// get the nearest double instead (`decimal128` false). kInvalidArgument when a key holds a NUL
// byte or a number text is beyond Decimal128 (more than 34 significant digits).
Status append_value(bson_t* document, std::string_view key, const json::Value& value,
                    bool decimal128 = true);

// `value` must be an object: its members become the document's fields, in order.
Status append_members(bson_t* document, const json::Value& object, bool decimal128 = true);

}  // namespace canonry::mongodb
