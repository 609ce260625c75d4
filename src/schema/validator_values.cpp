// Value semantics of JSON Schema over canonry's type model: which values are equal, and what
// MongoDB types validate as (decimal as a number, objectId and date as strings).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "common/decimal.h"
#include "common/time.h"
#include "schema/validator_internal.h"

namespace canonry::schema::detail {

bool is_numeric(const json::Value& v) {
  return v.type() == json::Type::kInteger || v.type() == json::Type::kNumber ||
         v.type() == json::Type::kDecimal;
}

namespace {

using json::Type;
using json::Value;

bool is_string_like(const Value& v) {
  return v.type() == Type::kString || v.type() == Type::kObjectId || v.type() == Type::kDate;
}

std::optional<Decimal> to_decimal(const Value& v) {
  if (v.type() == Type::kDecimal) return Decimal::parse(v.as_string());
  if (v.is_integer() && !v.is_big_integer()) return Decimal::from_int(v.as_int());
  if (!v.number_text().empty()) return Decimal::parse(v.number_text());
  return Decimal::from_double(v.as_double());
}

double numeric_double(const Value& v) {
  if (v.type() == Type::kDecimal) {
    auto d = Decimal::parse(v.as_string());
    return d ? d->to_double() : 0;
  }
  return v.as_double();
}

bool numbers_equal(const Value& a, const Value& b) {
  if (a.is_integer() && b.is_integer() && !a.is_big_integer() && !b.is_big_integer()) {
    return a.as_int() == b.as_int();
  }
  if (a.type() == Type::kDecimal || b.type() == Type::kDecimal || a.is_big_integer() ||
      b.is_big_integer()) {
    auto da = to_decimal(a), db = to_decimal(b);
    if (da && db) return *da == *db;
    // NaN and the infinities of decimals equal only themselves.
    return a.type() == b.type() && a.as_string() == b.as_string();
  }
  return a.as_double() == b.as_double();
}

// A number's decimal text as mantissa digits and a power of ten, exactly, when it fits 128 bits.
bool scaled_integer(std::string_view text, __int128& mantissa, int& exponent) {
  mantissa = 0;
  exponent = 0;
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  int digits = 0;
  bool any = false;
  for (bool fraction = false; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !fraction) {
      fraction = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (mantissa == 0 && c == '0') {
      if (fraction) --exponent;
      continue;
    }
    if (++digits > 36) return false;
    mantissa = mantissa * 10 + (c - '0');
    if (fraction) --exponent;
  }
  if (!any) return false;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return false;
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) exp_negative = text[i++] == '-';
    long e = 0;
    if (i == text.size()) return false;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9' || e > 100000) return false;
      e = e * 10 + (text[i] - '0');
    }
    exponent += static_cast<int>(exp_negative ? -e : e);
  }
  if (negative) mantissa = -mantissa;
  return true;
}

std::string exact_text(const Value& v) {
  if (v.type() == Type::kDecimal) return std::string(v.as_string());
  if (!v.number_text().empty()) return std::string(v.number_text());
  if (v.is_integer()) return std::to_string(v.as_int());
  auto d = Decimal::from_double(v.as_double());
  return d ? d->to_string() : std::string();
}

}  // namespace

unsigned type_bits(const Value& value) {
  switch (value.type()) {
    case Type::kNull:
      return kNullBit;
    case Type::kBool:
      return kBooleanBit;
    case Type::kObject:
      return kObjectBit;
    case Type::kArray:
      return kArrayBit;
    case Type::kInteger:
      return kNumberBit | kIntegerBit;
    case Type::kNumber: {
      double d = value.as_double();
      return kNumberBit | (std::isfinite(d) && d == std::floor(d) ? kIntegerBit : 0u);
    }
    case Type::kDecimal: {
      auto d = Decimal::parse(value.as_string());
      if (!d) return 0;  // NaN and infinities are no JSON numbers
      return kNumberBit | (d->is_integral() ? kIntegerBit : 0u);
    }
    case Type::kString:
    case Type::kObjectId:
    case Type::kDate:
      return kStringBit;
    default:
      return 0;
  }
}

int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integer() && b.is_integer() && !a.is_big_integer() && !b.is_big_integer()) {
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
  }
  if (a.type() == Type::kDecimal || b.type() == Type::kDecimal || a.is_big_integer() ||
      b.is_big_integer()) {
    auto da = to_decimal(a), db = to_decimal(b);
    if (!da || !db) return 2;
    auto order = *da <=> *db;
    return order < 0 ? -1 : order > 0;
  }
  // long double holds every int64 exactly, so integer against number stays exact.
  long double la = a.is_integer() ? static_cast<long double>(a.as_int()) : a.as_double();
  long double lb = b.is_integer() ? static_cast<long double>(b.as_int()) : b.as_double();
  return la < lb ? -1 : la > lb;
}

