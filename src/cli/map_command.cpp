// canonry map --spec SPEC [--format F] [--dlq FILE] [--out FILE] [--emit-deletes] INPUT...
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>

#include "cli/commands.h"
#include "cli/io.h"
#include "formats/reader.h"
#include "json/writer.h"
#include "mapping/dlq.h"
#include "mapping/plan.h"
#include "schema/report.h"
#include "schema/schema_file.h"

namespace canonry::cli {
namespace {

struct MapOptions {
  std::string spec;
  std::string format = "auto";
  std::string dlq;
  std::string out = "-";
  bool emit_deletes = false;
  std::string validate;
  bool assert_formats = false;
  size_t max_depth = 128;
  size_t max_document_bytes = 16 * 1024 * 1024;
  std::vector<std::string> inputs;
};

struct Counters {
  uint64_t in = 0, out = 0, deletes = 0, dlq_decode = 0, dlq_map = 0, dlq_validate = 0, skipped = 0,
           bytes = 0;
};

std::string format_rate(double value, const char* unit) {
  char buf[64];
  if (value >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM %s", value / 1e6, unit);
  } else if (value >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk %s", value / 1e3, unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f %s", value, unit);
  }
  return buf;
}

// With --emit-deletes, the canonical key each source key maps to, for deletes that name only the
// source key.
void remember_key(const MapOptions& options, const formats::Record& record,
                  const mapping::MapInfo& info,
                  std::unordered_map<std::string, std::string>& canonical_keys) {
  if (!options.emit_deletes || info.key.is_null()) return;
  const json::Value* source_key = &record.source_key;
  if (source_key->is_null()) source_key = record.document.find("_id");
  if (source_key != nullptr && !source_key->is_null()) {
    canonical_keys[json::to_json(*source_key)] = json::to_json(info.key);
  }
}

int run_map(const MapOptions& options) {
  auto spec = mapping::load_spec_file(options.spec);
  if (!spec) {
    std::fprintf(stderr, "canonry map: %s\n", spec.status().message().c_str());
    return kExitBadInput;
  }
  auto plan = mapping::Plan::compile(*spec);
  if (!plan) {
    std::fprintf(stderr, "canonry map: %s\n", plan.status().message().c_str());
    return kExitBadInput;
  }
  // The spec's source.format describes the pipeline source; the files given here may be a
  // dump of it in another format (a .bson of a collection read as JSON in production), so the
  // format is the command line's or detected, never taken from the spec.
  auto format = formats::parse_format(options.format);
  if (!format) {
    std::fprintf(stderr, "canonry map: --format: %s\n", format.status().message().c_str());
    return kExitUsage;
  }

  std::optional<schema::Validator> validator;
  if (!options.validate.empty()) {
    schema::ValidatorOptions validator_options;
    validator_options.assert_formats = options.assert_formats;
    auto loaded = schema::load_validator(options.validate, validator_options);
    if (!loaded) {
      std::fprintf(stderr, "canonry map: --validate: %s\n", loaded.status().message().c_str());
      return kExitBadInput;
    }
    validator.emplace(std::move(*loaded));
  }

  OutputFile out, dlq;
  if (auto s = out.open(options.out); !s) {
    std::fprintf(stderr, "canonry map: %s\n", s.message().c_str());
    return kExitBadInput;
  }
  // Without --dlq the dead letters go to standard error: nothing is ever dropped silently.
  if (auto s = dlq.open(options.dlq.empty() ? "stderr" : options.dlq); !s) {
    std::fprintf(stderr, "canonry map: %s\n", s.message().c_str());
    return kExitBadInput;
  }

  auto raw_store = formats::make_memory_raw_store();
  formats::ReaderOptions reader_options;
  reader_options.format = *format;
  reader_options.parse.max_depth = options.max_depth;
  reader_options.parse.max_document_bytes = options.max_document_bytes;
  reader_options.raw_store = raw_store.get();

  // Source key → canonical key, to resolve deletes that name only the source key.
  std::unordered_map<std::string, std::string> canonical_keys;
  const std::string& mapping_id = (*plan)->mapping_id();
  Counters counters;
  Arena arena(256 * 1024);
  auto started = std::chrono::steady_clock::now();

  for (const std::string& input : options.inputs) {
    auto reader = formats::open_reader(input, reader_options);
    if (!reader) {
      std::fprintf(stderr, "canonry map: %s\n", reader.status().message().c_str());
      out.close();
      dlq.close();
      return kExitBadInput;
    }
    formats::Record record;
    Status error;
    mapping::MapInfo info;
    mapping::MapError map_error;
    while (true) {
      arena.reset();
      auto next = (*reader)->next(arena, record, error);
      if (next == formats::RecordReader::Next::kEnd) break;
      ++counters.in;
      if (next == formats::RecordReader::Next::kError) {
        ++counters.dlq_decode;
        mapping::append_dead_letter(dlq.buffer(), {mapping::Step::kDecode,
                                                   &error,
                                                   {},
                                                   mapping_id,
                                                   &record.position,
                                                   record.raw,
                                                   record.raw_is_binary});
        dlq.maybe_flush();
        continue;
      }
      if (record.op == formats::Op::kDelete) {
        ++counters.deletes;
        if (!options.emit_deletes) continue;
        // The key of a delete: from its `before` document when it has one (mapped only for the
        // key), else from the source key an earlier record of this run mapped.
        std::string key_json;
        json::Value before;
        if (!record.document.is_null() &&
            (*plan)->map_to_value(record.document, arena, before, info, map_error) &&
            !info.key.is_null()) {
          key_json = json::to_json(info.key);
        } else if (auto it = canonical_keys.find(json::to_json(record.source_key));
                   !record.source_key.is_null() && it != canonical_keys.end()) {
          key_json = it->second;
        } else {
          Status unknown(ErrorCode::kMissingKey,
                         "delete of source key " + json::to_json(record.source_key) +
                             " that maps to no canonical entity seen in this run");
          ++counters.dlq_map;
          mapping::append_dead_letter(dlq.buffer(), {mapping::Step::kMap,
                                                     &unknown,
                                                     {},
                                                     mapping_id,
                                                     &record.position,
                                                     record.raw,
                                                     record.raw_is_binary});
          continue;
        }
        std::string& buf = out.buffer();
        buf += "{\"op\":\"delete\",\"key\":";
        buf += key_json;
        buf += "}\n";
        ++counters.out;
        out.maybe_flush();
        continue;
      }
      std::string& buf = out.buffer();
      size_t mark = buf.size();
      if (validator) {
        // Canonical records that break the canonical schema go to the DLQ, not the output.
        json::Value canonical;
        if ((*plan)->map_to_value(record.document, arena, canonical, info, map_error)) {
          std::vector<schema::ValidationError> invalid = validator->validate(canonical);
          if (!invalid.empty()) {
            ++counters.dlq_validate;
            Status status = schema::validation_status(invalid);
            std::string path = schema::pointer_to_jsonpath(invalid.front().instance_path);
            mapping::append_dead_letter(dlq.buffer(),
                                        {mapping::Step::kValidate, &status, path, mapping_id,
                                         &record.position, record.raw, record.raw_is_binary});
            dlq.maybe_flush();
            continue;
          }
          json::append_value(buf, canonical);
          buf += '\n';
          ++counters.out;
          out.maybe_flush();
          remember_key(options, record, info, canonical_keys);
          continue;
        }
      } else if ((*plan)->map(record.document, arena, buf, info, map_error)) {
        buf += '\n';
        ++counters.out;
        out.maybe_flush();
        remember_key(options, record, info, canonical_keys);
        continue;
      }
      buf.resize(mark);
      ++counters.dlq_map;
      mapping::append_dead_letter(
          dlq.buffer(), {mapping::Step::kMap, &map_error.status, map_error.dst, mapping_id,
                         &record.position, record.raw, record.raw_is_binary});
      dlq.maybe_flush();
    }
    counters.skipped += (*reader)->skipped();
    counters.bytes += (*reader)->bytes_read();
  }
  bool written = out.close();
  bool dlq_written = dlq.close();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t to_dlq = counters.dlq_decode + counters.dlq_map + counters.dlq_validate;
  std::fprintf(
      stderr,
      "canonry map: %llu records in, %llu out, %llu to the DLQ (decode %llu, map %llu, validate "
      "%llu), %llu deletes, %llu skipped; %.1f MB in %.2f s (%s, %s)\n",
      static_cast<unsigned long long>(counters.in), static_cast<unsigned long long>(counters.out),
      static_cast<unsigned long long>(to_dlq), static_cast<unsigned long long>(counters.dlq_decode),
      static_cast<unsigned long long>(counters.dlq_map),
      static_cast<unsigned long long>(counters.dlq_validate),
      static_cast<unsigned long long>(counters.deletes),
      static_cast<unsigned long long>(counters.skipped), counters.bytes / 1e6, seconds,
      format_rate(seconds > 0 ? counters.bytes / 1e6 / seconds : 0, "MB/s").c_str(),
      format_rate(seconds > 0 ? counters.in / seconds : 0, "records/s").c_str());
  if (!written || !dlq_written) {
    std::fprintf(stderr, "canonry map: writing the output failed (disk full?)\n");
    return kExitBadInput;
  }
  return kExitOk;
}

Command add_map(CLI::App& app) {
  auto options = std::make_shared<MapOptions>();
  CLI::App* sub =
      app.add_subcommand("map", "Map source records to canonical JSON lines with a mapping spec");
  sub->add_option("--spec", options->spec, "Mapping spec (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--format", options->format, "Input format: auto, json, bson, debezium, kcat")
      ->capture_default_str();
  sub->add_option("--dlq", options->dlq, "Write dead letters to FILE (default: standard error)");
  sub->add_option("--out", options->out,
                  "Write canonical records to FILE (default: standard output)");
  sub->add_flag("--emit-deletes", options->emit_deletes,
                "Print {\"op\":\"delete\",\"key\":…} lines for deletes");
  sub->add_option("--validate", options->validate,
                  "Send canonical records that break this JSON Schema to the DLQ")
      ->check(CLI::ExistingFile);
  sub->add_flag("--assert-formats", options->assert_formats,
                "With --validate: treat `format` as an assertion, not an annotation");
  sub->add_option("--max-depth", options->max_depth, "Deepest nesting accepted in a document")
      ->capture_default_str();
  sub->add_option("--max-document-bytes", options->max_document_bytes,
                  "Largest document accepted, in bytes")
      ->capture_default_str();
  sub->add_option("inputs", options->inputs, "Input files, or - for standard input")->required();
  return {sub, [options] { return run_map(*options); }};
}

CANONRY_COMMAND(add_map);

}  // namespace
}  // namespace canonry::cli
