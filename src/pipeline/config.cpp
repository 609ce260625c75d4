#include "pipeline/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>

#include "common/file.h"
#include "json/parser.h"
#include "pipeline/section.h"
#include "registry/client.h"
#include "schema/schema_file.h"

namespace canonry::pipeline {
namespace {

// Reads one config file: knows its name and folder, locates nodes and throws located errors.
class Loader {
 public:
  Loader(std::string file, LoadOptions options) : file_(std::move(file)), options_(options) {
    std::filesystem::path parent = std::filesystem::path(file_).parent_path();
    folder_ = parent.string();
    context_.file = file_;
    context_.resolve_path = [this](const std::string& path) { return resolve(path); };
  }

  PipelineConfig load(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(file_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    PipelineConfig config;
    config.file = file_;
    config.folder = folder_;
    if (!root.IsMap()) fail(root, "pipeline", "expected a mapping with name, sources, ...");

    std::vector<std::pair<std::string, YAML::Node>> entries = members(root);
    const YAML::Node* sources = nullptr;
    const YAML::Node* name = nullptr;
    for (const auto& [key, node] : entries) {
      if (key == "name") {
        name = &node;
        config.name = scalar(node, key);
        if (config.name.empty()) fail(node, key, "must not be empty");
      } else if (key == "sources") {
        sources = &node;
      } else if (key == "state") {
        config.state = state_store(node, key);
      } else if (key == "events" || key == "dlq") {
        // Built below, in a fixed order: events first, then the DLQ.
      } else if (key == "registry") {
        registry(node, config);
      } else if (key == "server") {
        config.server = server(node);
      } else if (key == "runtime") {
        config.runtime = runtime(node);
      } else if (find_config_section(key) == nullptr) {
        fail_key(node, key,
                 "unknown key (expected name, sources, state, events, dlq, metrics, " +
                     std::string("registry, server, runtime)"));
      }
    }
    if (name == nullptr) fail(root, "name", "required");
    if (sources == nullptr) fail(root, "sources", "required (a list of sources)");
    config.sources = source_list(*sources, config);
    for (const auto& [key, node] : entries) {
      if (key == "events") config.sinks.push_back(sink(node, key, "events"));
    }
    for (const auto& [key, node] : entries) {
      if (key == "dlq") config.sinks.push_back(sink(node, key, "dlq"));
    }
    bool has_dlq = false;
    for (const auto& [key, node] : entries) has_dlq = has_dlq || key == "dlq";
    if (!has_dlq) {
      fail(root, "dlq", "required: where records that fail go (file:..., kafka://...)");
    }
    if (config.state == nullptr && config.sinks.size() == 1 &&
        std::none_of(entries.begin(), entries.end(),
                     [](const auto& entry) { return find_config_section(entry.first); })) {
      fail(root, "state", "a pipeline needs state, events or metrics to write to");
    }
    context_.take_pipeline_dlq = [&config]() -> std::unique_ptr<Sink> {
      for (auto it = config.sinks.begin(); it != config.sinks.end(); ++it) {
        if ((*it)->role() != "dlq") continue;
        std::unique_ptr<Sink> dlq = std::move(*it);
        config.sinks.erase(it);
        return dlq;
      }
      return nullptr;
    };
    for (const auto& [key, node] : entries) {
      if (const SectionHandler* handler = find_config_section(key)) {
        for (auto& added : (*handler)(node, context_)) config.sinks.push_back(std::move(added));
      }
    }
    context_.take_pipeline_dlq = nullptr;  // it refers to `config`, which is returned
    return config;
  }

 private:
  std::string where(const YAML::Node& node) const { return context_.where(node); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& message) const {
    context_.fail(node, key, message);
  }
  // Errors about a key itself point at the key, which the map iteration remembered.
  [[noreturn]] void fail_key(const YAML::Node& value, const std::string& key,
                             const std::string& message) const {
    auto it = key_marks_.find(value.Mark().pos);
    if (it != key_marks_.end()) throw ConfigError(it->second + ": " + key + ": " + message);
    fail(value, key, message);
  }

  // The members of a map in order, rejecting duplicate keys (which YAML forbids and yaml-cpp
  // accepts silently).
  std::vector<std::pair<std::string, YAML::Node>> members(const YAML::Node& map) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) fail(it->first, "?", "keys must be plain names");
      std::string key = it->first.Scalar();
      if (!seen.insert(key).second) fail(it->first, key, "duplicate key");
      key_marks_[it->second.Mark().pos] = where(it->first);
      out.emplace_back(key, it->second);
    }
    return out;
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a single value, not a list or mapping");
    return node.Scalar();
  }

