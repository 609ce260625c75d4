#include "metrics/window_operator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/arena.h"
#include "common/hyperloglog.h"
#include "common/time.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::metrics {
namespace {

using json::Type;
using json::Value;

// The text of the path a BoundPath evaluates: the whole path from the root, or "$" and what
// follows the wildcard.
std::string bound_text(const BoundPath& bound) {
  if (bound.unnest < 0) return bound.text;
  size_t star = bound.text.find("[*]");
  size_t length = 3;
  if (star == std::string::npos) {
    star = bound.text.find(".*");
    length = 2;
  }
  return star == std::string::npos ? std::string() : "$" + bound.text.substr(star + length);
}

std::optional<int64_t> event_time_ms(const Value& v) {
  switch (v.type()) {
    case Type::kDate:
      return v.as_int();
    case Type::kInteger:
      if (v.is_big_integer()) return std::nullopt;
      return v.as_int();
    case Type::kNumber:
      if (!std::isfinite(v.as_double()) || std::fabs(v.as_double()) > 8.64e15) return std::nullopt;
      return static_cast<int64_t>(std::floor(v.as_double()));
    case Type::kString:
      if (auto micros = parse_iso8601_micros(v.as_string())) return floor_div(*micros, 1000);
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

void put_window_start(std::string& key, int64_t start) {
  char bytes[8];
  std::memcpy(bytes, &start, 8);
  key.replace(0, 8, bytes, 8);
}

// The order of dimension values in rows: null, false, true, numbers by value, strings, others.
int type_rank(std::string_view json) {
  if (json.empty()) return 0;
  char c = json[0];
  if (c == 'n') return 0;
  if (c == 'f') return 1;
  if (c == 't') return 2;
  if (c == '-' || (c >= '0' && c <= '9')) return 3;
  if (c == '"') return 4;
  return 5;
}

int compare_dimension(std::string_view a, std::string_view b) {
  int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 3) {
    double da = 0, db = 0;
    std::from_chars(a.data(), a.data() + a.size(), da);
    std::from_chars(b.data(), b.data() + b.size(), db);
    if (da != db) return da < db ? -1 : 1;
  }
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

// Member names are short: a loop beats a call to memcmp.
inline bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The dimension texts of a group key after its 8 bytes of window start, one per call: JSON
// text never holds a raw newline, so '\n' separates them.
std::string_view next_dimension(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view text = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  return text;
}

}  // namespace

WindowOperator::FieldReader WindowOperator::reader_for(const std::string& text,
                                                       const jsonpath::JsonPath& path) {
  FieldReader reader;
  reader.path = &path;
  // "$", then ".name" segments with identifier names only.
  if (text.empty() || text[0] != '$') return reader;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] != '.') return reader;
    size_t start = ++i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
      ++i;
    }
    if (i == start || std::isdigit(static_cast<unsigned char>(text[start]))) return reader;
    reader.names.emplace_back(text.substr(start, i - start));
  }
  reader.plain = true;
  reader.hints.assign(reader.names.size(), 0);
  return reader;
}

const Value* WindowOperator::FieldReader::read(const Value& root) {
  if (!plain) return path->select_singular(root);
  const Value* at = &root;
  for (size_t step = 0; step < names.size(); ++step) {
    if (!at->is_object()) return nullptr;
    std::span<const json::Member> members = at->members();
    const std::string& name = names[step];
    uint32_t hint = hints[step];
    if (hint < members.size() && same_key(members[hint].key, name)) {
      at = &members[hint].value;
      continue;
    }
    const Value* found = nullptr;
    for (uint32_t m = 0; m < members.size(); ++m) {
      if (members[m].key == name) {
        hints[step] = m;
        found = &members[m].value;
        break;
      }
    }
    if (found == nullptr) return nullptr;
    at = found;
  }
  return at;
}

