#include "schema/profile.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/time.h"
#include "json/writer.h"

namespace canonry::schema {
namespace {

using json::Type;

constexpr size_t kIndexFrom = 16;  // members scanned linearly below this many

// Byte equality that settles short strings (member names, most values) with two word loads
// each instead of a memcmp call.
inline bool same_bytes(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool digits(std::string_view s, size_t from, size_t n) {
  for (size_t i = from; i < from + n; ++i) {
    if (!is_digit(s[i])) return false;
  }
  return true;
}

int two_digits(std::string_view s, size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// YYYY-MM-DD at the start of s (s.size() >= 10).
bool full_date(std::string_view s) {
  if (!digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2)) {
    return false;
  }
  int month = two_digits(s, 5);
  int day = two_digits(s, 8);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// RFC 3339 date-time: full-date "T" HH:MM:SS [.fraction] ("Z" / ±HH:MM).
bool date_time(std::string_view s) {
  if (s.size() < 20 || !full_date(s) || (s[10] != 'T' && s[10] != 't')) return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2)) {
    return false;
  }
  if (two_digits(s, 11) > 23 || two_digits(s, 14) > 59 || two_digits(s, 17) > 60) return false;
  size_t i = 19;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  return s.size() - i == 6 && digits(s, i + 1, 2) && s[i + 3] == ':' && digits(s, i + 4, 2) &&
         two_digits(s, i + 1) <= 23 && two_digits(s, i + 4) <= 59;
}

bool uuid(std::string_view s) {
  for (size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool ipv4(std::string_view s) {
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    int value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
    size_t len = i - start;
    if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) return false;
  }
  return i == s.size();
}

bool email(std::string_view s, size_t at) {
  if (at == 0 || at + 1 >= s.size() || s.size() > 254) return false;
  std::string_view domain = s.substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '<' || c == '>' || c == ',') {
      return false;
    }
  }
  return domain.find('@') == std::string_view::npos && domain.find("..") == std::string_view::npos;
}

// An absolute URI with a hierarchical part ("scheme://authority...") or one of the common
// schemes without one; bare "word:word" is too often not a URI to count.
bool uri(std::string_view s) {
  size_t i = 1;
  while (i < s.size() &&
         (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
    ++i;
  }
  if (i >= s.size() || s[i] != ':') return false;
  std::string_view scheme = s.substr(0, i);
  std::string_view rest = s.substr(i + 1);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>') return false;
  }
  if (rest.size() > 2 && rest[0] == '/' && rest[1] == '/') return true;
  return !rest.empty() && (scheme == "mailto" || scheme == "urn" || scheme == "tel" ||
                           scheme == "data" || scheme == "file");
}

// One pass over a string that the compiler vectorises: its length in code points, and whether
// the characters that an e-mail address and a URI need occur at all, so that most strings skip
// those checks.
struct StringScan {
  uint64_t code_points = 0;
  uint64_t ats = 0;
  uint64_t colons = 0;
};

StringScan scan_string(std::string_view s) {
  StringScan scan;
  for (char c : s) {
    scan.code_points += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    scan.ats += c == '@';
    scan.colons += c == ':';
  }
  return scan;
}

std::optional<StringFormat> detect_scanned(std::string_view s, const StringScan& scan) {
  size_t n = s.size();
  if (n < 5) return std::nullopt;
  char first = s[0];
  if (is_digit(first)) {
    if (n == 10 && full_date(s)) return StringFormat::kDate;
    if (n >= 20 && s[4] == '-' && date_time(s)) return StringFormat::kDateTime;
    if (n <= 15 && ipv4(s)) return StringFormat::kIpv4;
  }
  if (n == 24) {
    bool hex = true;
    for (char c : s) hex = hex && is_hex(c);
    if (hex) return StringFormat::kObjectIdHex;
  }
  if (n == 36 && is_hex(first) && uuid(s)) return StringFormat::kUuid;
  if (scan.colons > 0 && is_alpha(first) && uri(s)) return StringFormat::kUri;
  if (scan.ats == 1 && email(s, s.find('@'))) return StringFormat::kEmail;
  return std::nullopt;
}

bool datalike_name(std::string_view name) {
  for (char c : name) {
    if (is_digit(c)) return true;
  }
  return false;
}

