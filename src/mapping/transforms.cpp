#include "mapping/transforms.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "common/decimal.h"
#include "common/time.h"
#include "common/utf8.h"
#include "json/writer.h"
#include "jsonpath/jsonpath.h"

namespace canonry::mapping {

using json::Type;
using json::Value;

namespace {

constexpr std::array<std::string_view, 22> kNames = {
    "identity", "string",  "lowercase",     "uppercase",     "trim",  "int",
    "number",   "decimal", "bool",          "timestamp",     "date",  "map",
    "scale",    "round",   "regex_extract", "regex_replace", "split", "join",
    "concat",   "hash",    "default",       "boolean"};

// ---------------------------------------------------------------------------------------------
// Helpers shared by the transforms.

std::string describe(const Value& v) {
  std::string text = v.is_string() ? json::to_json(v) : string_form(v);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text + " (" + std::string(json::type_name(v.type())) + ")";
}

Status cannot(std::string_view transform, const Value& v, std::string_view why) {
  return Status(ErrorCode::kTransform, "transform \"" + std::string(transform) +
                                           "\" cannot convert " + describe(v) + ": " +
                                           std::string(why));
}

std::string decimal_text_of_number(const Value& v) {
  if (v.is_integer() && v.number_text().empty()) return std::to_string(v.as_int());
  std::string_view text = v.number_text();
  if (!text.empty()) {
    if (auto d = Decimal::parse(text)) return d->to_string();
  }
  if (auto d = Decimal::from_double(v.as_double())) return d->to_string();
  return "null";
}

// An exact decimal from numbers, numeric strings and decimals.
std::optional<Decimal> to_decimal(const Value& v) {
  switch (v.type()) {
    case Type::kInteger:
      if (!v.number_text().empty()) return Decimal::parse(v.number_text());
      return Decimal::from_int(v.as_int());
    case Type::kNumber:
      if (!v.number_text().empty()) return Decimal::parse(v.number_text());
      return Decimal::from_double(v.as_double());
    case Type::kDecimal:
      return Decimal::parse(v.as_string());
    case Type::kString:
      return Decimal::parse(utf8_trim(v.as_string()));
    default:
      return std::nullopt;
  }
}

Value decimal_value(Arena& arena, const Decimal& d) {
  return Value::decimal(arena.copy_string(d.to_string()));
}

const Value* arg(const Value& spec, std::string_view name) {
  return spec.is_object() ? spec.find(name) : nullptr;
}

Status spec_error(const std::string& where, std::string message) {
  return Status(ErrorCode::kSpec, std::move(message), where);
}

bool is_scalar_type(Type t) {
  return t != Type::kObject && t != Type::kArray;
}

// ---------------------------------------------------------------------------------------------

class Identity final : public Transform {
 public:
  std::string_view name() const override { return "identity"; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override { return in; }
  bool elementwise() const override { return false; }
  bool accepts(Type) const override { return true; }
};

class ToString final : public Transform {
 public:
  std::string_view name() const override { return "string"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (in.is_string()) return in;
    if (!is_scalar_type(in.type()))
      return cannot(name(), in, "only scalar values have a string form");
    return json::make_string(arena, string_form(in));
  }
  bool accepts(Type t) const override { return is_scalar_type(t); }
};

template <bool kUpper>
class Case final : public Transform {
 public:
  std::string_view name() const override { return kUpper ? "uppercase" : "lowercase"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (!in.is_string()) return cannot(name(), in, "not a string");
    std::string_view s = in.as_string();
    return json::make_string(arena, kUpper ? utf8_upper(s) : utf8_lower(s));
  }
  bool accepts(Type t) const override { return t == Type::kString; }
};

class Trim final : public Transform {
 public:
  std::string_view name() const override { return "trim"; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override {
    if (!in.is_string()) return cannot(name(), in, "not a string");
    // A substring of an arena- or document-owned string stays valid as long as the original.
    return Value::string(utf8_trim(in.as_string()));
  }
  bool accepts(Type t) const override { return t == Type::kString; }
};

class ToInt final : public Transform {
 public:
  std::string_view name() const override { return "int"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (in.is_integer() && !in.is_big_integer()) return Value::integer(in.as_int());
    if (in.is_number()) {
      double d = in.as_double();
      if (!std::isfinite(d) || d != std::floor(d))
        return cannot(name(), in, "has a fractional part");
      if (d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
        return cannot(name(), in, "outside the 64-bit integer range");
      }
      return Value::integer(static_cast<int64_t>(d));
    }
    if (in.is_integer() || in.is_string() || in.type() == Type::kDecimal) {
      auto d = to_decimal(in);
      if (!d) return cannot(name(), in, "not a number");
      if (!d->is_integral()) return cannot(name(), in, "has a fractional part");
      auto i = d->to_int64();
      if (!i) return cannot(name(), in, "outside the 64-bit integer range");
      (void)arena;
      return Value::integer(*i);
    }
    return cannot(name(), in, "not a number");
  }
  bool accepts(Type t) const override {
    return t == Type::kInteger || t == Type::kNumber || t == Type::kString || t == Type::kDecimal;
  }
};

class ToNumber final : public Transform {
 public:
  std::string_view name() const override { return "number"; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override {
    if (in.is_numeric()) return Value::number(in.as_double());
    if (in.is_string() || in.type() == Type::kDecimal) {
      auto d = to_decimal(in);
      if (!d) return cannot(name(), in, "not a number");
      return Value::number(d->to_double());
    }
    return cannot(name(), in, "not a number");
  }
  bool accepts(Type t) const override {
    return t == Type::kInteger || t == Type::kNumber || t == Type::kString || t == Type::kDecimal;
  }
};

class ToDecimal final : public Transform {
 public:
  std::string_view name() const override { return "decimal"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (in.type() == Type::kDecimal) {
      // Decimals are stored normalised; only NaN and the infinities are not numbers.
      if (in.as_string().find_first_of("NI") != std::string_view::npos) {
        return cannot(name(), in, "not a finite decimal");
      }
      return in;
    }
    // A JSON number in plain notation already is its exact decimal text: no need to parse it.
    std::string_view text = in.number_text();
    if (!text.empty() && text.find_first_of("eE") == std::string_view::npos) {
      return Value::decimal(text);
    }
    auto d = to_decimal(in);
    if (!d) return cannot(name(), in, "not a number");
    return decimal_value(arena, *d);
  }
  bool accepts(Type t) const override {
    return t == Type::kInteger || t == Type::kNumber || t == Type::kString || t == Type::kDecimal;
  }
};

class ToBool final : public Transform {
 public:
  explicit ToBool(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override {
    if (in.is_bool()) return in;
    if (in.is_numeric()) {
      double d = in.as_double();
      if (d == 0) return Value::boolean(false);
      if (d == 1) return Value::boolean(true);
      return cannot(name(), in, "only 0 and 1 are booleans");
    }
    if (in.is_string()) {
      std::string s = utf8_lower(utf8_trim(in.as_string()));
      if (s == "true" || s == "1" || s == "yes") return Value::boolean(true);
      if (s == "false" || s == "0" || s == "no") return Value::boolean(false);
      return cannot(name(), in, "expected true/false, 1/0 or yes/no");
    }
    return cannot(name(), in, "not a boolean");
  }
  bool accepts(Type t) const override {
    return t == Type::kBool || t == Type::kInteger || t == Type::kNumber || t == Type::kString;
  }

 private:
  std::string_view name_;
};

enum class EpochUnit { kSeconds, kMillis, kMicros };

// Milliseconds since the epoch from every time representation DESIGN 4.3 lists.
Result<int64_t> to_epoch_millis(std::string_view transform, const Value& in, EpochUnit unit) {
  auto from_number = [&](double value) -> Result<int64_t> {
    double millis = unit == EpochUnit::kSeconds  ? value * 1000.0
                    : unit == EpochUnit::kMillis ? value
                                                 : value / 1000.0;
    if (!std::isfinite(millis) || std::fabs(millis) > 8.64e15) {
      return cannot(transform, in, "outside the representable time range");
    }
    return static_cast<int64_t>(std::floor(millis));
  };
  auto from_integer = [&](int64_t value) -> Result<int64_t> {
    switch (unit) {
      case EpochUnit::kSeconds:
        if (value > 8640000000000LL || value < -8640000000000LL) {
          return cannot(transform, in, "outside the representable time range");
        }
        return value * 1000;
      case EpochUnit::kMillis:
        return value;
      case EpochUnit::kMicros:
        return floor_div(value, 1000);
    }
    return value;
  };
  switch (in.type()) {
    case Type::kDate:
      return in.as_int();
    case Type::kTimestamp:
      return static_cast<int64_t>(in.timestamp_seconds()) * 1000;
    case Type::kInteger:
      if (in.is_big_integer()) return cannot(transform, in, "outside the representable time range");
      return from_integer(in.as_int());
    case Type::kNumber:
      return from_number(in.as_double());
    case Type::kDecimal: {
      auto d = Decimal::parse(in.as_string());
      if (!d) return cannot(transform, in, "not a finite number");
      return from_number(d->to_double());
    }
    case Type::kString: {
      std::string_view s = utf8_trim(in.as_string());
      if (auto micros = parse_iso8601_micros(s)) return floor_div(*micros, 1000);
      // Epoch numbers sent as text ("1709288100000") are common in CSV-born data.
      if (auto d = Decimal::parse(s)) {
        if (auto i = d->to_int64()) return from_integer(*i);
        return from_number(d->to_double());
      }
      return cannot(transform, in, "not an RFC 3339 / ISO-8601 date-time nor an epoch number");
    }
    default:
      return cannot(transform, in, "not a time");
  }
}

bool accepts_time(Type t) {
  return t == Type::kDate || t == Type::kTimestamp || t == Type::kInteger || t == Type::kNumber ||
         t == Type::kDecimal || t == Type::kString;
}

class ToTimestamp final : public Transform {
 public:
  explicit ToTimestamp(EpochUnit unit) : unit_(unit) {}
  std::string_view name() const override { return "timestamp"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    auto millis = to_epoch_millis(name(), in, unit_);
    if (!millis) return millis.take_status();
    return json::make_string(arena, format_rfc3339_millis(*millis));
  }
  bool accepts(Type t) const override { return accepts_time(t); }

