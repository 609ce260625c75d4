// The `format` checks, written from their RFCs: date-time, date, time and duration (RFC 3339 and
// its appendix A), email and idn-email (RFC 5321 mailbox, RFC 6531), hostname (RFC 1123), ipv4,
// ipv6 (RFC 4291 text forms), uri, uri-reference, iri, iri-reference (RFC 3986 / 3987 syntax),
// uri-template (RFC 6570 expression syntax), uuid (RFC 4122 text form), regex (ECMA-262 as far as
// RE2 goes), json-pointer (RFC 6901), relative-json-pointer. idn-hostname is not checked: its
// IDNA 2008 rules need Unicode tables this project does not carry.
#include <array>
#include <cctype>
#include <cstdint>

#include "schema/validator_internal.h"

namespace canonry::schema::detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Exactly `n` ASCII digits at `at`, as a number.
bool digits(std::string_view s, size_t at, size_t n, int& value) {
  if (at + n > s.size()) return false;
  value = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!is_digit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

bool leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool full_date(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= kDays[m - 1] + (m == 2 && leap_year(y));
}

// HH:MM:SS[.frac](Z|+HH:MM); a leap second only where it is 23:59:60 in UTC.
bool full_time(std::string_view s) {
  int h, m, sec;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!digits(s, 0, 2, h) || !digits(s, 3, 2, m) || !digits(s, 6, 2, sec)) return false;
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i >= s.size()) return false;
  int offset_minutes = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return false;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (s.size() != i + 6 || s[i + 3] != ':' || !digits(s, i + 1, 2, oh) ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;
  if (sec == 60) {
    int utc = ((h * 60 + m - offset_minutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

bool check_date_time(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && full_date(s.substr(0, 10)) &&
         full_time(s.substr(11));
}
bool check_date(std::string_view s) {
  return full_date(s);
}
bool check_time(std::string_view s) {
  return full_time(s);
}

// RFC 3339 appendix A: P(nW | date [T time] | T time), units in order and contiguous.
bool check_duration(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return false;
  size_t i = 1;
  auto component = [&](char& unit) -> bool {
    size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start || i >= s.size()) return false;
    unit = s[i++];
    return true;
  };
  if (s[i] != 'T') {
    static constexpr std::string_view kDateUnits = "YMD";
    int expected = -1;  // index into kDateUnits of the previous unit
    while (i < s.size() && s[i] != 'T') {
      char unit;
      if (!component(unit)) return false;
      if (unit == 'W') return expected == -1 && i == s.size();
      size_t position = kDateUnits.find(unit);
      if (position == std::string_view::npos) return false;
      if (expected != -1 && static_cast<int>(position) != expected + 1) return false;
      expected = static_cast<int>(position);
    }
    if (i == s.size()) return true;
  }
  ++i;  // 'T'
  if (i == s.size()) return false;
  static constexpr std::string_view kTimeUnits = "HMS";
  int expected = -1;
  while (i < s.size()) {
    char unit;
    if (!component(unit)) return false;
    size_t position = kTimeUnits.find(unit);
    if (position == std::string_view::npos) return false;
    if (expected != -1 && static_cast<int>(position) != expected + 1) return false;
    expected = static_cast<int>(position);
  }
  return true;
}

bool check_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
    size_t length = i - start;
    if (length == 0 || value > 255 || (length > 1 && s[start] == '0')) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool check_ipv6(std::string_view s) {
  if (s.empty()) return false;
  int groups = 0;
  bool compressed = false;
  size_t i = 0;
  if (s.starts_with("::")) {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && is_hex(s[i])) ++i;
    if (i < s.size() && s[i] == '.') {
      // An embedded IPv4 address takes the last two groups.
      if (!check_ipv4(s.substr(start))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    if (i == start || i - start > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // a single trailing colon
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

bool hostname_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (char c : label) {
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  return true;
}

bool check_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!hostname_label(label)) return false;
    // "xn--" labels are A-labels; any other label must not have "--" in positions 3 and 4.
    if (label.size() >= 4 && label.substr(2, 2) == "--" &&
        !(std::tolower(static_cast<unsigned char>(label[0])) == 'x' &&
          std::tolower(static_cast<unsigned char>(label[1])) == 'n')) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool atext(char c, bool international) {
  if (is_alpha(c) || is_digit(c)) return true;
  if (international && (static_cast<unsigned char>(c) & 0x80)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool mailbox(std::string_view s, bool international) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return false;
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      char c = local[i];
      if (c == '\\') {
        if (++i + 1 >= local.size()) return false;
        continue;
      }
      if (c == '"' || (static_cast<unsigned char>(c) < 32 && c != '\t')) return false;
    }
  } else {
    if (local.front() == '.' || local.back() == '.' || local.find("..") != local.npos) {
      return false;
    }
    for (char c : local) {
      if (c != '.' && !atext(c, international)) return false;
    }
  }
  if (domain.front() == '[') {
    if (domain.back() != ']') return false;
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.starts_with("IPv6:")) return check_ipv6(literal.substr(5));
    return check_ipv4(literal);
  }
  if (!international) return check_hostname(domain);
  // Internationalised domains: labels of letters, digits, hyphens or any non-ASCII.
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? domain.npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-' && !(static_cast<unsigned char>(c) & 0x80)) {
        return false;
      }
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool check_email(std::string_view s) {
  return mailbox(s, false);
}
bool check_idn_email(std::string_view s) {
  return mailbox(s, true);
}

bool check_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool check_regex(std::string_view s) {
  return compile_pattern(s).is_ok();
}

bool check_json_pointer(std::string_view s) {
  if (s.empty()) return true;
  if (s[0] != '/') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && (i + 1 == s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  }
  return true;
}

bool check_relative_json_pointer(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0 || (i > 1 && s[0] == '0')) return false;
  std::string_view rest = s.substr(i);
  return rest == "#" || check_json_pointer(rest);
}

// RFC 3986 / 3987 syntax. `international` allows non-ASCII (IRIs); `relative` allows references
// without a scheme.
bool uri_like(std::string_view s, bool international, bool relative) {
  auto allowed = [&](char c) {
    if (is_alpha(c) || is_digit(c)) return true;
    if (static_cast<unsigned char>(c) & 0x80) return international;
    return std::string_view("-._~!$&'()*+,;=:@/?#[]%").find(c) != std::string_view::npos;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (!allowed(s[i])) return false;
    if (s[i] == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) {
      return false;
    }
  }
  if (s.find('#') != std::string_view::npos &&
      s.substr(s.find('#') + 1).find('#') != std::string_view::npos) {
    return false;
  }
  std::string_view rest = s;
  size_t colon = s.find(':');
  size_t delimiter = s.find_first_of("/?#");
  bool has_scheme = colon != std::string_view::npos && colon > 0 &&
                    (delimiter == std::string_view::npos || colon < delimiter);
  if (has_scheme) {
    std::string_view scheme = s.substr(0, colon);
    if (!is_alpha(scheme[0])) return false;
    for (char c : scheme) {
      if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
        if (!relative) return false;
        has_scheme = false;
        break;
      }
    }
  }
  if (!has_scheme) {
    if (!relative) return false;
    // A relative path's first segment cannot hold a ':' (it would read as a scheme).
    if (colon != std::string_view::npos &&
        (delimiter == std::string_view::npos || colon < delimiter)) {
      return false;
    }
  } else {
    rest = s.substr(colon + 1);
  }
  std::string_view before_query = rest.substr(0, rest.find_first_of("?#"));
  if (before_query.starts_with("//")) {
    std::string_view authority = before_query.substr(2, before_query.find('/', 2) - 2);
    size_t at = authority.find('@');
    if (at != std::string_view::npos && authority.find('@', at + 1) != std::string_view::npos) {
      return false;
    }
    std::string_view host_port =
        at == std::string_view::npos ? authority : authority.substr(at + 1);
    if (at != std::string_view::npos &&
        authority.substr(0, at).find_first_of("[]") != std::string_view::npos) {
      return false;
    }
    std::string_view host = host_port, port;
    if (host_port.starts_with('[')) {
      size_t close = host_port.find(']');
      if (close == std::string_view::npos) return false;
      std::string_view literal = host_port.substr(1, close - 1);
      if (!(literal.starts_with('v') || literal.starts_with('V')) && !check_ipv6(literal)) {
        return false;
      }
      host = host_port.substr(0, close + 1);
      std::string_view after = host_port.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return false;
        port = after.substr(1);
      }
    } else {
      if (host_port.find_first_of("[]") != std::string_view::npos) return false;
      size_t port_colon = host_port.rfind(':');
      if (port_colon != std::string_view::npos) {
        host = host_port.substr(0, port_colon);
        port = host_port.substr(port_colon + 1);
      }
    }
    for (char c : port) {
      if (!is_digit(c)) return false;
    }
    if (!host.starts_with('[') && host.find(':') != std::string_view::npos) return false;
  } else if (before_query.find_first_of("[]") != std::string_view::npos) {
    return false;
  }
  if (rest.find_first_of("?#") != std::string_view::npos &&
      rest.substr(rest.find_first_of("?#")).find_first_of("[]") != std::string_view::npos) {
    return false;
  }
  return true;
}

bool check_uri(std::string_view s) {
  return uri_like(s, false, false);
}
bool check_uri_reference(std::string_view s) {
  return uri_like(s, false, true);
}
bool check_iri(std::string_view s) {
  return uri_like(s, true, false);
}
bool check_iri_reference(std::string_view s) {
  return uri_like(s, true, true);
}

// RFC 6570: literals and {expressions} of an optional operator and a list of varspecs.
bool check_uri_template(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 3;
      continue;
    }
    if (c != '{') {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f ||
          std::string_view("\"<>\\^`|}").find(c) != std::string_view::npos) {
        return false;
      }
      ++i;
      continue;
    }
    ++i;
    if (i < s.size() && std::string_view("+#./;?&").find(s[i]) != std::string_view::npos) ++i;
    while (true) {
      // varname: varchars, single dots between them
      size_t start = i;
      bool dot_allowed = false;
      while (i < s.size()) {
        if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_') {
          ++i;
          dot_allowed = true;
        } else if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
          i += 3;
          dot_allowed = true;
        } else if (s[i] == '.' && dot_allowed) {
          ++i;
          dot_allowed = false;
        } else {
          break;
        }
      }
      if (i == start || !dot_allowed) return false;
      if (i < s.size() && s[i] == '*') {
        ++i;
      } else if (i < s.size() && s[i] == ':') {
        size_t digits_start = ++i;
        while (i < s.size() && is_digit(s[i])) ++i;
        size_t count = i - digits_start;
        if (count == 0 || count > 4 || s[digits_start] == '0') return false;
      }
      if (i >= s.size()) return false;
      if (s[i] == '}') {
        ++i;
        break;
      }
      if (s[i] != ',') return false;
      ++i;
    }
  }
  return true;
}

}  // namespace

FormatCheck find_format(std::string_view name) {
  static constexpr std::pair<std::string_view, FormatCheck> kFormats[] = {
      {"date-time", check_date_time},
      {"date", check_date},
      {"time", check_time},
      {"duration", check_duration},
      {"email", check_email},
      {"idn-email", check_idn_email},
      {"hostname", check_hostname},
      {"ipv4", check_ipv4},
      {"ipv6", check_ipv6},
      {"uri", check_uri},
      {"uri-reference", check_uri_reference},
      {"iri", check_iri},
      {"iri-reference", check_iri_reference},
      {"uri-template", check_uri_template},
      {"uuid", check_uuid},
      {"regex", check_regex},
      {"json-pointer", check_json_pointer},
      {"relative-json-pointer", check_relative_json_pointer},
  };
  for (const auto& [format, check] : kFormats) {
    if (format == name) return check;
  }
  return nullptr;
}

}  // namespace canonry::schema::detail