  int64_t positive_integer(const YAML::Node& node, const std::string& key) const {
    std::string text = scalar(node, key);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
      fail(node, key, "expected a positive integer, got \"" + text + "\"");
    }
    return value;
  }

  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& key,
                                     bool allow_zero) const {
    std::string text = scalar(node, key);
    auto parsed = parse_duration(text);
    if (!parsed || (!allow_zero && parsed->count() == 0)) {
      fail(node, key,
           "expected a duration such as 500ms, 2s or 1m" +
               std::string(allow_zero ? "" : " (more than 0)") + ", got \"" + text + "\"");
    }
    return *parsed;
  }

  std::string resolve(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_absolute() || folder_.empty()) return path;
    return (std::filesystem::path(folder_) / p).lexically_normal().string();
  }

  // The scheme's factories, or an error naming the schemes that have what `role` needs.
  const ConnectorFactories& connector(const YAML::Node& node, const std::string& key,
                                      const std::string& scheme, const std::string& role,
                                      bool (*has)(const ConnectorFactories&)) const {
    const ConnectorFactories* factories = find_connector(scheme);
    if (factories != nullptr && has(*factories)) return *factories;
    std::string known;
    for (const std::string& candidate : connector_schemes()) {
      if (has(*find_connector(candidate))) known += (known.empty() ? "" : ", ") + candidate;
    }
    fail(node, key,
         "no " + role + " for \"" + scheme +
             ":\" URIs (available: " + (known.empty() ? "none" : known) + ")");
  }

  // A connector entry: a URI string, or a mapping with `uri` and the connector's options.
  // `reserved` keys belong to the caller (a source's name, format, mapping, schema).
  struct Entry {
    YAML::Node uri_node;
    std::string uri;
    std::map<std::string, YAML::Node> reserved;
    ConnectorOptions options;
    ConnectorSpec spec;
  };

  Entry entry(const YAML::Node& node, const std::string& key,
              const std::set<std::string>& reserved) {
    Entry out;
    std::map<std::string, ConnectorOptions::Option> options;
    if (node.IsScalar()) {
      out.uri_node = node;
    } else if (node.IsMap()) {
      for (const auto& [name, value] : members(node)) {
        if (name == "uri") {
          out.uri_node = value;
        } else if (reserved.count(name) != 0) {
          out.reserved[name] = value;
        } else {
          if (!value.IsScalar()) fail(value, name, "expected a single value");
          options[name] = {value.Scalar(), key_marks_.count(value.Mark().pos) != 0
                                               ? key_marks_.at(value.Mark().pos)
                                               : where(value)};
        }
      }
      if (!out.uri_node) fail(node, key + ".uri", "required");
    } else {
      fail(node, key, "expected a URI (file:..., kafka://...) or a mapping with uri");
    }
    out.uri = scalar(out.uri_node, "uri");
    auto split = split_uri(out.uri);
    if (!split) fail(out.uri_node, "uri", split.status().message());
    out.options = ConnectorOptions(where(node), std::move(options));
    out.spec.uri = out.uri;
    out.spec.scheme = split->first;
    out.spec.rest = split->second;
    out.spec.uri_where = where(out.uri_node);
    out.spec.resolve_path = context_.resolve_path;
    return out;
  }

  void reject_leftovers(const ConnectorOptions& options, const std::string& what) const {
    if (options.remaining().empty()) return;
    const auto& [key, option] = *options.remaining().begin();
    throw ConfigError(option.where + ": " + key + ": unknown key for " + what);
  }

  std::unique_ptr<Sink> sink(const YAML::Node& node, const std::string& key,
                             const std::string& role) {
    Entry e = entry(node, key, {});
    const ConnectorFactories& factories =
        connector(e.uri_node, key, e.spec.scheme, role + " sink",
                  [](const ConnectorFactories& f) { return static_cast<bool>(f.sink); });
    e.spec.options = &e.options;
    std::unique_ptr<Sink> made = factories.sink(e.spec, role);
    if (made == nullptr) {
      fail(e.uri_node, key,
           "\"" + e.spec.scheme + ":\" cannot be a" + (role == "events" ? "n events" : " " + role) +
               " sink");
    }
    reject_leftovers(e.options, "a " + e.spec.scheme + " " + role + " sink");
    return made;
  }

  std::unique_ptr<StateStore> state_store(const YAML::Node& node, const std::string& key) {
    Entry e = entry(node, key, {});
    const ConnectorFactories& factories =
        connector(e.uri_node, key, e.spec.scheme, "state store",
                  [](const ConnectorFactories& f) { return static_cast<bool>(f.state_store); });
    e.spec.options = &e.options;
    std::unique_ptr<StateStore> made = factories.state_store(e.spec);
    reject_leftovers(e.options, "a " + e.spec.scheme + " state store");
    return made;
  }

  // `registry: embedded`, `registry: {embedded: FOLDER}` or `registry: http://host:8081`.
  void registry(const YAML::Node& node, PipelineConfig& config) {
    std::string data = "canonry-data";  // canonry serve's default --data
    if (node.IsMap()) {
      for (const auto& [key, value] : members(node)) {
        if (key != "embedded") fail_key(value, key, "unknown key in registry (expected embedded)");
        data = scalar(value, key);
      }
      config.registry = "embedded";
    } else {
      config.registry = scalar(node, "registry");
    }
    if (config.registry == "embedded") {
      config.registry_data = resolve(data);
      auto opened = registry::Registry::open(config.registry_data);
      if (!opened) fail(node, "registry", opened.status().message());
      config.embedded_registry = std::move(*opened);
    } else if (!config.registry.starts_with("http://")) {
      fail(node, "registry", "expected embedded, {embedded: FOLDER} or an http:// URL");
    }
  }

  // The latest schema of the subject in the configured registry.
  std::string registered_schema(const PipelineConfig& config, const std::string& subject,
                                const YAML::Node& where) {
    if (config.embedded_registry) {
      auto latest = config.embedded_registry->version(subject, "latest", false);
      if (!latest.ok()) {
        fail(where, "mapping",
             "the embedded registry (" + config.registry_data + ") has no schema for subject \"" +
                 subject + "\" (" + latest.error().message +
                 "); register one or give the source a schema:");
      }
      return latest.value().schema->schema;
    }
    auto fetched = registry::fetch_latest_schema(config.registry, subject);
    if (!fetched) {
      fail(where, "mapping",
           "registry " + config.registry + ": subject \"" + subject +
               "\": " + fetched.status().message() +
               " (register a schema or give the source a "
               "schema:)");
    }
    return *fetched;
  }

  std::vector<SourceConfig> source_list(const YAML::Node& node, const PipelineConfig& config) {
    if (!node.IsSequence() || node.size() == 0) {
      fail(node, "sources", "expected a list of at least one source");
    }
    std::vector<SourceConfig> out;
    std::set<std::string> names;
    for (const YAML::Node& item : node) {
      if (!item.IsMap()) fail(item, "sources", "each source is a mapping (name, uri, mapping)");
      Entry e = entry(item, "sources[]", {"name", "format", "mapping", "schema"});
      SourceConfig source;
      source.where = where(item);
      source.uri = e.uri;
      auto reserved = [&](const std::string& name) -> const YAML::Node* {
        auto it = e.reserved.find(name);
        return it == e.reserved.end() ? nullptr : &it->second;
      };
      const YAML::Node* name = reserved("name");
      if (name == nullptr) fail(item, "name", "required");
      source.name = scalar(*name, "name");
      bool valid_name = !source.name.empty();
      for (char c : source.name) {
        valid_name = valid_name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                    c == '-' || c == '.');
      }
      if (!valid_name) fail(*name, "name", "letters, digits, '_', '-' and '.' only");
      if (!names.insert(source.name).second) {
        fail(*name, "name", "another source is already called \"" + source.name + "\"");
      }

      const YAML::Node* mapping = reserved("mapping");
      if (mapping == nullptr) fail(item, "mapping", "required (the mapping spec's path)");
      source.mapping_path = resolve(scalar(*mapping, "mapping"));
      auto spec = mapping::load_spec_file(source.mapping_path);
      if (!spec) fail(*mapping, "mapping", spec.status().message());
      auto plan = mapping::Plan::compile(*spec);
      if (!plan) fail(*mapping, "mapping", plan.status().message());
      source.plan = std::move(*plan);

      std::string format_name = spec->source_format.empty() ? "auto" : spec->source_format;
      const YAML::Node* format_node = reserved("format");
      if (format_node != nullptr) format_name = scalar(*format_node, "format");
      auto format = formats::parse_format(format_name);
      if (!format) {
        fail(format_node != nullptr ? *format_node : *mapping, "format", format.status().message());
      }
      source.format = *format;

      if (const YAML::Node* schema_node = reserved("schema")) {
        source.schema_path = resolve(scalar(*schema_node, "schema"));
        auto validator = schema::load_validator(source.schema_path, {});
        if (!validator) fail(*schema_node, "schema", validator.status().message());
        source.validator = std::make_shared<const schema::Validator>(std::move(*validator));
      } else if (!config.registry.empty()) {
        // Without a schema file, the canonical schema is the one registered for the subject.
        const std::string& subject = source.plan->spec().target_subject;
        if (subject.empty()) {
          fail(*mapping, "mapping",
               "has no target.subject, so the registry cannot name its canonical schema");
        }
        std::string text = registered_schema(config, subject, *mapping);
        Arena arena;
        json::ParseOptions plain;
        plain.extended_json = false;
        auto parsed = json::parse(text, arena, plain);
        if (!parsed)
          fail(*mapping, "mapping",
               "registered schema of " + subject + ": " + parsed.status().message());
        auto validator = schema::Validator::compile(*parsed);
        if (!validator) {
          fail(*mapping, "mapping",
               "registered schema of " + subject + ": " + validator.status().message());
        }
        source.schema_path = config.registry + " subject " + subject;
        source.validator = std::make_shared<const schema::Validator>(std::move(*validator));
      }

      const ConnectorFactories& factories =
          connector(e.uri_node, "uri", e.spec.scheme, "source",
                    [](const ConnectorFactories& f) { return static_cast<bool>(f.source); });
      SourceSpec spec_for_source;
      static_cast<ConnectorSpec&>(spec_for_source) = e.spec;
      spec_for_source.options = &e.options;
      spec_for_source.name = source.name;
      spec_for_source.format = std::string(formats::format_name(source.format));
      spec_for_source.until_end = options_.until_end;
      source.source = factories.source(spec_for_source);
      reject_leftovers(e.options, "a " + e.spec.scheme + " source");
      out.push_back(std::move(source));
    }
    return out;
  }

  ServerConfig server(const YAML::Node& node) {
    if (!node.IsMap())
      fail(node, "server", "expected a mapping such as {listen: \"127.0.0.1:8080\"}");
    ServerConfig out;
    out.where = where(node);
    out.listen = "127.0.0.1:8080";
    for (const auto& [key, value] : members(node)) {
      if (key != "listen") fail_key(value, key, "unknown key in server (expected listen)");
      out.listen = scalar(value, key);
      size_t colon = out.listen.rfind(':');
      int port = -1;
      if (colon != std::string::npos && colon > 0) {
        std::string_view digits = std::string_view(out.listen).substr(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc() || end != digits.data() + digits.size()) port = -1;
      }
      if (port < 0 || port > 65535) {
        fail(value, key, "expected HOST:PORT (127.0.0.1:8080), got \"" + out.listen + "\"");
      }
    }
    return out;
  }

  RuntimeOptions runtime(const YAML::Node& node) {
    if (!node.IsMap()) fail(node, "runtime", "expected a mapping");
    RuntimeOptions out;
    for (const auto& [key, value] : members(node)) {
      if (key == "batch_messages") {
        out.batch_messages = static_cast<size_t>(positive_integer(value, key));
      } else if (key == "batch_linger") {
        out.batch_linger = duration(value, key, true);
      } else if (key == "queue_batches") {
        out.queue_batches = static_cast<size_t>(positive_integer(value, key));
      } else if (key == "checkpoint_interval") {
        out.checkpoint_interval = duration(value, key, false);
      } else if (key == "progress_interval") {
        out.progress_interval = duration(value, key, true);
      } else if (key == "sink_retry_limit") {
        out.sink_retry_limit = duration(value, key, false);
      } else {
        fail_key(value, key,
                 "unknown key in runtime (expected batch_messages, batch_linger, queue_batches, "
                 "checkpoint_interval, progress_interval, sink_retry_limit)");
      }
    }
    return out;
  }

  std::string file_;
  LoadOptions options_;
  std::string folder_;
  SectionContext context_;
  // Value node position → location of its key, for errors about a key.
  std::map<size_t, std::string> key_marks_;
};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  if (unit.empty()) {
    if (value == 0) return std::chrono::milliseconds(0);
    return std::nullopt;  // a bare number has no unit: say which
  }
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit == "s") return std::chrono::milliseconds(value * 1000);
  if (unit == "m") return std::chrono::milliseconds(value * 60 * 1000);
  if (unit == "h") return std::chrono::milliseconds(value * 3600 * 1000);
  return std::nullopt;
}

PipelineConfig load_pipeline_config_text(const std::string& text, const std::string& file,
                                         const LoadOptions& options) {
  Loader loader(file, options);
  return loader.load(text);
}

PipelineConfig load_pipeline_config(const std::string& path, const LoadOptions& options) {
  auto text = read_file(path);
  if (!text) throw ConfigError(text.status().message());
  return load_pipeline_config_text(*text, path, options);
}

}  // namespace canonry::pipeline
