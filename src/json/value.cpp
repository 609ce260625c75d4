#include "json/value.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace canonry::json {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kInteger:
      return "integer";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kObject:
      return "object";
    case Type::kArray:
      return "array";
    case Type::kObjectId:
      return "objectId";
    case Type::kDate:
      return "date";
    case Type::kDecimal:
      return "decimal";
    case Type::kBinary:
      return "binary";
    case Type::kTimestamp:
      return "timestamp";
    case Type::kRegex:
      return "regex";
    case Type::kMinKey:
      return "minKey";
    case Type::kMaxKey:
      return "maxKey";
  }
  return "null";
}

double Value::as_double() const {
  if (type_ == Type::kNumber) return u_.d;
  if (type_ == Type::kInteger) {
    if (!(flags_ & kBigInteger)) return static_cast<double>(u_.i);
    std::string text(text_, size_);
    return std::strtod(text.c_str(), nullptr);
  }
  return 0;
}

std::string_view Value::regex_pattern() const {
  std::string_view all = as_string();
  return all.substr(0, all.find('\0'));
}

std::string_view Value::regex_options() const {
  std::string_view all = as_string();
  size_t nul = all.find('\0');
  return nul == std::string_view::npos ? std::string_view{} : all.substr(nul + 1);
}

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (uint32_t i = 0; i < size_; ++i) {
    if (u_.members[i].key == key) return &u_.members[i].value;
  }
  return nullptr;
}

bool equal(const Value& a, const Value& b) {
  if (a.is_numeric() && b.is_numeric()) {
    if (a.is_integer() && b.is_integer() && !a.is_big_integer() && !b.is_big_integer()) {
      return a.as_int() == b.as_int();
    }
    if (a.is_big_integer() && b.is_big_integer()) return a.number_text() == b.number_text();
    return a.as_double() == b.as_double();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull:
    case Type::kMinKey:
    case Type::kMaxKey:
      return true;
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kString:
    case Type::kDecimal:
    case Type::kRegex:
      return a.as_string() == b.as_string();
    case Type::kBinary:
      return a.binary_subtype() == b.binary_subtype() && a.as_string() == b.as_string();
    case Type::kDate:
    case Type::kTimestamp:
      return a.as_int() == b.as_int();
    case Type::kObjectId:
      return std::memcmp(a.object_id_bytes(), b.object_id_bytes(), 12) == 0;
    case Type::kArray: {
      if (a.size() != b.size()) return false;
      auto ai = a.items(), bi = b.items();
      for (size_t i = 0; i < ai.size(); ++i) {
        if (!equal(ai[i], bi[i])) return false;
      }
      return true;
    }
    case Type::kObject: {
      if (a.size() != b.size()) return false;
      for (const Member& m : a.members()) {
        const Value* other = b.find(m.key);
        if (other == nullptr || !equal(m.value, *other)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

std::string object_id_hex(const Value& oid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(24, '0');
  const uint8_t* bytes = oid.object_id_bytes();
  for (int i = 0; i < 12; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

Value deep_copy(const Value& v, Arena& arena) {
  switch (v.type()) {
    case Type::kString:
      return Value::string(arena.copy_string(v.as_string()));
    case Type::kInteger:
      if (v.is_big_integer()) return Value::big_integer(arena.copy_string(v.number_text()));
      return Value::integer(v.as_int(), arena.copy_string(v.number_text()));
    case Type::kNumber:
      return Value::number(v.as_double(), arena.copy_string(v.number_text()));
    case Type::kDecimal:
      return Value::decimal(arena.copy_string(v.as_string()));
    case Type::kBinary:
      return Value::binary(arena.copy_string(v.as_string()), v.binary_subtype());
    case Type::kRegex:
      return Value::regex(arena.copy_string(v.as_string()));
    case Type::kObjectId: {
      uint8_t* bytes = arena.allocate_array<uint8_t>(12);
      std::memcpy(bytes, v.object_id_bytes(), 12);
      return Value::object_id(bytes);
    }
    case Type::kArray: {
      auto items = v.items();
      Value* out = arena.allocate_array<Value>(items.size());
      for (size_t i = 0; i < items.size(); ++i) new (&out[i]) Value(deep_copy(items[i], arena));
      return Value::array(out, static_cast<uint32_t>(items.size()));
    }
    case Type::kObject: {
      auto members = v.members();
      Member* out = arena.allocate_array<Member>(members.size());
      for (size_t i = 0; i < members.size(); ++i) {
        new (&out[i]) Member{arena.copy_string(members[i].key), deep_copy(members[i].value, arena)};
      }
      return Value::object(out, static_cast<uint32_t>(members.size()));
    }
    default:
      return v;
  }
}

Value make_string(Arena& arena, std::string_view s) {
  return Value::string(arena.copy_string(s));
}

Value make_array(Arena& arena, std::span<const Value> items) {
  Value* out = arena.allocate_array<Value>(items.size());
  std::copy(items.begin(), items.end(), out);
  return Value::array(out, static_cast<uint32_t>(items.size()));
}

Value make_object(Arena& arena, std::span<const Member> members) {
  Member* out = arena.allocate_array<Member>(members.size());
  std::copy(members.begin(), members.end(), out);
  return Value::object(out, static_cast<uint32_t>(members.size()));
}

}  // namespace canonry::json