WindowOperator::WindowOperator(const MetricSpec& spec) : spec_(spec) {
  time_reader_ = reader_for(spec_.time_text, *spec_.time);
  for (const Dimension& d : spec_.dimensions) {
    dimension_readers_.push_back(reader_for(bound_text(d.path), *d.path.path));
  }
  for (const Measure& m : spec_.measures) {
    measure_readers_.push_back(m.has_field ? reader_for(bound_text(m.field), *m.field.path)
                                           : FieldReader{});
  }
  for (const Unnest& u : spec_.unnests) {
    size_t wildcard = u.prefix_text.ends_with("[*]") ? 3 : 2;
    unnest_readers_.push_back(
        reader_for(u.prefix_text.substr(0, u.prefix_text.size() - wildcard), u.array));
  }
  for (const Measure& m : spec_.measures) columns_.push_back(make_column(m));
  auto numeric = [](Aggregate a) {
    return a == Aggregate::kSum || a == Aggregate::kAvg || a == Aggregate::kMin ||
           a == Aggregate::kMax || a == Aggregate::kQuantile;
  };
  for (size_t m = 0; m < spec_.measures.size(); ++m) {
    int twin = -1;
    const Measure& measure = spec_.measures[m];
    for (size_t earlier = 0; earlier < m && twin < 0; ++earlier) {
      const Measure& other = spec_.measures[earlier];
      if (measure.has_field && other.has_field && numeric(measure.agg) && numeric(other.agg) &&
          measure.field.text == other.field.text) {
        twin = static_cast<int>(earlier);
      }
    }
    input_of_.push_back(twin < 0 ? m : static_cast<size_t>(twin));
  }
  for (const Dimension& d : spec_.dimensions) {
    dimension_labels_.push_back(",");
    json::append_quoted(dimension_labels_.back(), d.name);
    dimension_labels_.back() += ':';
  }
  for (const Measure& m : spec_.measures) {
    measure_labels_.push_back(",");
    json::append_quoted(measure_labels_.back(), m.name);
    measure_labels_.back() += ':';
  }
  elements_.resize(spec_.unnests.size());
  cursor_.resize(spec_.unnests.size());
  slots_.assign(1024, kEmptySlot);
}

void WindowOperator::observe_event_time(int64_t time) {
  if (!max_time_ || time > *max_time_) max_time_ = time;
}

std::string_view WindowOperator::store_key(std::string_view key) {
  if (key_block_used_ + key.size() > key_block_size_) {
    key_block_size_ = std::max<size_t>(size_t{1} << 16, key.size());
    key_blocks_.push_back(std::make_unique<char[]>(key_block_size_));
    key_block_used_ = 0;
  }
  char* at = key_blocks_.back().get() + key_block_used_;
  std::memcpy(at, key.data(), key.size());
  key_block_used_ += key.size();
  return {at, key.size()};
}

void WindowOperator::grow_index() {
  slots_.assign(slots_.size() * 2, kEmptySlot);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 0; id < groups_.size(); ++id) {
    size_t at = groups_[id].hash & mask;
    while (slots_[at] != kEmptySlot) at = (at + 1) & mask;
    slots_[at] = slot_of(groups_[id].hash, id);
  }
}

uint32_t WindowOperator::group_for(std::string_view key, int64_t window_start) {
  const uint64_t hash = hash_bytes(key);
  const size_t mask = slots_.size() - 1;
  size_t at = hash & mask;
  const uint64_t tag = slot_of(hash, 0);
  for (; slots_[at] != kEmptySlot; at = (at + 1) & mask) {
    // Only a slot whose tag matches sends the probe to the group and its key.
    if ((slots_[at] & kTagMask) != tag) continue;
    const uint32_t id = static_cast<uint32_t>(slots_[at]);
    const Group& g = groups_[id];
    if (g.hash == hash && g.key == key) return id;
  }
  uint32_t id = static_cast<uint32_t>(groups_.size());
  groups_.push_back({window_start, hash, store_key(key)});
  slots_[at] = slot_of(hash, id);
  if (groups_.size() * 2 > slots_.size()) grow_index();
  for (auto& column : columns_) column->resize(groups_.size());
  changed_flags_.push_back(0);
  return id;
}

