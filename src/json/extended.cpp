#include "json/extended.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/base64.h"
#include "common/decimal.h"
#include "common/time.h"

namespace canonry::json {

namespace {

using Decoded = Result<std::optional<Value>>;

Status shape_error(std::string_view wrapper, std::string_view expected) {
  return Status(ErrorCode::kExtendedJson, std::string("extended JSON ") + std::string(wrapper) +
                                              " must be " + std::string(expected));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<int64_t> parse_int64_text(std::string_view text) {
  int64_t value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<uint8_t> parse_subtype(std::string_view hex) {
  if (hex.empty() || hex.size() > 2) return std::nullopt;
  int value = 0;
  for (char c : hex) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = value * 16 + d;
  }
  return static_cast<uint8_t>(value);
}

Decoded make_binary(Arena& arena, std::string_view base64, std::string_view subtype_hex) {
  auto bytes = base64_decode(base64);
  auto subtype = parse_subtype(subtype_hex);
  if (!bytes || !subtype) {
    return shape_error("$binary", "base64 data with a one-byte hex subType");
  }
  return std::optional<Value>(Value::binary(arena.copy_string(*bytes), *subtype));
}

Decoded decode_date(const Value& inner) {
  if (inner.is_string()) {
    auto micros = parse_iso8601_micros(inner.as_string());
    if (!micros) return shape_error("$date", "an ISO-8601 date-time string");
    return std::optional<Value>(Value::date(floor_div(*micros, 1000)));
  }
  if (inner.is_integer() && !inner.is_big_integer()) {
    return std::optional<Value>(Value::date(inner.as_int()));
  }
  if (inner.is_number() && std::isfinite(inner.as_double())) {
    return std::optional<Value>(Value::date(static_cast<int64_t>(std::floor(inner.as_double()))));
  }
  // {"$date": {"$numberLong": "…"}} arrives already decoded into an integer.
  return shape_error("$date", "a string, an integer or {\"$numberLong\": …}");
}

}  // namespace

Decoded decode_extended(const Value& object, Arena& arena) {
  auto members = object.members();
  const std::string_view key = members[0].key;
  const Value& v = members[0].value;

  if (members.size() == 1) {
    if (key == "$oid") {
      if (!v.is_string() || v.as_string().size() != 24) {
        return shape_error("$oid", "a string of 24 hex digits");
      }
      uint8_t* bytes = arena.allocate_array<uint8_t>(12);
      std::string_view hex = v.as_string();
      for (int i = 0; i < 12; ++i) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return shape_error("$oid", "a string of 24 hex digits");
        bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
      }
      return std::optional<Value>(Value::object_id(bytes));
    }
    if (key == "$date") return decode_date(v);
    if (key == "$numberLong" || key == "$numberInt") {
      if (!v.is_string()) return shape_error(key, "a string of decimal digits");
      auto parsed = parse_int64_text(v.as_string());
      if (!parsed) return shape_error(key, "a string of decimal digits within 64 bits");
      if (key == "$numberInt" && (*parsed < std::numeric_limits<int32_t>::min() ||
                                  *parsed > std::numeric_limits<int32_t>::max())) {
        return shape_error(key, "a string of decimal digits within 32 bits");
      }
      return std::optional<Value>(Value::integer(*parsed, v.as_string()));
    }
    if (key == "$numberDouble") {
      if (!v.is_string()) return shape_error(key, "a string");
      std::string_view text = v.as_string();
      double d;
      if (text == "Infinity") {
        d = std::numeric_limits<double>::infinity();
      } else if (text == "-Infinity") {
        d = -std::numeric_limits<double>::infinity();
      } else if (text == "NaN") {
        d = std::numeric_limits<double>::quiet_NaN();
      } else {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec != std::errc() || end != text.data() + text.size()) {
          return shape_error(key, "a string holding a number");
        }
        return std::optional<Value>(Value::number(d, text));
      }
      return std::optional<Value>(Value::number(d));
    }
    if (key == "$numberDecimal") {
      if (!v.is_string() || !is_decimal_literal(v.as_string())) {
        return shape_error(key, "a string holding a decimal number");
      }
      // Stored in plain notation so that it is also a valid JSON number when written.
      if (is_plain_decimal(v.as_string()))
        return std::optional<Value>(Value::decimal(v.as_string()));
      if (auto exact = Decimal::parse(v.as_string())) {
        return std::optional<Value>(Value::decimal(arena.copy_string(exact->to_string())));
      }
      return std::optional<Value>(Value::decimal(v.as_string()));
    }
    if (key == "$binary") {
      if (!v.is_object()) return shape_error(key, "{\"base64\": …, \"subType\": …}");
      const Value* data = v.find("base64");
      const Value* subtype = v.find("subType");
      if (v.size() != 2 || !data || !subtype || !data->is_string() || !subtype->is_string()) {
        return shape_error(key, "{\"base64\": …, \"subType\": …}");
      }
      return make_binary(arena, data->as_string(), subtype->as_string());
    }
    if (key == "$uuid") {
      if (!v.is_string()) return shape_error(key, "a UUID string");
      std::string bytes;
      std::string_view text = v.as_string();
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-') continue;
        if (i + 1 >= text.size()) return shape_error(key, "a UUID string");
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) return shape_error(key, "a UUID string");
        bytes += static_cast<char>(hi * 16 + lo);
        ++i;
      }
      if (bytes.size() != 16) return shape_error(key, "a UUID string");
      return std::optional<Value>(Value::binary(arena.copy_string(bytes), 4));
    }
    if (key == "$timestamp") {
      const Value* t = v.find("t");
      const Value* i = v.find("i");
      if (!v.is_object() || v.size() != 2 || !t || !i || !t->is_integer() || !i->is_integer() ||
          t->as_int() < 0 || i->as_int() < 0 || t->as_int() > 0xffffffffLL ||
          i->as_int() > 0xffffffffLL) {
        return shape_error(key, "{\"t\": <uint32>, \"i\": <uint32>}");
      }
      return std::optional<Value>(
          Value::timestamp(static_cast<uint32_t>(t->as_int()), static_cast<uint32_t>(i->as_int())));
    }
    if (key == "$regularExpression") {
      const Value* pattern = v.find("pattern");
      const Value* options = v.find("options");
      if (!v.is_object() || v.size() != 2 || !pattern || !options || !pattern->is_string() ||
          !options->is_string()) {
        return shape_error(key, "{\"pattern\": …, \"options\": …}");
      }
      std::string both(pattern->as_string());
      both += '\0';
      both += options->as_string();
      return std::optional<Value>(Value::regex(arena.copy_string(both)));
    }
    if (key == "$minKey" || key == "$maxKey") {
      if (!v.is_integer() || v.as_int() != 1) return shape_error(key, "1");
      return std::optional<Value>(key == "$minKey" ? Value::min_key() : Value::max_key());
    }
    if (key == "$symbol") {
      if (!v.is_string()) return shape_error(key, "a string");
      return std::optional<Value>(v);
    }
    if (key == "$undefined") return std::optional<Value>(Value::null());
    return std::optional<Value>();
  }

  // Two-member v1 ("strict") shapes.
  const std::string_view key2 = members[1].key;
  const Value& v2 = members[1].value;
  if (key == "$binary" && key2 == "$type" && v.is_string() && v2.is_string()) {
    return make_binary(arena, v.as_string(), v2.as_string());
  }
  if (key == "$regex" && key2 == "$options" && v.is_string() && v2.is_string()) {
    std::string both(v.as_string());
    both += '\0';
    both += v2.as_string();
    return std::optional<Value>(Value::regex(arena.copy_string(both)));
  }
  return std::optional<Value>();
}

}  // namespace canonry::json
