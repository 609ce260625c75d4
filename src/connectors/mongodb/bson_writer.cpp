#include "connectors/mongodb/bson_writer.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace canonry::mongodb {

namespace {

// The text formats::bson_to_value gives a double: the shortest that reads back, with ".0" added
// when it has neither fraction nor exponent.
std::string double_text(double d) {
  char buffer[40];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer - 2, d);
  std::string text(buffer, static_cast<size_t>(end - buffer));
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

Status append_decimal(bson_t* document, std::string_view key, std::string_view text,
                      bool decimal128) {
  std::string copy(text);
  if (!decimal128) {
    bson_append_double(document, key.data(), static_cast<int>(key.size()),
                       std::strtod(copy.c_str(), nullptr));
    return Status::ok();
  }
  bson_decimal128_t decimal;
  if (!bson_decimal128_from_string(copy.c_str(), &decimal)) {
    return Status(ErrorCode::kInvalidArgument,
                  "the number " + copy + " cannot be stored exactly (beyond Decimal128)");
  }
  bson_append_decimal128(document, key.data(), static_cast<int>(key.size()), &decimal);
  return Status::ok();
}

Status append_number(bson_t* document, std::string_view key, const json::Value& value,
                     bool decimal128) {
  std::string_view text = value.number_text();
  if (value.is_integer() && !value.is_big_integer()) {
    bson_append_int64(document, key.data(), static_cast<int>(key.size()), value.as_int());
    return Status::ok();
  }
  if (value.is_integer()) return append_decimal(document, key, text, decimal128);
  double d = value.as_double();
  if (text.empty() || !std::isfinite(d) || double_text(d) == text) {
    bson_append_double(document, key.data(), static_cast<int>(key.size()), d);
    return Status::ok();
  }
  return append_decimal(document, key, text, decimal128);
}

}  // namespace

Status append_members(bson_t* document, const json::Value& object, bool decimal128) {
  for (const json::Member& member : object.members()) {
    CANONRY_RETURN_IF_ERROR(append_value(document, member.key, member.value, decimal128));
  }
  return Status::ok();
}

Status append_value(bson_t* document, std::string_view key, const json::Value& value,
                    bool decimal128) {
  if (key.find('\0') != std::string_view::npos) {
    return Status(ErrorCode::kInvalidArgument, "a field name holds a NUL byte");
  }
  const char* k = key.data();
  const int length = static_cast<int>(key.size());
  switch (value.type()) {
    case json::Type::kNull:
      bson_append_null(document, k, length);
      return Status::ok();
    case json::Type::kBool:
      bson_append_bool(document, k, length, value.as_bool());
      return Status::ok();
    case json::Type::kInteger:
    case json::Type::kNumber:
      return append_number(document, key, value, decimal128);
    case json::Type::kString: {
      std::string_view s = value.as_string();
      bson_append_utf8(document, k, length, s.data(), static_cast<int>(s.size()));
      return Status::ok();
    }
    case json::Type::kObject:
    case json::Type::kArray: {
      bson_t child;
      if (value.is_object()) {
        bson_append_document_begin(document, k, length, &child);
        Status status = append_members(&child, value, decimal128);
        bson_append_document_end(document, &child);
        return status;
      }
      bson_append_array_begin(document, k, length, &child);
      uint32_t index = 0;
      for (const json::Value& item : value.items()) {
        char buffer[16];
        const char* index_key;
        size_t index_length = bson_uint32_to_string(index++, &index_key, buffer, sizeof buffer);
        Status status =
            append_value(&child, std::string_view(index_key, index_length), item, decimal128);
        if (!status.is_ok()) {
          bson_append_array_end(document, &child);
          return status;
        }
      }
      bson_append_array_end(document, &child);
      return Status::ok();
    }
    case json::Type::kObjectId: {
      bson_oid_t oid;
      bson_oid_init_from_data(&oid, value.object_id_bytes());
      bson_append_oid(document, k, length, &oid);
      return Status::ok();
    }
    case json::Type::kDate:
      bson_append_date_time(document, k, length, value.as_int());
      return Status::ok();
    case json::Type::kDecimal:
      return append_decimal(document, key, value.as_string(), decimal128);
    case json::Type::kBinary: {
      std::string_view bytes = value.as_string();
      bson_append_binary(document, k, length, static_cast<bson_subtype_t>(value.binary_subtype()),
                         reinterpret_cast<const uint8_t*>(bytes.data()),
                         static_cast<uint32_t>(bytes.size()));
      return Status::ok();
    }
    case json::Type::kTimestamp:
      bson_append_timestamp(document, k, length, value.timestamp_seconds(),
                            value.timestamp_increment());
      return Status::ok();
    case json::Type::kRegex: {
      std::string pattern(value.regex_pattern());
      std::string options(value.regex_options());
      bson_append_regex(document, k, length, pattern.c_str(), options.c_str());
      return Status::ok();
    }
    case json::Type::kMinKey:
      bson_append_minkey(document, k, length);
      return Status::ok();
    case json::Type::kMaxKey:
      bson_append_maxkey(document, k, length);
      return Status::ok();
  }
  return Status(ErrorCode::kInternal, "unknown value type");
}

}  // namespace canonry::mongodb