// The bytes that identify a scalar value for counting: equal values give equal bytes within a
// type. Fixed-size values are written to `buffer`.
std::string_view value_identity(const json::Value& v, char (&buffer)[16]) {
  auto put64 = [&](uint64_t x) {
    std::memcpy(buffer, &x, 8);
    return std::string_view(buffer, 8);
  };
  switch (v.type()) {
    case Type::kBool:
      buffer[0] = v.as_bool() ? 1 : 0;
      return {buffer, 1};
    case Type::kInteger:
      return v.is_big_integer() ? v.number_text() : put64(static_cast<uint64_t>(v.as_int()));
    case Type::kNumber: {
      double d = v.as_double();
      if (d == 0) d = 0;  // -0 and 0 are one value
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      return put64(std::bit_cast<uint64_t>(d));
    }
    case Type::kDate:
    case Type::kTimestamp:
      return put64(static_cast<uint64_t>(v.as_int()));
    case Type::kObjectId:
      std::memcpy(buffer, v.object_id_bytes(), 12);
      return {buffer, 12};
    case Type::kBinary:
      // The subtype is part of the identity; it is prepended by the caller (see add_scalar).
    case Type::kString:
    case Type::kDecimal:
    case Type::kRegex:
      return v.as_string();
    default:
      return {};
  }
}

json::Value value_from_identity(Type type, std::string_view payload) {
  auto get64 = [&]() {
    uint64_t x = 0;
    std::memcpy(&x, payload.data(), std::min<size_t>(8, payload.size()));
    return x;
  };
  switch (type) {
    case Type::kBool:
      return json::Value::boolean(!payload.empty() && payload[0] != 0);
    case Type::kInteger:
      return payload.size() == 8 ? json::Value::integer(static_cast<int64_t>(get64()))
                                 : json::Value::big_integer(payload);
    case Type::kNumber:
      return json::Value::number(std::bit_cast<double>(get64()));
    case Type::kString:
      return json::Value::string(payload);
    case Type::kDecimal:
      return json::Value::decimal(payload);
    case Type::kRegex:
      return json::Value::regex(payload);
    case Type::kBinary:
      return json::Value::binary(payload.substr(1), static_cast<uint8_t>(payload[0]));
    case Type::kObjectId:
      return json::Value::object_id(reinterpret_cast<const uint8_t*>(payload.data()));
    case Type::kDate:
      return json::Value::date(static_cast<int64_t>(get64()));
    case Type::kTimestamp: {
      uint64_t x = get64();
      return json::Value::timestamp(static_cast<uint32_t>(x >> 32), static_cast<uint32_t>(x));
    }
    case Type::kMinKey:
      return json::Value::min_key();
    case Type::kMaxKey:
      return json::Value::max_key();
    default:
      return json::Value::null();
  }
}

uint64_t identity_hash(Type type, std::string_view payload) {
  uint64_t seed = static_cast<uint64_t>(type) + 1;
  if (payload.size() == 8 && type != Type::kString && type != Type::kDecimal &&
      type != Type::kRegex && type != Type::kBinary) {
    uint64_t x;
    std::memcpy(&x, payload.data(), 8);
    return hash_u64(x, seed);
  }
  return hash_bytes(payload, seed);
}

// Tie-break of equally frequent values in `top`: by type, then in the type's natural order.
bool identity_less(const ValueCounter::Entry& a, const ValueCounter::Entry& b) {
  if (a.type != b.type) return a.type < b.type;
  bool fixed = a.payload.size() == 8 && b.payload.size() == 8;
  if (fixed && (a.type == Type::kInteger || a.type == Type::kDate || a.type == Type::kTimestamp ||
                a.type == Type::kNumber)) {
    uint64_t x, y;
    std::memcpy(&x, a.payload.data(), 8);
    std::memcpy(&y, b.payload.data(), 8);
    if (a.type == Type::kNumber) return std::bit_cast<double>(x) < std::bit_cast<double>(y);
    if (a.type == Type::kTimestamp) return x < y;
    return static_cast<int64_t>(x) < static_cast<int64_t>(y);
  }
  return a.payload < b.payload;
}

std::string_view bounded_prefix(std::string_view s, size_t bound) {
  if (s.size() <= bound) return s;
  size_t cut = bound;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return s.substr(0, cut);
}

// Byte-wise a < b, deciding on the first byte when it differs: most strings do, and that
// spares a memcmp call per bound.
inline bool string_less(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
  }
  return a < b;
}