 private:
  EpochUnit unit_;
};

class ToDate final : public Transform {
 public:
  explicit ToDate(EpochUnit unit) : unit_(unit) {}
  std::string_view name() const override { return "date"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    auto millis = to_epoch_millis(name(), in, unit_);
    if (!millis) return millis.take_status();
    return json::make_string(arena, format_date(*millis));
  }
  bool accepts(Type t) const override { return accepts_time(t); }

 private:
  EpochUnit unit_;
};

class MapValues final : public Transform {
 public:
  MapValues(std::map<std::string, Value, std::less<>> table, std::optional<Value> fallback,
            Arena arena)
      : table_(std::move(table)), fallback_(fallback), storage_(std::move(arena)) {}
  std::string_view name() const override { return "map"; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override {
    std::string key = string_form(in);
    auto it = table_.find(key);
    if (it != table_.end()) return it->second;
    if (fallback_) return *fallback_;
    return cannot(name(), in, "no entry in `values` and no `default`");
  }
  bool accepts(Type t) const override { return is_scalar_type(t); }

 private:
  std::map<std::string, Value, std::less<>> table_;
  std::optional<Value> fallback_;
  Arena storage_;  // owns the strings of the table's values
};

class Scale final : public Transform {
 public:
  explicit Scale(Decimal factor) : factor_(std::move(factor)) {}
  std::string_view name() const override { return "scale"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    auto d = to_decimal(in);
    if (!d) return cannot(name(), in, "not a number");
    return decimal_value(arena, *d * factor_);
  }
  bool accepts(Type t) const override {
    return t == Type::kInteger || t == Type::kNumber || t == Type::kString || t == Type::kDecimal;
  }

