#include "metrics/aggregates.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <vector>

#include "common/hyperloglog.h"
#include "json/writer.h"
#include "metrics/sketches.h"

namespace canonry::metrics {
namespace {

using json::Type;
using json::Value;

// The most digits the fast path reads into an int64 mantissa.
constexpr int kMaxFastDigits = 18;
// Sums stay in an __int128 while below 10^37; beyond, they continue as Decimal.
constexpr int kMaxUnitsDigits = 37;

__int128 pow10_i128(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

const __int128* pow10_table() {
  static const auto table = [] {
    std::vector<__int128> t;
    for (int i = 0; i <= kMaxUnitsDigits + 1; ++i) t.push_back(pow10_i128(i));
    return t;
  }();
  return table.data();
}

// "-12.50" → mantissa -1250, scale 2. Only plain notation with at most 18 digits.
bool parse_fast(std::string_view text, int64_t& mantissa, int32_t& scale) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  int64_t m = 0;
  int digits = 0;
  int fraction = -1;
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (m != 0 || c != '0') ++digits;
      if (digits > kMaxFastDigits) return false;
      m = m * 10 + (c - '0');
      if (fraction >= 0) ++fraction;
    } else if (c == '.' && fraction < 0) {
      fraction = 0;
    } else {
      return false;
    }
  }
  if (!any || fraction > kMaxFastDigits) return false;
  mantissa = negative ? -m : m;
  scale = fraction < 0 ? 0 : fraction;
  return true;
}

// units * 10^-scale in plain digits ("-12.50"); appended, since rows write one per sum.
void append_units(std::string& out, __int128 units, int32_t scale) {
  bool negative = units < 0;
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-units) : static_cast<unsigned __int128>(units);
  char reversed[48];  // |units| < 10^38
  int n = 0;
  while (magnitude > UINT64_MAX) {
    reversed[n++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  // The rest in 64-bit arithmetic, much cheaper than 128-bit division.
  uint64_t low = static_cast<uint64_t>(magnitude);
  do {
    reversed[n++] = static_cast<char>('0' + static_cast<int>(low % 10));
    low /= 10;
  } while (low != 0);
  if (negative) out += '-';
  for (int i = std::max(n, scale + 1); i-- > 0;) {
    out += i < n ? reversed[i] : '0';
    if (scale > 0 && i == scale) out += '.';
  }
}

std::string units_text(__int128 units, int32_t scale) {
  std::string out;
  append_units(out, units, scale);
  return out;
}

Status not_a_number(const Measure& measure, const Value& value) {
  return Status(ErrorCode::kMetric,
                "measure \"" + measure.name + "\" (" + std::string(aggregate_name(measure.agg)) +
                    ") needs a number, " + measure.field.text + " is " +
                    (value.is_string() ? "a string" : std::string(json::type_name(value.type()))),
                measure.field.text);
}

// Reads a numeric value: exact digits from its text (never through a double) when it has some.
Status read_number(const Measure& measure, const Value& value, MeasureInput& in) {
  std::string_view text;
  switch (value.type()) {
    case Type::kInteger:
      if (!value.is_big_integer()) {
        in.fast = true;
        in.mantissa = value.as_int();
        in.scale = 0;
        in.approximate = static_cast<double>(value.as_int());
        text = value.number_text();
        if (text.empty()) {
          auto [end, ec] =
              std::to_chars(in.text_buffer, in.text_buffer + sizeof in.text_buffer, value.as_int());
          text = std::string_view(in.text_buffer, static_cast<size_t>(end - in.text_buffer));
        }
        in.text = text;
        return Status::ok();
      }
      text = value.number_text();
      break;
    case Type::kNumber:
      text = value.number_text();
      if (text.empty()) {
        auto [end, ec] = std::to_chars(in.text_buffer, in.text_buffer + sizeof in.text_buffer,
                                       value.as_double());
        text = std::string_view(in.text_buffer, static_cast<size_t>(end - in.text_buffer));
      }
      break;
    case Type::kDecimal:
      text = value.as_string();
      break;
    default:
      return not_a_number(measure, value);
  }
  in.text = text;
  in.fast = parse_fast(text, in.mantissa, in.scale);
  if (!in.fast) {
    in.exact = Decimal::parse(text);
    if (!in.exact) {
      return Status(ErrorCode::kMetric,
                    "measure \"" + measure.name + "\" needs a finite number, " +
                        measure.field.text + " is " + std::string(text),
                    measure.field.text);
    }
  }
  if (value.type() == Type::kNumber) {
    in.approximate = value.as_double();
  } else {
    std::from_chars(text.data(), text.data() + text.size(), in.approximate);
  }
  return Status::ok();
}

// The partials of a column, in blocks of 256 groups that never move: a new group at most adds a
// block, where a vector reallocated and moved every group's partial as groups were added (and
// faulted in twice the memory).
template <typename T>
class Blocks {
 public:
  // Makes room for groups [0, groups); their partials start default-constructed (zero).
  void resize(size_t groups) {
    while (blocks_.size() << kShift < groups) blocks_.push_back(std::make_unique<T[]>(kBlock));
  }
  T& operator[](size_t group) { return blocks_[group >> kShift][group & (kBlock - 1)]; }
  const T& operator[](size_t group) const { return blocks_[group >> kShift][group & (kBlock - 1)]; }

 private:
  static constexpr size_t kShift = 8;
  static constexpr size_t kBlock = size_t{1} << kShift;
  std::vector<std::unique_ptr<T[]>> blocks_;
};

// ---- count -------------------------------------------------------------------------------------

class CountColumn final : public MeasureColumn {
 public:
  explicit CountColumn(const Measure& measure) : measure_(measure) {}
  void resize(size_t groups) override { counts_.resize(groups); }
  Status prepare(const Value* value, MeasureInput& in) const override {
    in.present = !measure_.has_field || (value != nullptr && !value->is_null());
    return Status::ok();
  }
  void add(uint32_t group, const MeasureInput& in) override {
    if (in.present) ++counts_[group];
  }
  void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) override {
    counts_[group] += static_cast<const CountColumn&>(other).counts_[other_group];
  }
  void serialize(uint32_t group, std::string& out) const override { put_u64(out, counts_[group]); }
  bool merge_serialized(uint32_t group, std::string_view& in) override {
    uint64_t n = 0;
    if (!get_u64(in, n)) return false;
    counts_[group] += n;
    return true;
  }
  void append_result(uint32_t group, std::string& out) const override {
    json::append_int(out, static_cast<int64_t>(counts_[group]));
  }

 private:
  const Measure& measure_;
  Blocks<uint64_t> counts_;
};

