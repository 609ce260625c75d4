// Civil time without time zone databases: RFC 3339 / ISO-8601 parsing into Unix epoch units and
// the canonical RFC 3339 UTC text with milliseconds (DESIGN 4.3 `timestamp`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace canonry {

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day);

// Parses an ISO-8601 / RFC 3339 date-time into microseconds since the epoch. Accepts
// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fraction]]" with 'T', 't' or a space, and an offset
// "Z", "z", "+HH:MM", "+HHMM", "+HH" or none (then UTC). Fractions beyond microseconds are cut.
std::optional<int64_t> parse_iso8601_micros(std::string_view text);

// Floor division of epoch units (negative times round towards the past).
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// "2024-03-01T10:15:00.000Z"
std::string format_rfc3339_millis(int64_t epoch_millis);
void append_rfc3339_millis(std::string& out, int64_t epoch_millis);
// "2024-03-01"
std::string format_date(int64_t epoch_millis);

}  // namespace canonry
