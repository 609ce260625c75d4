#include "metrics/spec.h"

#include <charconv>
#include <cmath>
#include <initializer_list>

#include "common/arena.h"
#include "common/file.h"
#include "json/keys.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::metrics {

using json::Value;

std::string_view aggregate_name(Aggregate agg) {
  switch (agg) {
    case Aggregate::kCount:
      return "count";
    case Aggregate::kSum:
      return "sum";
    case Aggregate::kAvg:
      return "avg";
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMax:
      return "max";
    case Aggregate::kCountDistinct:
      return "count_distinct";
    case Aggregate::kQuantile:
      return "quantile";
  }
  return "count";
}

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  int64_t amount = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || end == text.data() || amount <= 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 3600 * 1000;
  } else if (unit == "d") {
    factor = 24 * 3600 * 1000;
  } else {
    return std::nullopt;
  }
  if (amount > INT64_MAX / factor / 4) return std::nullopt;
  return amount * factor;
}

namespace {

// The offset of the one wildcard ("[*]" or ".*") in a path's text outside quoted names, and its
// length; npos when there is none.
std::pair<size_t, size_t> find_wildcard(std::string_view text) {
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (text.substr(i, 3) == "[*]") {
      return {i, 3};
    } else if (text.substr(i, 2) == ".*") {
      return {i, 2};
    }
  }
  return {std::string_view::npos, 0};
}

class Loader {
 public:
  Loader(std::string file, std::string base) : file_(std::move(file)), base_(std::move(base)) {}

  Status error(const std::string& pointer, const std::string& message) const {
    std::string where = base_ + pointer;
    return Status(ErrorCode::kSpec, file_ + ": " + (where.empty() ? "/" : where) + ": " + message,
                  where);
  }

  Status check_keys(const Value& object, const std::string& pointer,
                    std::initializer_list<std::string_view> allowed) const {
    if (auto unknown = json::find_unknown_key(object, allowed)) {
      return error(pointer + "/" + std::string(unknown->key), unknown->message);
    }
    return Status::ok();
  }

  Result<std::string> string_at(const Value& object, std::string_view key,
                                const std::string& pointer, bool required) const {
    const Value* v = object.find(key);
    if (v == nullptr) {
      if (required) return error(pointer, "missing \"" + std::string(key) + "\"");
      return std::string();
    }
    if (!v->is_string() || v->as_string().empty()) {
      return error(pointer + "/" + std::string(key), "must be a non-empty string");
    }
    return std::string(v->as_string());
  }

  Result<int64_t> duration_at(const Value& object, std::string_view key, const std::string& pointer,
                              bool required, int64_t fallback) const {
    auto text = string_at(object, key, pointer, required);
    if (!text) return text.take_status();
    if (text->empty()) return fallback;
    auto ms = parse_duration_ms(*text);
    if (!ms) {
      return error(pointer + "/" + std::string(key),
                   "\"" + *text +
                       "\" is not a duration (a positive integer and ms, s, m, h or d: "
                       "\"10m\")");
    }
    return *ms;
  }

  // A dimension or measure path: singular from the root, or with one wildcard over an array whose
  // elements it then reads (`register_unnest` says whether this path may open a new array).
  Result<BoundPath> bind_path(MetricSpec& spec, const std::string& text, const std::string& pointer,
                              bool register_unnest) const {
    auto parsed = jsonpath::JsonPath::parse(text);
    if (!parsed) return error(pointer, parsed.status().message());
    BoundPath bound;
    bound.text = text;
    if (parsed->is_singular()) {
      bound.path = *parsed;
      return bound;
    }
    auto [at, length] = find_wildcard(text);
    std::string shape_message =
        "a path with more than one node must have exactly one [*] with plain names and indexes "
        "around it (\"$.items[*].sku\")";
    if (at == std::string::npos) return error(pointer, shape_message);
    std::string array_text = text.substr(0, at);
    std::string prefix_text = text.substr(0, at + length);
    std::string rest_text = "$" + text.substr(at + length);
    auto array = jsonpath::JsonPath::parse(array_text);
    auto rest = jsonpath::JsonPath::parse(rest_text);
    if (!array || !rest || !array->is_singular() || !rest->is_singular() ||
        array->segment_count() + rest->segment_count() + 1 != parsed->segment_count()) {
      return error(pointer, shape_message);
    }
    bound.path = *rest;
    for (size_t i = 0; i < spec.unnests.size(); ++i) {
      if (spec.unnests[i].prefix_text == prefix_text) bound.unnest = static_cast<int>(i);
    }
    if (bound.unnest < 0) {
      if (!register_unnest) {
        return error(pointer,
                     "the [*] of a measure's field must walk the array of a wildcard "
                     "dimension (\"" +
                         prefix_text + "\" is none)");
      }
      bound.unnest = static_cast<int>(spec.unnests.size());
      spec.unnests.push_back({prefix_text, *array});
    }
    return bound;
  }