WindowOperator::Outcome WindowOperator::add(const Value& record, Status& error) {
  const Value* time_value = time_reader_.read(record);
  std::optional<int64_t> time;
  if (time_value != nullptr) time = event_time_ms(*time_value);
  if (!time) {
    error = Status(ErrorCode::kMetric,
                   time_value == nullptr || time_value->is_null()
                       ? "the event time " + spec_.time_text + " is missing"
                       : "the event time " + spec_.time_text + " is " + json::to_json(*time_value) +
                             ", not an RFC 3339 date-time, a date or epoch milliseconds",
                   spec_.time_text);
    return Outcome::kError;
  }
  const int64_t t = *time;
  last_time_ = t;
  // Windows containing t, latest first; those ending at or before the watermark are closed.
  const int64_t latest_start = floor_div(t, spec_.slide_ms) * spec_.slide_ms;
  last_latest_end_ = latest_start + spec_.size_ms;
  open_windows_.clear();
  for (int64_t start = latest_start; start > t - spec_.size_ms; start -= spec_.slide_ms) {
    if (!max_time_ || start + spec_.size_ms + spec_.lateness_ms > *max_time_) {
      open_windows_.push_back(start);
    }
  }
  if (open_windows_.empty()) return Outcome::kLate;

  // The arrays wildcard dimensions walk; one with no elements still yields one row, with nulls.
  size_t combos = 1;
  for (size_t u = 0; u < spec_.unnests.size(); ++u) {
    std::vector<const Value*>& elements = elements_[u];
    elements.clear();
    if (const Value* array = unnest_readers_[u].read(record)) {
      if (array->is_array()) {
        for (const Value& item : array->items()) elements.push_back(&item);
      } else if (array->is_object()) {
        for (const json::Member& m : array->members()) elements.push_back(&m.value);
      }
    }
    if (elements.empty()) elements.push_back(nullptr);
    combos *= elements.size();
    cursor_[u] = 0;
  }

  const size_t measures = columns_.size();
  if (combo_keys_.size() < combos) combo_keys_.resize(combos);
  if (inputs_.size() < combos * measures) inputs_.resize(combos * measures);
  auto select = [&](const BoundPath& bound, FieldReader& reader) -> const Value* {
    if (bound.unnest < 0) return reader.read(record);
    const Value* element =
        elements_[static_cast<size_t>(bound.unnest)][cursor_[static_cast<size_t>(bound.unnest)]];
    return element == nullptr ? nullptr : reader.read(*element);
  };
  // Read everything first, so that a record with one bad value changes no aggregate.
  for (size_t c = 0; c < combos; ++c) {
    std::string& dims = combo_keys_[c];
    dims.clear();
    for (size_t d = 0; d < spec_.dimensions.size(); ++d) {
      if (d > 0) dims += '\n';
      const Value* v = select(spec_.dimensions[d].path, dimension_readers_[d]);
      if (v == nullptr) {
        dims += "null";
      } else {
        json::append_value(dims, *v);
      }
    }
    for (size_t m = 0; m < measures; ++m) {
      if (input_of_[m] != m) continue;  // its twin's input serves it
      const Measure& measure = spec_.measures[m];
      const Value* v = measure.has_field ? select(measure.field, measure_readers_[m]) : nullptr;
      MeasureInput& input = inputs_[c * measures + m];
      input.exact.reset();
      Status status = columns_[m]->prepare(v, input);
      if (!status) {
        error = std::move(status);
        return Outcome::kError;
      }
    }
    // Next combination: an odometer over the unnested arrays.
    for (size_t u = spec_.unnests.size(); u-- > 0;) {
      if (++cursor_[u] < elements_[u].size()) break;
      cursor_[u] = 0;
    }
  }

  observe_event_time(t);
  for (int64_t start : open_windows_) {
    for (size_t c = 0; c < combos; ++c) {
      key_.assign(8, '\0');
      put_window_start(key_, start);
      key_ += combo_keys_[c];
      uint32_t group = group_for(key_, start);
      for (size_t m = 0; m < measures; ++m) {
        columns_[m]->add(group, inputs_[c * measures + input_of_[m]]);
      }
      mark_changed(group);
    }
  }
  return Outcome::kAdded;
}

void WindowOperator::merge(const WindowOperator& other) {
  for (uint32_t g = 0; g < other.groups_.size(); ++g) {
    const Group& theirs = other.groups_[g];
    uint32_t mine = group_for(theirs.key, theirs.window_start);
    for (size_t m = 0; m < columns_.size(); ++m) columns_[m]->merge(mine, *other.columns_[m], g);
    mark_changed(mine);
  }
  if (other.max_time_) observe_event_time(*other.max_time_);
}

void WindowOperator::drop_windows_ending_by(int64_t end) {
  bool any = false;
  for (const Group& g : groups_) any = any || g.window_start + spec_.size_ms <= end;
  if (!any) return;
  // Rebuild from the groups that stay: the columns have no removal, a merge into a fresh
  // operator is the simplest exact way.
  WindowOperator kept(spec_);
  for (uint32_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].window_start + spec_.size_ms <= end) continue;
    uint32_t mine = kept.group_for(groups_[g].key, groups_[g].window_start);
    for (size_t m = 0; m < columns_.size(); ++m) kept.columns_[m]->merge(mine, *columns_[m], g);
  }
  columns_ = std::move(kept.columns_);
  groups_ = std::move(kept.groups_);
  slots_ = std::move(kept.slots_);
  key_blocks_ = std::move(kept.key_blocks_);
  key_block_used_ = kept.key_block_used_;
  key_block_size_ = kept.key_block_size_;
  changed_flags_.assign(groups_.size(), 0);
  changed_.clear();
}