 private:
  Decimal factor_;
};

class Round final : public Transform {
 public:
  explicit Round(int digits) : digits_(digits) {}
  std::string_view name() const override { return "round"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    auto d = to_decimal(in);
    if (!d) return cannot(name(), in, "not a number");
    return decimal_value(arena, d->round_half_even(digits_));
  }
  bool accepts(Type t) const override {
    return t == Type::kInteger || t == Type::kNumber || t == Type::kString || t == Type::kDecimal;
  }

 private:
  int digits_;
};

class RegexExtract final : public Transform {
 public:
  RegexExtract(std::unique_ptr<RE2> re, int group) : re_(std::move(re)), group_(group) {}
  std::string_view name() const override { return "regex_extract"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (!is_scalar_type(in.type())) return cannot(name(), in, "not a scalar");
    std::string text = in.is_string() ? std::string(in.as_string()) : string_form(in);
    std::vector<re2::StringPiece> groups(static_cast<size_t>(group_) + 1);
    if (!re_->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                    static_cast<int>(groups.size()))) {
      return Value::null();  // no match is data, not an error: the field becomes null
    }
    const auto& g = groups[static_cast<size_t>(group_)];
    if (g.data() == nullptr) return Value::null();
    return json::make_string(arena, std::string_view(g.data(), g.size()));
  }
  bool accepts(Type t) const override { return is_scalar_type(t); }