void add_string(FieldStats& stats, std::string_view text, uint64_t weight,
                const ProfileOptions& options) {
  std::string_view bounded = bounded_prefix(text, options.string_bound_bytes);
  if (!stats.strings_seen) {
    stats.strings_seen = true;
    stats.string_min.assign(bounded);
    stats.string_max.assign(bounded);
  } else if (string_less(bounded, stats.string_min)) {
    stats.string_min.assign(bounded);
  } else if (string_less(stats.string_max, bounded)) {
    stats.string_max.assign(bounded);
  }
  StringScan scan = scan_string(text);
  stats.string_lengths.add(static_cast<int64_t>(scan.code_points));
  if (auto format = detect_scanned(text, scan))
    stats.formats[static_cast<size_t>(*format)] += weight;
  stats.values.add(identity_hash(Type::kString, text), Type::kString, text, weight,
                   options.exact_values);
}

void add_scalar(FieldStats& stats, const json::Value& v, const ProfileOptions& options) {
  char buffer[16];
  std::string_view payload = value_identity(v, buffer);
  std::string binary_identity;
  if (v.type() == Type::kBinary) {
    binary_identity.reserve(payload.size() + 1);
    binary_identity += static_cast<char>(v.binary_subtype());
    binary_identity += payload;
    payload = binary_identity;
  }
  stats.values.add(identity_hash(v.type(), payload), v.type(), payload, 1, options.exact_values);
}

void merge_stats(FieldStats& into, const FieldStats& from, const ProfileOptions& options) {
  into.count += from.count;
  for (size_t i = 0; i < kTypeCount; ++i) into.types[i] += from.types[i];
  into.integers.merge(from.integers);
  into.numbers.merge(from.numbers);
  into.dates.merge(from.dates);
  if (from.strings_seen) {
    if (!into.strings_seen) {
      into.strings_seen = true;
      into.string_min = from.string_min;
      into.string_max = from.string_max;
    } else {
      if (from.string_min < into.string_min) into.string_min = from.string_min;
      if (from.string_max > into.string_max) into.string_max = from.string_max;
    }
  }
  into.string_lengths.merge(from.string_lengths);
  for (size_t i = 0; i < kFormatCount; ++i) into.formats[i] += from.formats[i];
  into.array_lengths.merge(from.array_lengths);
  into.values.merge(from.values, options.exact_values);
}

class Walker {
 public:
  explicit Walker(const ProfileOptions& options) : options_(options) {}

  void visit(FieldNode& node, const json::Value& v) {
    FieldStats& stats = node.stats;
    ++stats.count;
    ++stats.types[static_cast<size_t>(v.type())];
    switch (v.type()) {
      case Type::kNull:
        return;
      case Type::kObject:
        visit_object(node, v);
        return;
      case Type::kArray: {
        stats.array_lengths.add(v.size());
        if (v.size() == 0) return;
        if (!node.items) node.items = std::make_unique<FieldNode>();
        for (const json::Value& item : v.items()) visit(*node.items, item);
        return;
      }
      case Type::kString:
        add_string(stats, v.as_string(), 1, options_);
        return;
      case Type::kInteger:
        if (v.is_big_integer()) {
          stats.numbers.add(v.as_double());
        } else {
          stats.integers.add(v.as_int());
        }
        break;
      case Type::kNumber:
        if (std::isfinite(v.as_double())) stats.numbers.add(v.as_double());
        break;
      case Type::kDecimal: {
        std::string_view text = v.as_string();
        double d = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec == std::errc() && end == text.data() + text.size() && std::isfinite(d)) {
          stats.numbers.add(d);
        }
        break;
      }
      case Type::kDate:
        stats.dates.add(v.as_int());
        break;
      default:
        break;
    }
    add_scalar(stats, v, options_);
  }

  static void merge(FieldNode& into, const FieldNode& from, const ProfileOptions& options);
  static void collapse(FieldNode& node, const ProfileOptions& options);
  // Folds named members into a dynamic node: their values into its value profile, their names
  // (weighted by occurrences) into its name profile.
  static void fold_members(FieldNode& dynamic,
                           const std::vector<std::unique_ptr<FieldNode>>& members,
                           const ProfileOptions& options);

 private:
  void visit_object(FieldNode& node, const json::Value& v) {
    node.member_occurrences += v.size();
    size_t cursor = 0;
    for (const json::Member& m : v.members()) {
      if (node.is_dynamic()) {
        visit(*node.dynamic_values, m.value);
        FieldStats& names = node.dynamic_names->stats;
        ++names.count;
        ++names.types[static_cast<size_t>(Type::kString)];
        add_string(names, m.key, 1, options_);
        continue;
      }
      FieldNode* child;
      // Documents of one source mostly list members in the same order: try the next one first.
      if (cursor < node.members.size() && same_bytes(node.members[cursor]->name, m.key)) {
        child = node.members[cursor++].get();
      } else {
        child = find_or_add(node, m.key, cursor, options_);
        if (child == nullptr) {  // the new name made the object a map: this member goes there
          visit(*node.dynamic_values, m.value);
          FieldStats& names = node.dynamic_names->stats;
          ++names.count;
          ++names.types[static_cast<size_t>(Type::kString)];
          add_string(names, m.key, 1, options_);
          continue;
        }
      }
      visit(*child, m.value);
    }
  }

  // The member node for `name`, added when new; nullptr when adding it made the node dynamic.
  static FieldNode* find_or_add(FieldNode& node, std::string_view name, size_t& cursor,
                                const ProfileOptions& options, bool may_collapse = true) {
    auto& members = node.members;
    if (!node.index.empty()) {
      auto it = node.index.find(name);
      if (it != node.index.end()) {
        cursor = it->second + 1;
        return members[it->second].get();
      }
    } else {
      for (size_t i = 0; i < members.size(); ++i) {
        if (same_bytes(members[i]->name, name)) {
          cursor = i + 1;
          return members[i].get();
        }
      }
    }
    auto child = std::make_unique<FieldNode>();
    child->name.assign(name);
    FieldNode* raw = child.get();
    members.push_back(std::move(child));
    if (datalike_name(name)) ++node.datalike_names;
    if (members.size() == kIndexFrom) {
      for (uint32_t i = 0; i < members.size(); ++i) node.index.emplace(members[i]->name, i);
    } else if (members.size() > kIndexFrom) {
      node.index.emplace(raw->name, static_cast<uint32_t>(members.size() - 1));
    }
    cursor = members.size();
    if (may_collapse && node.looks_dynamic(options)) {
      collapse(node, options);
      return nullptr;
    }
    return raw;
  }

  const ProfileOptions& options_;
};

