#include "common/time.h"

#include <cstdio>

namespace canonry {

// Howard Hinnant's algorithms (public domain, http://howardhinnant.github.io/date_algorithms.html).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& year, unsigned& month, unsigned& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
}

namespace {

bool read_digits(std::string_view s, size_t& pos, size_t count, int64_t& out) {
  if (pos + count > s.size()) return false;
  int64_t value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  out = value;
  return true;
}

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<int64_t> parse_iso8601_micros(std::string_view s) {
  size_t pos = 0;
  int64_t year, month, day;
  bool negative_year = false;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    negative_year = s[pos] == '-';
    ++pos;
  }
  if (!read_digits(s, pos, 4, year)) return std::nullopt;
  if (negative_year) year = -year;
  if (pos >= s.size() || s[pos] != '-') return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, month) || month < 1 || month > 12) return std::nullopt;
  if (pos >= s.size() || s[pos] != '-') return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, day) || day < 1 ||
      day > days_in_month(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  int64_t micros = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                   86400LL * 1000000LL;
  if (pos == s.size()) return micros;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  int64_t hour, minute, second = 0;
  if (!read_digits(s, pos, 2, hour) || hour > 23) return std::nullopt;
  if (pos >= s.size() || s[pos] != ':') return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, minute) || minute > 59) return std::nullopt;
  int64_t fraction_micros = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    // 60 is a leap second; it is folded into the next minute like most systems do.
    if (!read_digits(s, pos, 2, second) || second > 60) return std::nullopt;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      size_t digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 6) fraction_micros = fraction_micros * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (size_t i = digits; i < 6; ++i) fraction_micros *= 10;
    }
  }
  micros += ((hour * 60 + minute) * 60 + second) * 1000000LL + fraction_micros;
  if (pos == s.size()) return micros;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    return pos + 1 == s.size() ? std::optional<int64_t>(micros) : std::nullopt;
  }
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  int sign = s[pos] == '-' ? -1 : 1;
  ++pos;
  int64_t offset_hours, offset_minutes = 0;
  if (!read_digits(s, pos, 2, offset_hours) || offset_hours > 23) return std::nullopt;
  if (pos < s.size()) {
    if (s[pos] == ':') ++pos;
    if (!read_digits(s, pos, 2, offset_minutes) || offset_minutes > 59) return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return micros - sign * (offset_hours * 60 + offset_minutes) * 60 * 1000000LL;
}

namespace {

void append_digits(std::string& out, int64_t value, int width) {
  char buf[24];
  int n = 0;
  uint64_t v = static_cast<uint64_t>(value < 0 ? -value : value);
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < width) buf[n++] = '0';
  if (value < 0) buf[n++] = '-';
  while (n > 0) out += buf[--n];
}

}  // namespace

// Written digit by digit: this is on the mapping hot path, where snprintf cost more than the rest
// of the timestamp transform together.
void append_rfc3339_millis(std::string& out, int64_t epoch_millis) {
  int64_t days = floor_div(epoch_millis, 86400000LL);
  int64_t ms_of_day = epoch_millis - days * 86400000LL;
  int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  append_digits(out, year, 4);
  out += '-';
  append_digits(out, month, 2);
  out += '-';
  append_digits(out, day, 2);
  out += 'T';
  append_digits(out, ms_of_day / 3600000, 2);
  out += ':';
  append_digits(out, ms_of_day / 60000 % 60, 2);
  out += ':';
  append_digits(out, ms_of_day / 1000 % 60, 2);
  out += '.';
  append_digits(out, ms_of_day % 1000, 3);
  out += 'Z';
}

std::string format_rfc3339_millis(int64_t epoch_millis) {
  std::string out;
  append_rfc3339_millis(out, epoch_millis);
  return out;
}

std::string format_date(int64_t epoch_millis) {
  int64_t year;
  unsigned month, day;
  civil_from_days(floor_div(epoch_millis, 86400000LL), year, month, day);
  char buf[24];
  int n =
      std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(year), month, day);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace canonry