std::vector<uint32_t> WindowOperator::sorted_groups() const {
  std::vector<uint32_t> order(groups_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t dimensions = spec_.dimensions.size();
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (groups_[a].window_start != groups_[b].window_start) {
      return groups_[a].window_start < groups_[b].window_start;
    }
    std::string_view rest_a = groups_[a].key.substr(8), rest_b = groups_[b].key.substr(8);
    for (size_t d = 0; d < dimensions; ++d) {
      int c = compare_dimension(next_dimension(rest_a), next_dimension(rest_b));
      if (c != 0) return c < 0;
    }
    return false;
  });
  return order;
}

std::string WindowOperator::dimensions_json(uint32_t group) const {
  std::string out = "{";
  std::string_view rest = groups_[group].key.substr(8);
  for (size_t d = 0; d < spec_.dimensions.size(); ++d) {
    if (d > 0) out += ',';
    json::append_quoted(out, spec_.dimensions[d].name);
    out += ':';
    out += next_dimension(rest);
  }
  out += '}';
  return out;
}

std::string WindowOperator::serialize_state(uint32_t group) const {
  std::string out;
  for (const auto& column : columns_) column->serialize(group, out);
  return out;
}

Status WindowOperator::merge_partial(int64_t window_start, std::string_view dimensions_json,
                                     std::string_view state) {
  Arena arena(4096);
  auto parsed = json::parse(dimensions_json, arena);
  if (!parsed || !parsed->is_object()) {
    return Status(ErrorCode::kMetric, "stored dimensions are not a JSON object: " +
                                          std::string(dimensions_json.substr(0, 200)));
  }
  key_.assign(8, '\0');
  put_window_start(key_, window_start);
  for (size_t d = 0; d < spec_.dimensions.size(); ++d) {
    if (d > 0) key_ += '\n';
    const Value* v = parsed->find(spec_.dimensions[d].name);
    if (v == nullptr) {
      key_ += "null";
    } else {
      json::append_value(key_, *v);
    }
  }
  uint32_t group = group_for(key_, window_start);
  std::string_view in = state;
  for (size_t m = 0; m < columns_.size(); ++m) {
    if (!columns_[m]->merge_serialized(group, in)) {
      return Status(ErrorCode::kMetric, "a stored partial of metric \"" + spec_.metric_id +
                                            "\" does not decode (measure \"" +
                                            spec_.measures[m].name + "\")");
    }
  }
  if (!in.empty()) {
    return Status(ErrorCode::kMetric,
                  "a stored partial of metric \"" + spec_.metric_id + "\" has trailing bytes");
  }
  return Status::ok();
}

void WindowOperator::append_row(uint32_t group, std::string& out) const {
  const int64_t start = groups_[group].window_start;
  if (row_window_text_.empty() || row_window_start_ != start) {
    // Rows come sorted by window: its text is made once per window, not once per row.
    row_window_start_ = start;
    row_window_text_.clear();
    json::append_quoted(row_window_text_, spec_.metric_id);
    row_window_text_ += ",\"window_start\":\"";
    append_rfc3339_millis(row_window_text_, start);
    row_window_text_ += "\",\"window_end\":\"";
    append_rfc3339_millis(row_window_text_, start + spec_.size_ms);
    row_window_text_ += '"';
  }
  out += "{\"metric\":";
  out += row_window_text_;
  std::string_view rest = groups_[group].key.substr(8);
  for (size_t d = 0; d < spec_.dimensions.size(); ++d) {
    out += dimension_labels_[d];
    out += next_dimension(rest);
  }
  for (size_t m = 0; m < columns_.size(); ++m) {
    out += measure_labels_[m];
    columns_[m]->append_result(group, out);
  }
  out += "}\n";
}

void WindowOperator::append_rows(std::string& out) const {
  for (uint32_t group : sorted_groups()) append_row(group, out);
}

std::vector<uint32_t> WindowOperator::take_changed_groups() {
  std::vector<uint32_t> out;
  out.swap(changed_);
  for (uint32_t g : out) changed_flags_[g] = 0;
  return out;
}

void WindowOperator::mark_changed(uint32_t group) {
  if (!changed_flags_[group]) {
    changed_flags_[group] = 1;
    changed_.push_back(group);
  }
}

}  // namespace canonry::metrics