void Walker::collapse(FieldNode& node, const ProfileOptions& options) {
  node.dynamic_values = std::make_unique<FieldNode>();
  node.dynamic_names = std::make_unique<FieldNode>();
  fold_members(node, node.members, options);
  node.members.clear();
  node.members.shrink_to_fit();
  node.index.clear();
  node.datalike_names = 0;
}

void Walker::fold_members(FieldNode& dynamic,
                          const std::vector<std::unique_ptr<FieldNode>>& members,
                          const ProfileOptions& options) {
  FieldStats& names = dynamic.dynamic_names->stats;
  for (const auto& member : members) {
    merge(*dynamic.dynamic_values, *member, options);
    uint64_t weight = member->stats.count;
    names.count += weight;
    names.types[static_cast<size_t>(Type::kString)] += weight;
    add_string(names, member->name, weight, options);
  }
}

void Walker::merge(FieldNode& into, const FieldNode& from, const ProfileOptions& options) {
  merge_stats(into.stats, from.stats, options);
  if (from.items) {
    if (!into.items) into.items = std::make_unique<FieldNode>();
    merge(*into.items, *from.items, options);
  }
  into.member_occurrences += from.member_occurrences;
  if (from.is_dynamic() && !into.is_dynamic()) collapse(into, options);
  if (into.is_dynamic()) {
    if (from.is_dynamic()) {
      merge(*into.dynamic_values, *from.dynamic_values, options);
      merge_stats(into.dynamic_names->stats, from.dynamic_names->stats, options);
    }
    fold_members(into, from.members, options);
    return;
  }
  size_t cursor = 0;
  for (const auto& member : from.members) {
    FieldNode* child = find_or_add(into, member->name, cursor, options, /*may_collapse=*/false);
    merge(*child, *member, options);
  }
  if (into.looks_dynamic(options)) collapse(into, options);
}

// A double written so that it reads as a JSON number with a fraction ("1.0", not "1"): profile
// consumers tell integer statistics from real ones by it.
void append_real(std::string& out, double d) {
  size_t start = out.size();
  json::append_double(out, d);
  if (out.find_first_of(".en", start) == std::string::npos) out += ".0";
}

void append_min_max_value(std::string& out, const FieldStats& s, bool want_min) {
  bool have_int = s.integers.seen;
  bool have_num = s.numbers.seen;
  if (have_int || have_num) {
    int64_t i = want_min ? s.integers.min : s.integers.max;
    double d = want_min ? s.numbers.min : s.numbers.max;
    bool use_int =
        have_int &&
        (!have_num || (want_min ? static_cast<double>(i) <= d : static_cast<double>(i) >= d));
    if (use_int) {
      json::append_int(out, i);
    } else {
      append_real(out, d);
    }
  } else if (s.dates.seen) {
    out += '"';
    append_rfc3339_millis(out, want_min ? s.dates.min : s.dates.max);
    out += '"';
  } else {
    json::append_quoted(out, want_min ? s.string_min : s.string_max);
  }
}