bool is_multiple_of(const Value& value, const Value& divisor) {
  if (value.is_integer() && divisor.is_integer() && !value.is_big_integer() &&
      !divisor.is_big_integer()) {
    return divisor.as_int() > 0 && value.as_int() % divisor.as_int() == 0;
  }
  __int128 a, m;
  int ea, em;
  if (scaled_integer(exact_text(value), a, ea) && scaled_integer(exact_text(divisor), m, em) &&
      m != 0) {
    if (a == 0) return true;
    int e = std::min(ea, em);
    // Bring both to the smaller power of ten; give up when that overflows 128 bits.
    auto scale = [](__int128& x, int times) {
      for (int k = 0; k < times; ++k) {
        if (x > static_cast<__int128>(1e36) || x < -static_cast<__int128>(1e36)) return false;
        x *= 10;
      }
      return true;
    };
    __int128 scaled_a = a, scaled_m = m;
    if (ea - e <= 40 && em - e <= 40 && scale(scaled_a, ea - e) && scale(scaled_m, em - e)) {
      return scaled_a % scaled_m == 0;
    }
    // A large exponent on the value: A * 10^k mod M by modular exponentiation, exact while the
    // divisor's scaled mantissa fits 63 bits (then products fit 128).
    __int128 mm = m < 0 ? -m : m;
    if (ea > em && mm < (static_cast<__int128>(1) << 63)) {
      __int128 remainder = (a < 0 ? -a : a) % mm, base = 10 % mm;
      for (int k = ea - em; k > 0; k >>= 1) {
        if (k & 1) remainder = remainder * base % mm;
        base = base * base % mm;
      }
      return remainder == 0;
    }
  }
  double q = numeric_double(value) / numeric_double(divisor);
  return std::isfinite(q) && q == std::floor(q);
}

bool string_form(const Value& value, std::string& scratch, std::string_view& out) {
  switch (value.type()) {
    case Type::kString:
      out = value.as_string();
      return true;
    case Type::kObjectId:
      scratch = json::object_id_hex(value);
      out = scratch;
      return true;
    case Type::kDate:
      scratch = format_rfc3339_millis(value.as_int());
      out = scratch;
      return true;
    default:
      return false;
  }
}

bool schema_equal(const Value& a, const Value& b) {
  if (is_numeric(a) && is_numeric(b)) return numbers_equal(a, b);
  if (a.type() != b.type()) {
    if (!is_string_like(a) || !is_string_like(b)) return false;
    std::string scratch_a, scratch_b;
    std::string_view text_a, text_b;
    string_form(a, scratch_a, text_a);
    string_form(b, scratch_b, text_b);
    return text_a == text_b;
  }
  switch (a.type()) {
    case Type::kArray: {
      if (a.size() != b.size()) return false;
      auto items_a = a.items(), items_b = b.items();
      for (size_t i = 0; i < items_a.size(); ++i) {
        if (!schema_equal(items_a[i], items_b[i])) return false;
      }
      return true;
    }
    case Type::kObject: {
      if (a.size() != b.size()) return false;
      for (const json::Member& member : a.members()) {
        const Value* other = b.find(member.key);
        if (other == nullptr || !schema_equal(member.value, *other)) return false;
      }
      return true;
    }
    default:
      return json::equal(a, b);
  }
}

size_t schema_hash(const Value& value) {
  if (is_numeric(value)) {
    double d = numeric_double(value);
    if (d == 0) d = 0;  // -0 and 0 are equal
    return std::hash<double>{}(d);
  }
  switch (value.type()) {
    case Type::kString:
    case Type::kObjectId:
    case Type::kDate: {
      std::string scratch;
      std::string_view text;
      string_form(value, scratch, text);
      return std::hash<std::string_view>{}(text);
    }
    case Type::kArray: {
      size_t h = 0x9e3779b97f4a7c15ULL;
      for (const Value& item : value.items()) h = h * 1099511628211ULL ^ schema_hash(item);
      return h;
    }
    case Type::kObject: {
      // Member order does not matter: combine commutatively.
      size_t h = value.size();
      for (const json::Member& member : value.members()) {
        h += std::hash<std::string_view>{}(member.key) * 31 + schema_hash(member.value);
      }
      return h;
    }
    case Type::kBool:
      return value.as_bool() ? 1 : 2;
    default:
      return static_cast<size_t>(value.type()) * 7919;
  }
}

size_t code_points(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

}  // namespace canonry::schema::detail
