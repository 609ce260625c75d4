// The document model every format decodes into (DESIGN 4.2): JSON's seven types plus the
// MongoDB types. Values are immutable once built and live in an Arena; a Value is 24 bytes and
// copying one copies a handle, never the tree.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/arena.h"

namespace canonry::json {

enum class Type : uint8_t {
  kNull,
  kBool,
  kInteger,  // a JSON number without fraction or exponent; int64 unless is_big_integer()
  kNumber,   // any other JSON number (double)
  kString,
  kObject,
  kArray,
  kObjectId,   // 12 bytes
  kDate,       // milliseconds since the Unix epoch, UTC
  kDecimal,    // exact decimal, kept as its text ("19.99", "NaN", "-Infinity")
  kBinary,     // bytes with a BSON subtype
  kTimestamp,  // BSON timestamp (seconds, increment)
  kRegex,      // pattern and options
  kMinKey,
  kMaxKey,
};

// Lower-case name as used in profiles and messages: "null", "integer", "objectId", ...
std::string_view type_name(Type type);

struct Member;

class Value {
 public:
  Value() = default;  // null

  static Value null() { return {}; }
  static Value boolean(bool b) {
    Value v(Type::kBool);
    v.u_.b = b;
    return v;
  }
  // `text` is the number's source text, kept so that numbers are written back as they came and
  // so that decimal conversions never go through binary floating point. It must outlive the value.
  static Value integer(int64_t i, std::string_view text = {}) {
    Value v(Type::kInteger);
    v.u_.i = i;
    v.set_text(text);
    return v;
  }
  // An integer literal too large for int64: only its text is kept.
  static Value big_integer(std::string_view text) {
    Value v(Type::kInteger);
    v.flags_ = kBigInteger;
    v.set_text(text);
    v.u_.d = 0;
    return v;
  }
  static Value number(double d, std::string_view text = {}) {
    Value v(Type::kNumber);
    v.u_.d = d;
    v.set_text(text);
    return v;
  }
  // The string's bytes must outlive the value (arena or static storage).
  static Value string(std::string_view s) {
    Value v(Type::kString);
    v.set_text(s);
    return v;
  }
  static Value array(const Value* items, uint32_t count) {
    Value v(Type::kArray);
    v.u_.items = items;
    v.size_ = count;
    return v;
  }
  static Value object(const Member* members, uint32_t count) {
    Value v(Type::kObject);
    v.u_.members = members;
    v.size_ = count;
    return v;
  }
  static Value object_id(const uint8_t* twelve_bytes) {
    Value v(Type::kObjectId);
    v.text_ = reinterpret_cast<const char*>(twelve_bytes);
    v.size_ = 12;
    return v;
  }
  static Value date(int64_t millis) {
    Value v(Type::kDate);
    v.u_.i = millis;
    return v;
  }
  static Value decimal(std::string_view text) {
    Value v(Type::kDecimal);
    v.set_text(text);
    return v;
  }
  static Value binary(std::string_view bytes, uint8_t subtype) {
    Value v(Type::kBinary);
    v.set_text(bytes);
    v.flags_ = subtype;
    return v;
  }
  static Value timestamp(uint32_t seconds, uint32_t increment) {
    Value v(Type::kTimestamp);
    v.u_.i = (static_cast<int64_t>(seconds) << 32) | increment;
    return v;
  }
  // pattern and options are stored together as "pattern\0options" in one buffer.
  static Value regex(std::string_view pattern_nul_options) {
    Value v(Type::kRegex);
    v.set_text(pattern_nul_options);
    return v;
  }
  static Value min_key() { return Value(Type::kMinKey); }
  static Value max_key() { return Value(Type::kMaxKey); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_number() const { return type_ == Type::kNumber; }
  // integer or number: the JSON numeric types.
  bool is_numeric() const { return type_ == Type::kInteger || type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_container() const { return is_object() || is_array(); }
  bool is_big_integer() const { return type_ == Type::kInteger && (flags_ & kBigInteger); }

  bool as_bool() const { return u_.b; }
  // kInteger (not big), kDate: the stored int64.
  int64_t as_int() const { return u_.i; }
  // kNumber, kInteger (also big ones, from their text): the value as a double.
  double as_double() const;
  // kString, kDecimal: the text; kBinary: the raw bytes; kRegex: "pattern\0options".
  std::string_view as_string() const { return {text_, size_}; }
  // The source text of a number, empty when the number was computed rather than read.
  std::string_view number_text() const {
    return is_numeric() ? std::string_view{text_, size_} : std::string_view{};
  }
  const uint8_t* object_id_bytes() const { return reinterpret_cast<const uint8_t*>(text_); }
  uint8_t binary_subtype() const { return flags_; }
  uint32_t timestamp_seconds() const { return static_cast<uint32_t>(u_.i >> 32); }
  uint32_t timestamp_increment() const { return static_cast<uint32_t>(u_.i & 0xffffffff); }
  std::string_view regex_pattern() const;
  std::string_view regex_options() const;

  std::span<const Value> items() const { return {u_.items, is_array() ? size_ : 0}; }
  std::span<const Member> members() const;
  // Number of array items or object members.
  uint32_t size() const { return is_container() ? size_ : 0; }
  // Object member lookup by key (first match), nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  // Array item by index, nullptr when out of range or not an array.
  const Value* at(size_t index) const {
    return is_array() && index < size_ ? &u_.items[index] : nullptr;
  }

 private:
  static constexpr uint8_t kBigInteger = 1;
  explicit Value(Type t) : type_(t) {}
  void set_text(std::string_view s) {
    text_ = s.data();
    size_ = static_cast<uint32_t>(s.size());
  }

  Type type_ = Type::kNull;
  uint8_t flags_ = 0;
  uint32_t size_ = 0;
  const char* text_ = nullptr;
  union {
    bool b;
    int64_t i;
    double d;
    const Value* items;
    const Member* members;
  } u_{.i = 0};
};

struct Member {
  std::string_view key;
  Value value;
};

inline std::span<const Member> Value::members() const {
  return {u_.members, is_object() ? size_ : 0};
}

// Deep equality. Numbers compare by value across integer and number (1 == 1.0), strings by bytes,
// objects regardless of member order.
bool equal(const Value& a, const Value& b);

// Lower-case hex of an ObjectId.
std::string object_id_hex(const Value& oid);

// A copy of `value` whose strings, containers and bytes all live in `arena`: for values that must
// outlive the buffer or arena they were read into.
Value deep_copy(const Value& value, Arena& arena);

// Builders that copy into an arena, for code that constructs documents.
Value make_string(Arena& arena, std::string_view s);
Value make_array(Arena& arena, std::span<const Value> items);
Value make_object(Arena& arena, std::span<const Member> members);

}  // namespace canonry::json