void write_node_lines(std::string& out, const FieldNode& node, std::string& path,
                      uint64_t parent_count, const ProfileOptions& options) {
  out += "{\"path\":";
  json::append_quoted(out, path);
  out += ',';
  append_stats_members(out, node, parent_count, options);
  out += "}\n";
  size_t length = path.size();
  for (const auto& member : node.members) {
    append_member_path(path, member->name);
    write_node_lines(out, *member, path, node.objects(), options);
    path.resize(length);
  }
  if (node.dynamic_values) {
    path += ".*";
    write_node_lines(out, *node.dynamic_values, path, node.objects(), options);
    path.resize(length);
  }
  if (node.items) {
    path += "[*]";
    write_node_lines(out, *node.items, path, node.arrays(), options);
    path.resize(length);
  }
}

}  // namespace

std::string_view string_format_name(StringFormat format) {
  switch (format) {
    case StringFormat::kDateTime:
      return "date-time";
    case StringFormat::kDate:
      return "date";
    case StringFormat::kEmail:
      return "email";
    case StringFormat::kUuid:
      return "uuid";
    case StringFormat::kUri:
      return "uri";
    case StringFormat::kIpv4:
      return "ipv4";
    case StringFormat::kObjectIdHex:
      return "objectid-hex";
  }
  return "";
}

std::optional<StringFormat> detect_string_format(std::string_view s) {
  return detect_scanned(s, scan_string(s));
}

void ValueCounter::rebuild_slots(size_t capacity) {
  size_t size = std::bit_ceil(std::max<size_t>(4, capacity * 2));
  slots_.assign(size, 0);
  size_t mask = size - 1;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    size_t at = entries_[i].hash & mask;
    while (slots_[at] != 0) at = (at + 1) & mask;
    slots_[at] = i + 1;
  }
}

void ValueCounter::overflow() {
  sketch_ = std::make_unique<HyperLogLog>();
  for (const Entry& e : entries_) sketch_->add_hash(e.hash);
  entries_.clear();
  entries_.shrink_to_fit();
  slots_.clear();
  slots_.shrink_to_fit();
}

void ValueCounter::add_exact(uint64_t hash, json::Type type, std::string_view payload,
                             uint64_t weight, size_t capacity) {
  if (slots_.empty()) rebuild_slots(capacity);
  size_t mask = slots_.size() - 1;
  size_t at = hash & mask;
  while (slots_[at] != 0) {
    Entry& e = entries_[slots_[at] - 1];
    if (e.hash == hash && e.type == type && same_bytes(e.payload, payload)) {
      e.count += weight;
      return;
    }
    at = (at + 1) & mask;
  }
  if (entries_.size() >= capacity) {
    overflow();
    sketch_->add_hash(hash);
    return;
  }
  entries_.push_back(Entry{hash, weight, type, std::string(payload)});
  slots_[at] = static_cast<uint32_t>(entries_.size());
}

void ValueCounter::merge(const ValueCounter& other, size_t capacity) {
  if (other.sketch_) {
    if (!sketch_) overflow();
    sketch_->merge(*other.sketch_);
    return;
  }
  for (const Entry& e : other.entries_) add(e.hash, e.type, e.payload, e.count, capacity);
}

uint64_t ValueCounter::distinct() const {
  if (!sketch_) return entries_.size();
  return static_cast<uint64_t>(std::llround(sketch_->estimate()));
}

const FieldNode* FieldNode::member(std::string_view wanted) const {
  for (const auto& m : members) {
    if (m->name == wanted) return m.get();
  }
  return nullptr;
}

bool FieldNode::looks_dynamic(const ProfileOptions& options) const {
  uint64_t names = members.size();
  if (names > options.dynamic_max_keys) return true;
  if (names <= options.dynamic_min_keys) return false;
  // Most names carry digits (numbers, SKUs, ids, dates) ...
  if (datalike_names * 4 >= names * 3) return true;
  // ... or an average name is present in fewer than one object in ten.
  return member_occurrences * 10 < objects() * names;
}

Profile::Profile(ProfileOptions options)
    : options_(options), root_(std::make_unique<FieldNode>()) {}