 private:
  std::unique_ptr<RE2> re_;
  int group_;
};

class RegexReplace final : public Transform {
 public:
  RegexReplace(std::unique_ptr<RE2> re, std::string with)
      : re_(std::move(re)), with_(std::move(with)) {}
  std::string_view name() const override { return "regex_replace"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (!is_scalar_type(in.type())) return cannot(name(), in, "not a scalar");
    std::string text = in.is_string() ? std::string(in.as_string()) : string_form(in);
    RE2::GlobalReplace(&text, *re_, with_);
    return json::make_string(arena, text);
  }
  bool accepts(Type t) const override { return is_scalar_type(t); }

 private:
  std::unique_ptr<RE2> re_;
  std::string with_;
};

class Split final : public Transform {
 public:
  explicit Split(std::string sep) : sep_(std::move(sep)) {}
  std::string_view name() const override { return "split"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (!in.is_string()) return cannot(name(), in, "not a string");
    std::string_view s = in.as_string();
    std::vector<Value> parts;
    size_t start = 0;
    while (true) {
      size_t at = s.find(sep_, start);
      if (at == std::string_view::npos) {
        parts.push_back(Value::string(s.substr(start)));
        break;
      }
      parts.push_back(Value::string(s.substr(start, at - start)));
      start = at + sep_.size();
    }
    return json::make_array(arena, parts);
  }
  bool accepts(Type t) const override { return t == Type::kString; }

 private:
  std::string sep_;
};

class Join final : public Transform {
 public:
  explicit Join(std::string sep) : sep_(std::move(sep)) {}
  std::string_view name() const override { return "join"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    if (!in.is_array())
      return in.is_string() ? Result<Value>(in) : cannot(name(), in, "not an array");
    std::string out;
    bool first = true;
    for (const Value& item : in.items()) {
      if (item.is_null()) continue;
      if (!is_scalar_type(item.type())) return cannot(name(), item, "array items must be scalars");
      if (!first) out += sep_;
      first = false;
      out += item.is_string() ? std::string(item.as_string()) : string_form(item);
    }
    return json::make_string(arena, out);
  }
  bool elementwise() const override { return false; }
  bool accepts(Type t) const override { return t == Type::kArray || t == Type::kString; }

 private:
  std::string sep_;
};

// One part of a concat: a JSONPath into the source document, or a literal.
struct ConcatPart {
  std::optional<jsonpath::JsonPath> path;
  std::string literal;
};

class Concat final : public Transform {
 public:
  explicit Concat(std::vector<ConcatPart> parts) : parts_(std::move(parts)) {}
  std::string_view name() const override { return "concat"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value& document) const override {
    if (!is_scalar_type(in.type())) return cannot(name(), in, "not a scalar");
    std::string out = in.is_string() ? std::string(in.as_string()) : string_form(in);
    for (const ConcatPart& part : parts_) {
      if (!part.path) {
        out += part.literal;
        continue;
      }
      const Value* v = part.path->select_singular(document);
      if (v == nullptr || v->is_null()) continue;  // missing parts are left out
      if (!is_scalar_type(v->type())) return cannot(name(), *v, "concat parts must be scalars");
      out += v->is_string() ? std::string(v->as_string()) : string_form(*v);
    }
    return json::make_string(arena, out);
  }
  bool accepts(Type t) const override { return is_scalar_type(t); }