  Result<MetricSpec> load(const Value& root) const {
    MetricSpec spec;
    spec.file = file_;
    spec.pointer = base_;
    if (!root.is_object()) return error("", "a metric spec is a JSON object");
    spec.spec_json = json::to_json(root);
    CANONRY_RETURN_IF_ERROR(check_keys(root, "",
                                       {"metricId", "description", "source", "time", "window",
                                        "dimensions", "measures", "lateness"}));
    auto id = string_at(root, "metricId", "", true);
    if (!id) return id.take_status();
    spec.metric_id = *id;
    auto source = string_at(root, "source", "", false);
    if (!source) return source.take_status();
    spec.source = *source;

    auto time = string_at(root, "time", "", true);
    if (!time) return time.take_status();
    auto time_path = jsonpath::JsonPath::parse(*time);
    if (!time_path) return error("/time", time_path.status().message());
    if (!time_path->is_singular()) return error("/time", "must name one field (a singular path)");
    spec.time = *time_path;
    spec.time_text = *time;

    const Value* window = root.find("window");
    if (window == nullptr) return error("", "missing \"window\"");
    if (!window->is_object()) return error("/window", "must be an object");
    CANONRY_RETURN_IF_ERROR(check_keys(*window, "/window", {"type", "size", "slide"}));
    auto type = string_at(*window, "type", "/window", true);
    if (!type) return type.take_status();
    if (*type != "tumbling" && *type != "hopping") {
      return error("/window/type", "must be \"tumbling\" or \"hopping\"");
    }
    spec.hopping = *type == "hopping";
    auto size = duration_at(*window, "size", "/window", true, 0);
    if (!size) return size.take_status();
    spec.size_ms = *size;
    if (spec.hopping) {
      auto slide = duration_at(*window, "slide", "/window", true, 0);
      if (!slide) return slide.take_status();
      if (*slide > spec.size_ms || spec.size_ms % *slide != 0) {
        return error("/window/slide", "must divide the window size (size 1h, slide 15m)");
      }
      spec.slide_ms = *slide;
    } else {
      if (window->find("slide") != nullptr) {
        return error("/window/slide", "only hopping windows slide");
      }
      spec.slide_ms = spec.size_ms;
    }
    auto lateness = duration_at(root, "lateness", "", false, 0);
    if (!lateness) return lateness.take_status();
    spec.lateness_ms = *lateness;

    if (const Value* dimensions = root.find("dimensions")) {
      if (!dimensions->is_object()) {
        return error("/dimensions", "must be an object of names to paths");
      }
      for (const json::Member& m : dimensions->members()) {
        std::string pointer = "/dimensions/" + std::string(m.key);
        if (m.key.empty()) return error(pointer, "a dimension needs a name");
        for (const Dimension& d : spec.dimensions) {
          if (d.name == m.key) return error(pointer, "dimension named twice");
        }
        if (!m.value.is_string()) return error(pointer, "must be a JSONPath string");
        auto bound = bind_path(spec, std::string(m.value.as_string()), pointer, true);
        if (!bound) return bound.take_status();
        spec.dimensions.push_back({std::string(m.key), std::move(*bound)});
      }
    }

    const Value* measures = root.find("measures");
    if (measures == nullptr) return error("", "missing \"measures\"");
    if (!measures->is_array() || measures->size() == 0) {
      return error("/measures", "must be a non-empty array");
    }
    for (size_t i = 0; i < measures->items().size(); ++i) {
      const Value& m = measures->items()[i];
      std::string pointer = "/measures/" + std::to_string(i);
      if (!m.is_object()) return error(pointer, "a measure is an object");
      CANONRY_RETURN_IF_ERROR(check_keys(m, pointer, {"name", "agg", "field", "q"}));
      Measure measure;
      auto name = string_at(m, "name", pointer, true);
      if (!name) return name.take_status();
      measure.name = *name;
      if (measure.name == "metric" || measure.name == "window_start" ||
          measure.name == "window_end") {
        return error(pointer + "/name", "\"" + measure.name + "\" is a column of every row");
      }
      for (const Dimension& d : spec.dimensions) {
        if (d.name == measure.name) return error(pointer + "/name", "also a dimension's name");
      }
      for (const Measure& other : spec.measures) {
        if (other.name == measure.name) return error(pointer + "/name", "measure named twice");
      }
      auto agg = string_at(m, "agg", pointer, true);
      if (!agg) return agg.take_status();
      bool known = false;
      for (Aggregate a : {Aggregate::kCount, Aggregate::kSum, Aggregate::kAvg, Aggregate::kMin,
                          Aggregate::kMax, Aggregate::kCountDistinct, Aggregate::kQuantile}) {
        if (aggregate_name(a) == *agg) {
          measure.agg = a;
          known = true;
        }
      }
      if (!known) {
        return error(pointer + "/agg", "unknown aggregate \"" + *agg +
                                           "\" (expected one of: count, sum, avg, min, max, "
                                           "count_distinct, quantile)");
      }
      auto field = string_at(m, "field", pointer, measure.agg != Aggregate::kCount);
      if (!field) return field.take_status();
      if (!field->empty()) {
        auto bound = bind_path(spec, *field, pointer + "/field", false);
        if (!bound) return bound.take_status();
        measure.field = std::move(*bound);
        measure.has_field = true;
      }
      const Value* q = m.find("q");
      if (measure.agg == Aggregate::kQuantile) {
        if (q == nullptr) return error(pointer, "missing \"q\" (the quantile, 0 to 1)");
        if (!q->is_numeric() || !(q->as_double() >= 0.0 && q->as_double() <= 1.0)) {
          return error(pointer + "/q", "must be a number from 0 to 1");
        }
        measure.q = q->as_double();
      } else if (q != nullptr) {
        return error(pointer + "/q", "only quantile measures take \"q\"");
      }
      spec.measures.push_back(std::move(measure));
    }

    std::string& out = spec.canonical_json;
    json::Writer w(out);
    w.begin_object();
    w.key("metricId");
    w.string(spec.metric_id);
    w.key("source");
    w.string(spec.source);
    w.key("time");
    w.string(spec.time_text);
    w.key("window");
    w.begin_object();
    w.key("type");
    w.string(spec.hopping ? "hopping" : "tumbling");
    w.key("size_ms");
    w.raw(std::to_string(spec.size_ms));
    w.key("slide_ms");
    w.raw(std::to_string(spec.slide_ms));
    w.end_object();
    w.key("lateness_ms");
    w.raw(std::to_string(spec.lateness_ms));
    w.key("dimensions");
    w.begin_object();
    for (const Dimension& d : spec.dimensions) {
      w.key(d.name);
      w.string(d.path.text);
    }
    w.end_object();
    w.key("measures");
    w.begin_array();
    for (const Measure& measure : spec.measures) {
      w.begin_object();
      w.key("name");
      w.string(measure.name);
      w.key("agg");
      w.string(aggregate_name(measure.agg));
      if (measure.has_field) {
        w.key("field");
        w.string(measure.field.text);
      }
      if (measure.agg == Aggregate::kQuantile) {
        w.key("q");
        std::string q;
        json::append_double(q, measure.q);
        w.raw(q);
      }
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return spec;
  }

 private:
  std::string file_;
  std::string base_;
};

}  // namespace

