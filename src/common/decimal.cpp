#include "common/decimal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace canonry {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Digits of a coefficient aligned to a common exponent: appends zeros.
std::string scaled(const std::string& digits, int32_t shift) {
  std::string out = digits;
  out.append(static_cast<size_t>(shift), '0');
  return out;
}

// Compares two digit strings without leading zeros as unsigned integers.
int compare_digits(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string strip_leading_zeros(std::string s) {
  size_t first = s.find_first_not_of('0');
  if (first == std::string::npos) return {};
  s.erase(0, first);
  return s;
}

}  // namespace

bool is_plain_decimal(std::string_view text) {
  size_t pos = 0;
  if (pos < text.size() && text[pos] == '-') ++pos;
  size_t int_start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  size_t int_digits = pos - int_start;
  if (int_digits == 0 || (int_digits > 1 && text[int_start] == '0')) return false;
  if (pos == text.size()) return true;
  if (text[pos] != '.') return false;
  size_t frac_start = ++pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  return pos == text.size() && pos > frac_start;
}

bool is_decimal_literal(std::string_view text) {
  std::string_view body = text;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  if (body == "NaN" || body == "Infinity" || body == "Inf") return true;
  return Decimal::parse(text).has_value();
}

std::optional<Decimal> Decimal::parse(std::string_view text) {
  Decimal d;
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    d.negative_ = text[pos] == '-';
    ++pos;
  }
  size_t int_digits = 0, frac_digits = 0;
  std::string digits;
  while (pos < text.size() && is_digit(text[pos])) {
    digits += text[pos++];
    ++int_digits;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && is_digit(text[pos])) {
      digits += text[pos++];
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  int64_t exponent = -static_cast<int64_t>(frac_digits);
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
      exp_negative = text[pos] == '-';
      ++pos;
    }
    if (pos >= text.size() || !is_digit(text[pos])) return std::nullopt;
    int64_t e = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      e = e * 10 + (text[pos++] - '0');
      if (e > 6200) return std::nullopt;  // beyond Decimal128; refuse rather than allocate
    }
    exponent += exp_negative ? -e : e;
  }
  if (pos != text.size()) return std::nullopt;
  d.digits_ = std::move(digits);
  d.exponent_ = static_cast<int32_t>(exponent);
  d.normalize_leading();
  return d;
}

Decimal Decimal::from_int(int64_t value) {
  Decimal d;
  d.negative_ = value < 0;
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  d.digits_ = magnitude == 0 ? std::string() : std::to_string(magnitude);
  return d;
}

std::optional<Decimal> Decimal::from_double(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return std::nullopt;
  return parse(std::string_view(buf, static_cast<size_t>(end - buf)));
}

void Decimal::normalize_leading() {
  digits_ = strip_leading_zeros(std::move(digits_));
  if (digits_.empty()) negative_ = false;
}

int Decimal::compare_magnitude(const Decimal& a, const Decimal& b) {
  int32_t e = std::min(a.exponent_, b.exponent_);
  return compare_digits(strip_leading_zeros(scaled(a.digits_, a.exponent_ - e)),
                        strip_leading_zeros(scaled(b.digits_, b.exponent_ - e)));
}

Decimal Decimal::add_magnitudes(const Decimal& a, const Decimal& b, bool negative) {
  int32_t e = std::min(a.exponent_, b.exponent_);
  std::string x = scaled(a.digits_, a.exponent_ - e);
  std::string y = scaled(b.digits_, b.exponent_ - e);
  if (x.size() < y.size()) std::swap(x, y);
  std::string out(x.size() + 1, '0');
  int carry = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int sum = carry;
    if (i < x.size()) sum += x[x.size() - 1 - i] - '0';
    if (i < y.size()) sum += y[y.size() - 1 - i] - '0';
    out[out.size() - 1 - i] = static_cast<char>('0' + sum % 10);
    carry = sum / 10;
  }
  Decimal d;
  d.negative_ = negative;
  d.digits_ = std::move(out);
  d.exponent_ = e;
  d.normalize_leading();
  return d;
}

Decimal Decimal::subtract_magnitudes(const Decimal& larger, const Decimal& smaller, bool negative) {
  int32_t e = std::min(larger.exponent_, smaller.exponent_);
  std::string x = scaled(larger.digits_, larger.exponent_ - e);
  std::string y = scaled(smaller.digits_, smaller.exponent_ - e);
  std::string out(x.size(), '0');
  int borrow = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    int diff = (x[x.size() - 1 - i] - '0') - borrow;
    if (i < y.size()) diff -= y[y.size() - 1 - i] - '0';
    borrow = diff < 0;
    if (diff < 0) diff += 10;
    out[out.size() - 1 - i] = static_cast<char>('0' + diff);
  }
  Decimal d;
  d.negative_ = negative;
  d.digits_ = std::move(out);
  d.exponent_ = e;
  d.normalize_leading();
  return d;
}

Decimal Decimal::operator+(const Decimal& other) const {
  if (negative_ == other.negative_) return add_magnitudes(*this, other, negative_);
  int c = compare_magnitude(*this, other);
  if (c == 0) {
    Decimal zero;
    zero.exponent_ = std::min(exponent_, other.exponent_);
    return zero;
  }
  return c > 0 ? subtract_magnitudes(*this, other, negative_)
               : subtract_magnitudes(other, *this, other.negative_);
}