 private:
  std::vector<ConcatPart> parts_;
};

class Hash final : public Transform {
 public:
  explicit Hash(const EVP_MD* md) : md_(md) {}
  std::string_view name() const override { return "hash"; }
  Result<Value> apply(const Value& in, Arena& arena, const Value&) const override {
    std::string text = in.is_string() ? std::string(in.as_string()) : string_form(in);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, md_, nullptr) != 1) {
      return Status(ErrorCode::kInternal, "digest computation failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(length * 2, '0');
    for (unsigned int i = 0; i < length; ++i) {
      hex[2 * i] = kHex[digest[i] >> 4];
      hex[2 * i + 1] = kHex[digest[i] & 15];
    }
    return json::make_string(arena, hex);
  }
  bool accepts(Type) const override { return true; }

 private:
  const EVP_MD* md_;
};

class Default final : public Transform {
 public:
  Default(Value value, Arena arena) : value_(value), storage_(std::move(arena)) {}
  std::string_view name() const override { return "default"; }
  Result<Value> apply(const Value& in, Arena&, const Value&) const override {
    return in.is_null() ? value_ : in;
  }
  bool sees_nulls() const override { return true; }
  bool elementwise() const override { return false; }
  bool accepts(Type) const override { return true; }

 private:
  Value value_;
  Arena storage_;
};

Result<EpochUnit> parse_unit(const Value& spec, const std::string& where) {
  const Value* unit = arg(spec, "unit");
  if (unit == nullptr) return EpochUnit::kMillis;
  if (unit->is_string()) {
    std::string_view u = unit->as_string();
    if (u == "ms") return EpochUnit::kMillis;
    if (u == "s") return EpochUnit::kSeconds;
    if (u == "us") return EpochUnit::kMicros;
  }
  return spec_error(where + "/unit", "`unit` must be \"ms\", \"s\" or \"us\"");
}

Result<std::string> string_arg(const Value& spec, std::string_view name, const std::string& where,
                               std::optional<std::string> fallback = std::nullopt) {
  const Value* v = arg(spec, name);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return spec_error(where, "missing argument `" + std::string(name) + "`");
  }
  if (!v->is_string()) {
    return spec_error(where + "/" + std::string(name),
                      "argument `" + std::string(name) + "` must be a string");
  }
  return std::string(v->as_string());
}

Result<std::unique_ptr<RE2>> compile_regex(const Value& spec, const std::string& where) {
  auto pattern = string_arg(spec, "pattern", where);
  if (!pattern) return pattern.take_status();
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(*pattern, options);
  if (!re->ok()) return spec_error(where + "/pattern", "invalid RE2 pattern: " + re->error());
  return re;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Status check_arguments(const Value& spec, const std::string& where,
                       std::initializer_list<std::string_view> allowed) {
  if (!spec.is_object()) return Status::ok();
  for (const json::Member& m : spec.members()) {
    if (m.key == "name") continue;
    bool known = false;
    for (std::string_view a : allowed) known = known || a == m.key;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return spec_error(
          where + "/" + std::string(m.key),
          "unknown argument `" + std::string(m.key) + "`" +
              (list.empty() ? " (this transform takes none)" : " (takes: " + list + ")"));
    }
  }
  return Status::ok();
}

}  // namespace

std::span<const std::string_view> transform_names() {
  return kNames;
}

std::string string_form(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return v.as_bool() ? "true" : "false";
    case Type::kString:
      return std::string(v.as_string());
    case Type::kInteger:
    case Type::kNumber:
      return decimal_text_of_number(v);
    case Type::kDecimal:
      return std::string(v.as_string());
    case Type::kObjectId:
      return json::object_id_hex(v);
    case Type::kDate:
      return format_rfc3339_millis(v.as_int());
    default:
      return json::to_json(v);
  }
}

Result<std::unique_ptr<Transform>> make_transform(const Value& spec, const std::string& where) {
  std::string_view name;
  std::string name_where = where;
  if (spec.is_string()) {
    name = spec.as_string();
  } else if (spec.is_object()) {
    const Value* n = spec.find("name");
    if (n == nullptr || !n->is_string()) {
      return spec_error(where, "a transform object needs a string `name`");
    }
    name = n->as_string();
    name_where = where + "/name";
  } else {
    return spec_error(where, "a transform is a name or an object with a `name`");
  }

  auto args_ok = [&](std::initializer_list<std::string_view> allowed) {
    return check_arguments(spec, where, allowed);
  };
  std::unique_ptr<Transform> made;
  if (name == "identity") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<Identity>();
  } else if (name == "string") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<ToString>();
  } else if (name == "lowercase") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<Case<false>>();
  } else if (name == "uppercase") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<Case<true>>();
  } else if (name == "trim") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<Trim>();
  } else if (name == "int") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<ToInt>();
  } else if (name == "number") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<ToNumber>();
  } else if (name == "decimal") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<ToDecimal>();
  } else if (name == "bool" || name == "boolean") {
    CANONRY_RETURN_IF_ERROR(args_ok({}));
    made = std::make_unique<ToBool>(name == "bool" ? "bool" : "boolean");
  } else if (name == "timestamp" || name == "date") {
    CANONRY_RETURN_IF_ERROR(args_ok({"unit"}));
    auto unit = parse_unit(spec, where);
    if (!unit) return unit.take_status();
    if (name == "timestamp") {
      made = std::make_unique<ToTimestamp>(*unit);
    } else {
      made = std::make_unique<ToDate>(*unit);
    }
  } else if (name == "map") {
    CANONRY_RETURN_IF_ERROR(args_ok({"values", "default"}));
    const Value* values = arg(spec, "values");
    if (values == nullptr || !values->is_object()) {
      return spec_error(where, "`map` needs `values`: an object from source value to result");
    }
    Arena storage(4096);
    std::map<std::string, Value, std::less<>> table;
    for (const json::Member& m : values->members()) {
      table.emplace(std::string(m.key), json::deep_copy(m.value, storage));
    }
    std::optional<Value> fallback;
    if (const Value* d = arg(spec, "default")) fallback = json::deep_copy(*d, storage);
    made = std::make_unique<MapValues>(std::move(table), fallback, std::move(storage));
  } else if (name == "scale") {
    CANONRY_RETURN_IF_ERROR(args_ok({"factor"}));
    const Value* factor = arg(spec, "factor");
    std::optional<Decimal> exact;
    if (factor != nullptr && (factor->is_numeric() || factor->is_string())) {
      exact = factor->is_string() ? Decimal::parse(factor->as_string())
                                  : Decimal::parse(factor->number_text());
    }
    if (!exact) return spec_error(where + "/factor", "`scale` needs a numeric `factor`");
    made = std::make_unique<Scale>(*exact);
  } else if (name == "round") {
    CANONRY_RETURN_IF_ERROR(args_ok({"digits"}));
    const Value* digits = arg(spec, "digits");
    int n = 0;
    if (digits != nullptr) {
      if (!digits->is_integer() || digits->as_int() < -100 || digits->as_int() > 100) {
        return spec_error(where + "/digits", "`digits` must be an integer between -100 and 100");
      }
      n = static_cast<int>(digits->as_int());
    }
    made = std::make_unique<Round>(n);
  } else if (name == "regex_extract") {
    CANONRY_RETURN_IF_ERROR(args_ok({"pattern", "group"}));
    auto re = compile_regex(spec, where);
    if (!re) return re.take_status();
    int group = (*re)->NumberOfCapturingGroups() > 0 ? 1 : 0;
    if (const Value* g = arg(spec, "group")) {
      if (!g->is_integer() || g->as_int() < 0 || g->as_int() > (*re)->NumberOfCapturingGroups()) {
        return spec_error(where + "/group",
                          "`group` must be an integer between 0 and the number "
                          "of groups in the pattern (" +
                              std::to_string((*re)->NumberOfCapturingGroups()) + ")");
      }
      group = static_cast<int>(g->as_int());
    }
    made = std::make_unique<RegexExtract>(std::move(*re), group);
  } else if (name == "regex_replace") {
    CANONRY_RETURN_IF_ERROR(args_ok({"pattern", "with"}));
    auto re = compile_regex(spec, where);
    if (!re) return re.take_status();
    auto with = string_arg(spec, "with", where, std::string());
    if (!with) return with.take_status();
    std::string rewrite_error;
    if (!(*re)->CheckRewriteString(*with, &rewrite_error)) {
      return spec_error(where + "/with", "invalid replacement: " + rewrite_error);
    }
    made = std::make_unique<RegexReplace>(std::move(*re), *with);
  } else if (name == "split" || name == "join") {
    CANONRY_RETURN_IF_ERROR(args_ok({"sep"}));
    auto sep = string_arg(spec, "sep", where, std::string(","));
    if (!sep) return sep.take_status();
    if (name == "split") {
      if (sep->empty()) return spec_error(where + "/sep", "`sep` must not be empty");
      made = std::make_unique<Split>(*sep);
    } else {
      made = std::make_unique<Join>(*sep);
    }
  } else if (name == "concat") {
    CANONRY_RETURN_IF_ERROR(args_ok({"with"}));
    const Value* with = arg(spec, "with");
    if (with == nullptr || !(with->is_array() || with->is_string())) {
      return spec_error(where, "`concat` needs `with`: a list of JSONPaths (\"$.x\") and literals");
    }
    std::vector<ConcatPart> parts;
    std::span<const Value> items =
        with->is_array() ? with->items() : std::span<const Value>(with, 1);
    for (size_t i = 0; i < items.size(); ++i) {
      std::string item_where = where + "/with" + (with->is_array() ? "/" + std::to_string(i) : "");
      const Value& item = items[i];
      ConcatPart part;
      std::string_view text;
      bool is_path = false;
      if (item.is_string()) {
        text = item.as_string();
        is_path = text == "$" || text.starts_with("$.") || text.starts_with("$[");
      } else if (item.is_object() && item.size() == 1 && item.find("path") &&
                 item.find("path")->is_string()) {
        text = item.find("path")->as_string();
        is_path = true;
      } else if (item.is_object() && item.size() == 1 && item.find("literal") &&
                 item.find("literal")->is_string()) {
        text = item.find("literal")->as_string();
      } else {
        return spec_error(item_where,
                          "a concat part is a string or {\"path\": …} / {\"literal\": …}");
      }
      if (is_path) {
        auto path = jsonpath::JsonPath::parse(text);
        if (!path) return spec_error(item_where, "invalid JSONPath: " + path.status().message());
        if (!path->is_singular()) {
          return spec_error(item_where, "concat paths must be singular (no wildcards or filters)");
        }
        part.path = std::move(*path);
      } else {
        part.literal = std::string(text);
      }
      parts.push_back(std::move(part));
    }
    made = std::make_unique<Concat>(std::move(parts));
  } else if (name == "hash") {
    CANONRY_RETURN_IF_ERROR(args_ok({"algo"}));
    auto algo = string_arg(spec, "algo", where, std::string("sha256"));
    if (!algo) return algo.take_status();
    const EVP_MD* md = nullptr;
    if (*algo == "sha256") md = EVP_sha256();
    if (*algo == "sha512") md = EVP_sha512();
    if (*algo == "sha1") md = EVP_sha1();
    if (*algo == "md5") md = EVP_md5();
    if (md == nullptr) {
      return spec_error(where + "/algo", "`algo` must be sha256, sha512, sha1 or md5");
    }
    made = std::make_unique<Hash>(md);
  } else if (name == "default") {
    CANONRY_RETURN_IF_ERROR(args_ok({"value"}));
    const Value* value = arg(spec, "value");
    if (value == nullptr) return spec_error(where, "`default` needs `value`");
    Arena storage(1024);
    Value copy = json::deep_copy(*value, storage);
    made = std::make_unique<Default>(copy, std::move(storage));
  } else {
    std::string suggestion;
    size_t best = 3;
    for (std::string_view candidate : kNames) {
      size_t d = edit_distance(name, candidate);
      if (d < best) {
        best = d;
        suggestion = std::string(candidate);
      }
    }
    return spec_error(name_where,
                      "unknown transform \"" + std::string(name) + "\"" +
                          (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
  }
  return made;
}

}  // namespace canonry::mapping