Profile::Profile(Profile&&) noexcept = default;
Profile& Profile::operator=(Profile&&) noexcept = default;
Profile::~Profile() = default;

void Profile::add(const json::Value& document) {
  Walker(options_).visit(*root_, document);
}

void Profile::merge(const Profile& other) {
  Walker::merge(*root_, *other.root_, options_);
}

void Profile::write_lines(std::string& out) const {
  std::string path = "$";
  write_node_lines(out, *root_, path, root_->stats.count, options_);
}

void append_member_path(std::string& path, std::string_view name) {
  bool identifier = !name.empty() && (is_alpha(name[0]) || name[0] == '_');
  for (char c : name) identifier = identifier && (is_alpha(c) || is_digit(c) || c == '_');
  if (identifier) {
    path += '.';
    path += name;
    return;
  }
  path += "['";
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      path += '\\';
      path += c;
    } else if (u < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      path += "\\u00";
      path += kHex[u >> 4];
      path += kHex[u & 15];
    } else {
      path += c;
    }
  }
  path += "']";
}

void append_stats_members(std::string& out, const FieldNode& node, uint64_t parent_count,
                          const ProfileOptions& options) {
  const FieldStats& s = node.stats;
  out += "\"count\":";
  json::append_int(out, static_cast<int64_t>(s.count));
  out += ",\"presence\":";
  double presence = parent_count == 0 ? 0.0 : static_cast<double>(s.count) / parent_count;
  append_real(out, presence);
  out += ",\"types\":{";
  bool first = true;
  for (size_t t = 0; t < kTypeCount; ++t) {
    if (s.types[t] == 0) continue;
    if (!first) out += ',';
    first = false;
    json::append_quoted(out, json::type_name(static_cast<Type>(t)));
    out += ':';
    json::append_int(out, static_cast<int64_t>(s.types[t]));
  }
  out += "},\"nulls\":";
  json::append_int(out, static_cast<int64_t>(s.nulls()));
  out += ",\"distinct\":";
  json::append_int(out, static_cast<int64_t>(s.values.distinct()));
  if (s.integers.seen || s.numbers.seen || s.dates.seen || s.strings_seen) {
    out += ",\"min\":";
    append_min_max_value(out, s, true);
    out += ",\"max\":";
    append_min_max_value(out, s, false);
  }
  if (s.strings_seen) {
    out += ",\"lengths\":{\"min\":";
    json::append_int(out, s.string_lengths.min);
    out += ",\"max\":";
    json::append_int(out, s.string_lengths.max);
    out += "},\"formats\":{";
    first = true;
    for (size_t f = 0; f < kFormatCount; ++f) {
      if (s.formats[f] == 0) continue;
      if (!first) out += ',';
      first = false;
      json::append_quoted(out, string_format_name(static_cast<StringFormat>(f)));
      out += ':';
      json::append_int(out, static_cast<int64_t>(s.formats[f]));
    }
    out += '}';
  }
  if (s.values.exact() && !s.values.entries().empty()) {
    std::vector<const ValueCounter::Entry*> order;
    order.reserve(s.values.entries().size());
    for (const auto& e : s.values.entries()) order.push_back(&e);
    size_t shown = std::min(options.top_entries, order.size());
    std::partial_sort(order.begin(), order.begin() + shown, order.end(),
                      [](const ValueCounter::Entry* a, const ValueCounter::Entry* b) {
                        if (a->count != b->count) return a->count > b->count;
                        return identity_less(*a, *b);
                      });
    out += ",\"top\":[";
    for (size_t i = 0; i < shown; ++i) {
      if (i > 0) out += ',';
      out += "{\"value\":";
      if (order[i]->type == Type::kDecimal) {
        // Written as {"$numberDecimal": …}, not as the plain number append_value makes of it,
        // so that a decimal and a double with the same digits stay apart.
        out += "{\"$numberDecimal\":";
        json::append_quoted(out, order[i]->payload);
        out += '}';
      } else {
        json::append_value(out, value_from_identity(order[i]->type, order[i]->payload));
      }
      out += ",\"count\":";
      json::append_int(out, static_cast<int64_t>(order[i]->count));
      out += '}';
    }
    out += ']';
  }
  if (s.array_lengths.seen) {
    out += ",\"itemCounts\":{\"min\":";
    json::append_int(out, s.array_lengths.min);
    out += ",\"max\":";
    json::append_int(out, s.array_lengths.max);
    out += '}';
  }
}

}  // namespace canonry::schema