// ---- sum and avg -------------------------------------------------------------------------------

// An exact sum: units * 10^-scale in an __int128 while it fits, a Decimal beyond.
struct ExactSum {
  uint64_t values = 0;
  __int128 units = 0;
  int32_t scale = 0;
  std::unique_ptr<Decimal> big;

  void to_big() { big = std::make_unique<Decimal>(*Decimal::parse(units_text(units, scale))); }

  void add_units(__int128 m, int32_t s) {
    if (big) {
      *big = *big + *Decimal::parse(units_text(m, s));
      return;
    }
    const __int128* p10 = pow10_table();
    const __int128 limit = p10[kMaxUnitsDigits];
    if (s > scale) {
      int diff = s - scale;
      if (diff > kMaxUnitsDigits || units >= limit / p10[diff] || units <= -limit / p10[diff]) {
        to_big();
        *big = *big + *Decimal::parse(units_text(m, s));
        return;
      }
      units *= p10[diff];
      scale = s;
    } else if (s < scale) {
      int diff = scale - s;
      if (m >= limit / p10[diff] || m <= -limit / p10[diff]) {
        to_big();
        *big = *big + *Decimal::parse(units_text(m, s));
        return;
      }
      m *= p10[diff];
    }
    units += m;
    if (units >= limit || units <= -limit) to_big();
  }

  void add_big(const Decimal& d) {
    if (!big) to_big();
    *big = *big + d;
  }

  // Adds a value without counting it (the count is the caller's).
  void add_value(const MeasureInput& in) {
    if (in.fast) {
      add_units(in.mantissa, in.scale);
    } else {
      add_big(*in.exact);
    }
  }

  void add(const MeasureInput& in) {
    ++values;
    add_value(in);
  }

  void merge(const ExactSum& other) {
    values += other.values;
    if (other.big) {
      add_big(*other.big);
    } else {
      add_units(other.units, other.scale);
    }
  }

  std::string text() const { return big ? big->to_string() : units_text(units, scale); }
  void append_text(std::string& out) const {
    if (big) {
      out += big->to_string();
    } else {
      append_units(out, units, scale);
    }
  }
};

