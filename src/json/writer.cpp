#include "json/writer.h"

#include <charconv>
#include <cmath>

#include "common/base64.h"
#include "common/time.h"

namespace canonry::json {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// True for bytes that must be escaped inside a JSON string.
constexpr bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

void append_date(std::string& out, int64_t millis) {
  // Relaxed extended JSON writes years 1970-9999 as ISO text, others as $numberLong.
  constexpr int64_t kYear10000 = 253402300800000LL;
  if (millis >= 0 && millis < kYear10000) {
    out += "{\"$date\":\"";
    append_rfc3339_millis(out, millis);
    out += "\"}";
  } else {
    out += "{\"$date\":{\"$numberLong\":\"";
    append_int(out, millis);
    out += "\"}}";
  }
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
    out.append(s.data() + start, i - start);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    start = i + 1;
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_int(std::string& out, int64_t i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_value(std::string& out, const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Type::kInteger:
      if (!v.number_text().empty()) {
        out += v.number_text();
      } else {
        append_int(out, v.as_int());
      }
      return;
    case Type::kNumber:
      if (!v.number_text().empty()) {
        out += v.number_text();
      } else {
        append_double(out, v.as_double());
      }
      return;
    case Type::kString:
      append_quoted(out, v.as_string());
      return;
    case Type::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ',';
        first = false;
        append_value(out, item);
      }
      out += ']';
      return;
    }
    case Type::kObject: {
      out += '{';
      bool first = true;
      for (const Member& m : v.members()) {
        if (!first) out += ',';
        first = false;
        append_quoted(out, m.key);
        out += ':';
        append_value(out, m.value);
      }
      out += '}';
      return;
    }
    case Type::kObjectId:
      out += "{\"$oid\":\"";
      out += object_id_hex(v);
      out += "\"}";
      return;
    case Type::kDate:
      append_date(out, v.as_int());
      return;
    case Type::kDecimal: {
      std::string_view text = v.as_string();
      // Finite decimals are written as JSON numbers with their exact digits.
      bool finite = !text.empty() && text.find_first_of("IN") == std::string_view::npos;
      if (finite) {
        out += text;
      } else {
        out += "{\"$numberDecimal\":";
        append_quoted(out, text);
        out += '}';
      }
      return;
    }
    case Type::kBinary: {
      out += "{\"$binary\":{\"base64\":\"";
      out += base64_encode(v.as_string());
      out += "\",\"subType\":\"";
      out += kHex[v.binary_subtype() >> 4];
      out += kHex[v.binary_subtype() & 15];
      out += "\"}}";
      return;
    }
    case Type::kTimestamp:
      out += "{\"$timestamp\":{\"t\":";
      append_int(out, v.timestamp_seconds());
      out += ",\"i\":";
      append_int(out, v.timestamp_increment());
      out += "}}";
      return;
    case Type::kRegex:
      out += "{\"$regularExpression\":{\"pattern\":";
      append_quoted(out, v.regex_pattern());
      out += ",\"options\":";
      append_quoted(out, v.regex_options());
      out += "}}";
      return;
    case Type::kMinKey:
      out += "{\"$minKey\":1}";
      return;
    case Type::kMaxKey:
      out += "{\"$maxKey\":1}";
      return;
  }
}

std::string to_json(const Value& value) {
  std::string out;
  append_value(out, value);
  return out;
}

}  // namespace canonry::json