Decimal Decimal::operator-() const {
  Decimal d = *this;
  if (!d.digits_.empty()) d.negative_ = !d.negative_;
  return d;
}

Decimal Decimal::operator-(const Decimal& other) const {
  return *this + (-other);
}

Decimal Decimal::operator*(const Decimal& other) const {
  Decimal d;
  d.exponent_ = exponent_ + other.exponent_;
  if (digits_.empty() || other.digits_.empty()) return d;
  std::vector<int> acc(digits_.size() + other.digits_.size(), 0);
  for (size_t i = 0; i < digits_.size(); ++i) {
    int a = digits_[digits_.size() - 1 - i] - '0';
    for (size_t j = 0; j < other.digits_.size(); ++j) {
      acc[i + j] += a * (other.digits_[other.digits_.size() - 1 - j] - '0');
    }
  }
  int carry = 0;
  for (int& v : acc) {
    v += carry;
    carry = v / 10;
    v %= 10;
  }
  std::string out(acc.size(), '0');
  for (size_t i = 0; i < acc.size(); ++i) out[acc.size() - 1 - i] = static_cast<char>('0' + acc[i]);
  d.digits_ = std::move(out);
  d.negative_ = negative_ != other.negative_;
  d.normalize_leading();
  return d;
}

std::strong_ordering Decimal::operator<=>(const Decimal& other) const {
  if (negative_ != other.negative_) {
    return negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  int c = compare_magnitude(*this, other);
  if (negative_) c = -c;
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

bool Decimal::is_integral() const {
  if (exponent_ >= 0 || digits_.empty()) return true;
  size_t frac = static_cast<size_t>(-exponent_);
  if (frac > digits_.size()) return false;
  return digits_.find_first_not_of('0', digits_.size() - frac) == std::string::npos;
}

std::optional<int64_t> Decimal::to_int64() const {
  if (!is_integral()) return std::nullopt;
  std::string text;
  if (exponent_ >= 0) {
    text = digits_.empty() ? "0" : scaled(digits_, exponent_);
  } else {
    size_t frac = static_cast<size_t>(-exponent_);
    text = digits_.size() > frac ? digits_.substr(0, digits_.size() - frac) : "0";
  }
  if (text.size() > 19) return std::nullopt;
  if (negative_) text.insert(text.begin(), '-');
  int64_t value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

double Decimal::to_double() const {
  std::string text = (negative_ ? "-" : "") + (digits_.empty() ? std::string("0") : digits_) + "e" +
                     std::to_string(exponent_);
  return std::strtod(text.c_str(), nullptr);
}

Decimal Decimal::round_half_even(int digits) const {
  // Number of coefficient digits to drop so that the exponent becomes -digits.
  int64_t drop = static_cast<int64_t>(-digits) - exponent_;
  if (drop <= 0) {
    // Already exact at that precision: written with exactly `digits` places, like money is.
    Decimal padded = *this;
    if (!padded.digits_.empty()) padded.digits_.append(static_cast<size_t>(-drop), '0');
    padded.exponent_ = -digits;
    return padded;
  }
  Decimal d;
  d.negative_ = negative_;
  d.exponent_ = -digits;
  if (static_cast<size_t>(drop) > digits_.size()) {
    // Everything is below half a unit of the last kept place, except nothing: all digits dropped.
    return d;
  }
  std::string kept = digits_.substr(0, digits_.size() - static_cast<size_t>(drop));
  std::string_view rest = std::string_view(digits_).substr(kept.size());
  int first = rest[0] - '0';
  bool beyond_half = rest.find_first_not_of('0', 1) != std::string_view::npos;
  bool round_up = first > 5 || (first == 5 && beyond_half) ||
                  (first == 5 && !beyond_half && !kept.empty() && ((kept.back() - '0') % 2 == 1));
  if (round_up) {
    int i = static_cast<int>(kept.size()) - 1;
    while (i >= 0 && kept[static_cast<size_t>(i)] == '9') kept[static_cast<size_t>(i--)] = '0';
    if (i < 0) {
      kept.insert(kept.begin(), '1');
    } else {
      ++kept[static_cast<size_t>(i)];
    }
  }
  d.digits_ = std::move(kept);
  d.normalize_leading();
  return d;
}

std::string Decimal::to_string() const {
  std::string out;
  if (negative_) out += '-';
  std::string digits = digits_.empty() ? std::string("0") : digits_;
  if (exponent_ >= 0) {
    out += digits;
    if (!digits_.empty()) out.append(static_cast<size_t>(exponent_), '0');
    return out;
  }
  size_t frac = static_cast<size_t>(-exponent_);
  if (digits.size() <= frac) {
    out += "0.";
    out.append(frac - digits.size(), '0');
    out += digits;
  } else {
    out += digits.substr(0, digits.size() - frac);
    out += '.';
    out += digits.substr(digits.size() - frac);
  }
  return out;
}

}  // namespace canonry