Result<std::vector<MetricSpec>> load_metric_specs_text(std::string_view text,
                                                       const std::string& file) {
  Arena arena(16 * 1024);
  json::ParseOptions options;
  options.extended_json = false;
  auto parsed = json::parse(text, arena, options);
  if (!parsed) {
    return Status(ErrorCode::kSpec, file + ": not valid JSON: " + parsed.status().message());
  }
  std::vector<MetricSpec> specs;
  if (parsed->is_array()) {
    if (parsed->size() == 0) return Status(ErrorCode::kSpec, file + ": /: an empty list of specs");
    for (size_t i = 0; i < parsed->items().size(); ++i) {
      auto spec = Loader(file, "/" + std::to_string(i)).load(parsed->items()[i]);
      if (!spec) return spec.take_status();
      specs.push_back(std::move(*spec));
    }
  } else {
    auto spec = Loader(file, "").load(*parsed);
    if (!spec) return spec.take_status();
    specs.push_back(std::move(*spec));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (specs[i].metric_id == specs[j].metric_id) {
        return Status(ErrorCode::kSpec, file + ": " + specs[i].pointer + "/metricId: \"" +
                                            specs[i].metric_id + "\" is used twice");
      }
    }
  }
  return specs;
}

Result<std::vector<MetricSpec>> load_metric_specs_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return Status(ErrorCode::kSpec, text.status().message());
  return load_metric_specs_text(*text, path);
}

}  // namespace canonry::metrics
