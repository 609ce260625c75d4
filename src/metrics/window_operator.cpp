#include "metrics/window_operator.h"

#include <algorithm>
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

}  // namespace

size_t WindowOperator::KeyHash::operator()(std::string_view key) const {
  return static_cast<size_t>(hash_bytes(key));
}

WindowOperator::WindowOperator(const MetricSpec& spec) : spec_(spec) {
  for (const Measure& m : spec_.measures) columns_.push_back(make_column(m));
  elements_.resize(spec_.unnests.size());
  cursor_.resize(spec_.unnests.size());
}

void WindowOperator::observe_event_time(int64_t time) {
  if (!max_time_ || time > *max_time_) max_time_ = time;
}

uint32_t WindowOperator::group_for(std::string_view key, int64_t window_start) {
  auto found = index_.find(key);
  if (found != index_.end()) return found->second;
  uint32_t id = static_cast<uint32_t>(groups_.size());
  groups_.push_back({window_start, std::string(key)});
  index_.emplace(std::string(key), id);
  for (auto& column : columns_) column->resize(groups_.size());
  changed_flags_.push_back(0);
  return id;
}

WindowOperator::Outcome WindowOperator::add(const Value& record, Status& error) {
  const Value* time_value = spec_.time->select_singular(record);
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
    if (const Value* array = spec_.unnests[u].array.select_singular(record)) {
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
  auto select = [&](const BoundPath& bound) -> const Value* {
    if (bound.unnest < 0) return bound.path->select_singular(record);
    const Value* element =
        elements_[static_cast<size_t>(bound.unnest)][cursor_[static_cast<size_t>(bound.unnest)]];
    return element == nullptr ? nullptr : bound.path->select_singular(*element);
  };
  // Read everything first, so that a record with one bad value changes no aggregate.
  for (size_t c = 0; c < combos; ++c) {
    std::string& dims = combo_keys_[c];
    dims.clear();
    for (size_t d = 0; d < spec_.dimensions.size(); ++d) {
      if (d > 0) dims += '\n';
      const Value* v = select(spec_.dimensions[d].path);
      if (v == nullptr) {
        dims += "null";
      } else {
        json::append_value(dims, *v);
      }
    }
    for (size_t m = 0; m < measures; ++m) {
      const Measure& measure = spec_.measures[m];
      const Value* v = measure.has_field ? select(measure.field) : nullptr;
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
      for (size_t m = 0; m < measures; ++m) columns_[m]->add(group, inputs_[c * measures + m]);
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
  index_ = std::move(kept.index_);
  changed_flags_.assign(groups_.size(), 0);
  changed_.clear();
}

std::vector<std::string_view> WindowOperator::dimension_texts(uint32_t group) const {
  std::vector<std::string_view> parts;
  std::string_view rest = std::string_view(groups_[group].key).substr(8);
  if (spec_.dimensions.empty()) return parts;
  while (true) {
    size_t nl = rest.find('\n');
    parts.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return parts;
}

std::vector<uint32_t> WindowOperator::sorted_groups() const {
  std::vector<uint32_t> order(groups_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::vector<std::string_view>> texts(groups_.size());
  for (uint32_t i = 0; i < groups_.size(); ++i) texts[i] = dimension_texts(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (groups_[a].window_start != groups_[b].window_start) {
      return groups_[a].window_start < groups_[b].window_start;
    }
    for (size_t d = 0; d < texts[a].size(); ++d) {
      int c = compare_dimension(texts[a][d], texts[b][d]);
      if (c != 0) return c < 0;
    }
    return false;
  });
  return order;
}

std::string WindowOperator::dimensions_json(uint32_t group) const {
  std::vector<std::string_view> texts = dimension_texts(group);
  std::string out = "{";
  for (size_t d = 0; d < texts.size(); ++d) {
    if (d > 0) out += ',';
    json::append_quoted(out, spec_.dimensions[d].name);
    out += ':';
    out += texts[d];
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
  out += "{\"metric\":";
  json::append_quoted(out, spec_.metric_id);
  out += ",\"window_start\":\"";
  append_rfc3339_millis(out, groups_[group].window_start);
  out += "\",\"window_end\":\"";
  append_rfc3339_millis(out, groups_[group].window_start + spec_.size_ms);
  out += '"';
  std::vector<std::string_view> texts = dimension_texts(group);
  for (size_t d = 0; d < texts.size(); ++d) {
    out += ',';
    json::append_quoted(out, spec_.dimensions[d].name);
    out += ':';
    out += texts[d];
  }
  for (size_t m = 0; m < columns_.size(); ++m) {
    out += ',';
    json::append_quoted(out, spec_.measures[m].name);
    out += ':';
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
