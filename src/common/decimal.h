// Exact decimal numbers of any precision: what `decimal`, `scale` and `round` transforms and
// decimal sums compute with, so that money never goes through binary floating point.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace canonry {

// True for JSON-style and Decimal128-style literals: "-12.50", "1e3", "1.5E-7", "NaN", "Infinity".
bool is_decimal_literal(std::string_view text);

// True for text already in the plain notation Decimal::to_string writes: an optional '-', digits
// without a redundant leading zero, and an optional '.' followed by digits. Such text needs no
// normalising.
bool is_plain_decimal(std::string_view text);

class Decimal {
 public:
  Decimal() = default;  // zero
  // Parses "-12.340", "1e-3", "+5", ".5", "5."; nullopt for anything else (NaN and infinities
  // included: they are not numbers a sum or a scale can use).
  static std::optional<Decimal> parse(std::string_view text);
  static Decimal from_int(int64_t value);
  // The shortest decimal that reads back as `value` (what JSON writers print); nullopt if not
  // finite.
  static std::optional<Decimal> from_double(double value);

  Decimal operator+(const Decimal& other) const;
  Decimal operator-(const Decimal& other) const;
  Decimal operator*(const Decimal& other) const;
  Decimal operator-() const;
  std::strong_ordering operator<=>(const Decimal& other) const;
  bool operator==(const Decimal& other) const { return (*this <=> other) == 0; }

  // Rounds to `digits` places after the point (negative: before it), ties to even.
  Decimal round_half_even(int digits) const;
  bool is_zero() const { return digits_.empty(); }
  bool is_negative() const { return negative_; }
  // True when there is no fractional part.
  bool is_integral() const;
  // The value as int64 when integral and in range.
  std::optional<int64_t> to_int64() const;
  double to_double() const;

  // Plain notation, no exponent: "-12.34", "0.001", "1200". Trailing zeros after the point are
  // kept as the computation produced them ("1.50" stays "1.50").
  std::string to_string() const;

 private:
  // value = (negative ? -1 : 1) * digits_ * 10^exponent_; digits_ has no leading zeros and is
  // empty for zero.
  bool negative_ = false;
  std::string digits_;
  int32_t exponent_ = 0;

  void normalize_leading();
  static int compare_magnitude(const Decimal& a, const Decimal& b);
  static Decimal add_magnitudes(const Decimal& a, const Decimal& b, bool negative);
  static Decimal subtract_magnitudes(const Decimal& larger, const Decimal& smaller, bool negative);
};

}  // namespace canonry