class SumColumn final : public MeasureColumn {
 public:
  SumColumn(const Measure& measure, bool average) : measure_(measure), average_(average) {}
  void resize(size_t groups) override { sums_.resize(groups); }
  Status prepare(const Value* value, MeasureInput& in) const override {
    in.present = value != nullptr && !value->is_null();
    if (!in.present) return Status::ok();
    return read_number(measure_, *value, in);
  }
  void add(uint32_t group, const MeasureInput& in) override {
    if (in.present) sums_[group].add(in);
  }
  void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) override {
    sums_[group].merge(static_cast<const SumColumn&>(other).sums_[other_group]);
  }
  void serialize(uint32_t group, std::string& out) const override {
    const ExactSum& s = sums_[group];
    put_u64(out, s.values);
    put_bytes(out, s.text());
  }
  bool merge_serialized(uint32_t group, std::string_view& in) override {
    uint64_t values = 0;
    std::string_view text;
    if (!get_u64(in, values) || !get_bytes(in, text)) return false;
    MeasureInput input;
    input.fast = parse_fast(text, input.mantissa, input.scale);
    if (!input.fast) {
      input.exact = Decimal::parse(text);
      if (!input.exact) return false;
    }
    ExactSum& s = sums_[group];
    s.values += values;
    s.add_value(input);
    return true;
  }
  void append_result(uint32_t group, std::string& out) const override {
    const ExactSum& s = sums_[group];
    if (s.values == 0) {
      out += "null";
    } else if (!average_) {
      s.append_text(out);
    } else {
      // The exact sum read as the nearest double, divided once.
      thread_local std::string text;
      text.clear();
      s.append_text(text);
      double sum = 0;
      std::from_chars(text.data(), text.data() + text.size(), sum);
      // 15 significant digits: what a double holds exactly, without the binary noise of the
      // 17 that round-trip (182.40 / 3 prints 60.8, not 60.800000000000004).
      double average = sum / static_cast<double>(s.values);
      char buf[32];
      auto [end, ec] =
          std::to_chars(buf, buf + sizeof buf, average, std::chars_format::general, 15);
      out.append(buf, static_cast<size_t>(end - buf));
    }
  }

 private:
  const Measure& measure_;
  bool average_;
  Blocks<ExactSum> sums_;
};

// ---- min and max -------------------------------------------------------------------------------

struct Extreme {
  bool has = false;
  double approximate = 0;
  std::string text;
};

class ExtremeColumn final : public MeasureColumn {
 public:
  ExtremeColumn(const Measure& measure, bool maximum) : measure_(measure), maximum_(maximum) {}
  void resize(size_t groups) override { extremes_.resize(groups); }
  Status prepare(const Value* value, MeasureInput& in) const override {
    in.present = value != nullptr && !value->is_null();
    if (!in.present) return Status::ok();
    return read_number(measure_, *value, in);
  }
  void add(uint32_t group, const MeasureInput& in) override {
    if (in.present) offer(extremes_[group], in.approximate, in.text);
  }
  void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) override {
    const Extreme& e = static_cast<const ExtremeColumn&>(other).extremes_[other_group];
    if (e.has) offer(extremes_[group], e.approximate, e.text);
  }
  void serialize(uint32_t group, std::string& out) const override {
    const Extreme& e = extremes_[group];
    out += e.has ? 'V' : 'N';
    if (e.has) put_bytes(out, e.text);
  }
  bool merge_serialized(uint32_t group, std::string_view& in) override {
    if (in.empty()) return false;
    char mode = in[0];
    in.remove_prefix(1);
    if (mode == 'N') return true;
    std::string_view text;
    if (mode != 'V' || !get_bytes(in, text) || !Decimal::parse(text)) return false;
    double approximate = 0;
    std::from_chars(text.data(), text.data() + text.size(), approximate);
    offer(extremes_[group], approximate, text);
    return true;
  }
  void append_result(uint32_t group, std::string& out) const override {
    const Extreme& e = extremes_[group];
    if (!e.has) {
      out += "null";
    } else if (is_plain_decimal(e.text)) {
      out += e.text;
    } else {
      out += Decimal::parse(e.text)->to_string();
    }
  }

 private:
  // Keeps the smaller (larger) value; ties between equal doubles are settled exactly, and equal
  // numbers by their text, so that the result does not depend on the order values arrive in.
  void offer(Extreme& e, double approximate, std::string_view text) const {
    bool better;
    if (!e.has) {
      better = true;
    } else if (approximate != e.approximate) {
      better = maximum_ ? approximate > e.approximate : approximate < e.approximate;
    } else if (text == e.text) {
      better = false;
    } else {
      auto order = *Decimal::parse(text) <=> *Decimal::parse(e.text);
      if (order != 0) {
        better = maximum_ ? order > 0 : order < 0;
      } else {
        better = text < e.text;
      }
    }
    if (better) {
      e.has = true;
      e.approximate = approximate;
      e.text.assign(text);
    }
  }

  const Measure& measure_;
  bool maximum_;
  Blocks<Extreme> extremes_;
};

// ---- count_distinct ----------------------------------------------------------------------------

class DistinctColumn final : public MeasureColumn {
 public:
  explicit DistinctColumn(const Measure&) {}
  void resize(size_t groups) override { sketches_.resize(groups); }
  Status prepare(const Value* value, MeasureInput& in) const override {
    in.present = value != nullptr && !value->is_null();
    if (!in.present) return Status::ok();
    if (value->is_string()) {
      in.hash = hash_bytes(value->as_string(), 1);
    } else {
      // Other values are distinct by their JSON text (1 and 1.0 are two values).
      thread_local std::string scratch;
      scratch.clear();
      json::append_value(scratch, *value);
      in.hash = hash_bytes(scratch, 2);
    }
    return Status::ok();
  }
  void add(uint32_t group, const MeasureInput& in) override {
    if (in.present) sketches_[group].add_hash(in.hash);
  }
  void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) override {
    sketches_[group].merge(static_cast<const DistinctColumn&>(other).sketches_[other_group]);
  }
  void serialize(uint32_t group, std::string& out) const override {
    sketches_[group].serialize(out);
  }
  bool merge_serialized(uint32_t group, std::string_view& in) override {
    DistinctSketch sketch;
    if (!sketch.deserialize(in)) return false;
    sketches_[group].merge(sketch);
    return true;
  }
  void append_result(uint32_t group, std::string& out) const override {
    json::append_int(out, static_cast<int64_t>(sketches_[group].estimate()));
  }

 private:
  Blocks<DistinctSketch> sketches_;
};

// ---- quantile ----------------------------------------------------------------------------------

class QuantileColumn final : public MeasureColumn {
 public:
  explicit QuantileColumn(const Measure& measure) : measure_(measure) {}
  void resize(size_t groups) override { sketches_.resize(groups); }
  Status prepare(const Value* value, MeasureInput& in) const override {
    in.present = value != nullptr && !value->is_null();
    if (!in.present) return Status::ok();
    return read_number(measure_, *value, in);
  }
  void add(uint32_t group, const MeasureInput& in) override {
    if (in.present) sketches_[group].add(in.approximate);
  }
  void merge(uint32_t group, const MeasureColumn& other, uint32_t other_group) override {
    sketches_[group].merge(static_cast<const QuantileColumn&>(other).sketches_[other_group]);
  }
  void serialize(uint32_t group, std::string& out) const override {
    sketches_[group].serialize(out);
  }
  bool merge_serialized(uint32_t group, std::string_view& in) override {
    QuantileSketch sketch;
    if (!sketch.deserialize(in)) return false;
    sketches_[group].merge(sketch);
    return true;
  }
  void append_result(uint32_t group, std::string& out) const override {
    const QuantileSketch& s = sketches_[group];
    if (s.count() == 0) {
      out += "null";
      return;
    }
    // Nine significant digits: enough that printing keeps the value within the sketch's 1 %.
    char buf[32];
    auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, s.quantile(measure_.q), std::chars_format::general, 9);
    out.append(buf, static_cast<size_t>(end - buf));
  }

 private:
  const Measure& measure_;
  Blocks<QuantileSketch> sketches_;
};

}  // namespace

std::unique_ptr<MeasureColumn> make_column(const Measure& measure) {
  switch (measure.agg) {
    case Aggregate::kCount:
      return std::make_unique<CountColumn>(measure);
    case Aggregate::kSum:
      return std::make_unique<SumColumn>(measure, false);
    case Aggregate::kAvg:
      return std::make_unique<SumColumn>(measure, true);
    case Aggregate::kMin:
      return std::make_unique<ExtremeColumn>(measure, false);
    case Aggregate::kMax:
      return std::make_unique<ExtremeColumn>(measure, true);
    case Aggregate::kCountDistinct:
      return std::make_unique<DistinctColumn>(measure);
    case Aggregate::kQuantile:
      return std::make_unique<QuantileColumn>(measure);
  }
  return nullptr;
}

}  // namespace canonry::metrics
