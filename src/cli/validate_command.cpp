// canonry validate --schema SCHEMA [--assert-formats] [--draft D] INPUT... (DESIGN 4.1): one JSON
// line per invalid record, {"record": N, "errors": [{"path", "message"}]}, N counting from 1
// across all inputs; exit 0 when every record is valid, 1 otherwise.
//
// Inputs are JSON lines or concatenated JSON documents (MongoDB extended JSON recognised), and
// every document is one record whatever its type: a top-level array is a record here, not a list
// of records as `--format json` readers take it, because schemas may describe arrays.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/io.h"
#include "formats/byte_source.h"
#include "formats/text_reader.h"
#include "json/parser.h"
#include "json/writer.h"
#include "schema/schema_file.h"
#include "schema/validator.h"

namespace canonry::cli {
namespace {

struct ValidateOptions {
  std::string schema;
  bool assert_formats = false;
  std::string draft = "2020-12";
  size_t max_errors = 16;
  std::vector<std::string> inputs;
};

void write_invalid(std::string& out, uint64_t record,
                   const std::vector<schema::ValidationError>& errors) {
  json::Writer writer(out);
  writer.begin_object();
  writer.key("record");
  writer.raw(std::to_string(record));
  writer.key("errors");
  writer.begin_array();
  for (const auto& error : errors) {
    writer.begin_object();
    writer.key("path");
    writer.string(error.instance_path);
    writer.key("message");
    writer.string(error.message);
    writer.end_object();
  }
  writer.end_array();
  writer.end_object();
  out += '\n';
}

struct Counts {
  uint64_t records = 0;
  uint64_t invalid = 0;
  bool input_failed = false;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Validates one record's text: parse, check, and print it when invalid.
void validate_document(std::string_view text, const std::string& where,
                       const schema::Validator& validator, json::Parser& parser, Arena& arena,
                       OutputFile& out, Counts& counts) {
  arena.reset();
  ++counts.records;
  auto document = parser.parse_padded(text, arena);
  if (!document) {
    ++counts.invalid;
    write_invalid(out.buffer(), counts.records,
                  {{"", "", "not JSON (" + where + "): " + document.status().message()}});
  } else if (!validator.is_valid(*document)) {
    ++counts.invalid;
    write_invalid(out.buffer(), counts.records, validator.validate(*document));
  }
  out.maybe_flush();
}

// JSON lines when the first document ends on its line, so that a broken line stays one bad
// record; otherwise concatenated documents framed by their structure.
Status validate_input(const std::string& input, const schema::Validator& validator,
                      json::Parser& parser, Arena& arena, OutputFile& out, Counts& counts) {
  auto opened = formats::ByteSource::open(input, 1 << 20);
  if (!opened) return opened.take_status();
  formats::ByteSource& source = **opened;
  const size_t max_bytes = parser.options().max_document_bytes;
  int64_t line = 1;
  std::optional<bool> lines_mode;
  while (true) {
    // Skip blanks between documents.
    size_t blank = 0;
    while (blank < source.size() && is_blank(source.data()[blank])) {
      line += source.data()[blank] == '\n';
      ++blank;
    }
    source.consume(blank);
    if (source.size() == 0) {
      auto more = source.fill();
      if (!more) return more.take_status();
      if (!*more) return Status::ok();
      continue;
    }
    std::string where = input + ":" + std::to_string(line);
    formats::DocumentScan scan;
    size_t length = 0;
    while (true) {
      const char* data = source.data();
      size_t size = source.size();
      if (lines_mode.value_or(false)) {
        const void* newline = std::memchr(data, '\n', size);
        if (newline != nullptr || source.exhausted()) {
          length = newline ? static_cast<const char*>(newline) - data : size;
          break;
        }
      } else if (scan.advance(data, size)) {
        length = scan.pos;
        if (!lines_mode) {
          size_t rest = length;
          while (rest < size && (data[rest] == ' ' || data[rest] == '\t' || data[rest] == '\r')) {
            ++rest;
          }
          lines_mode = scan.newlines == 0 && (rest == size || data[rest] == '\n');
        }
        break;
      } else if (source.exhausted()) {
        length = size;  // the last document runs to the end of the input
        break;
      }
      if (size > max_bytes) {
        return Status(ErrorCode::kTooLarge,
                      where + ": a document larger than " + std::to_string(max_bytes) + " bytes");
      }
      auto more = source.fill(size * 2);
      if (!more) return more.take_status();
    }
    std::string_view text(source.data(), length);
    validate_document(text, where, validator, parser, arena, out, counts);
    if (!lines_mode.value_or(false)) line += std::count(text.begin(), text.end(), '\n');
    source.consume(length);
  }
}

int run_validate(const ValidateOptions& options) {
  schema::ValidatorOptions validator_options;
  validator_options.assert_formats = options.assert_formats;
  validator_options.max_errors = options.max_errors;
  validator_options.default_draft =
      options.draft == "7" ? schema::Draft::k7 : schema::Draft::k2020_12;
  auto validator = schema::load_validator(options.schema, validator_options);
  if (!validator) {
    std::fprintf(stderr, "canonry validate: %s\n", validator.status().message().c_str());
    return kExitBadInput;
  }
  OutputFile out;
  if (Status opened = out.open("-"); !opened) {
    std::fprintf(stderr, "canonry validate: %s\n", opened.message().c_str());
    return kExitBadInput;
  }
  Counts counts;
  json::Parser parser;
  Arena arena(256 * 1024);
  for (const std::string& input : options.inputs) {
    Status status = validate_input(input, *validator, parser, arena, out, counts);
    if (!status) {
      std::fprintf(stderr, "canonry validate: %s\n", status.message().c_str());
      counts.input_failed = true;
    }
  }
  if (!out.close()) {
    std::fprintf(stderr, "canonry validate: cannot write the output\n");
    return kExitBadInput;
  }
  std::fprintf(stderr, "canonry validate: %llu records, %llu invalid\n",
               static_cast<unsigned long long>(counts.records),
               static_cast<unsigned long long>(counts.invalid));
  return counts.invalid == 0 && !counts.input_failed ? kExitOk : kExitBadInput;
}

Command add_validate(CLI::App& app) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* sub =
      app.add_subcommand("validate", "Validate records against a JSON Schema (2020-12 or draft 7)");
  sub->add_option("--schema", options->schema, "JSON Schema file")->required();
  sub->add_flag("--assert-formats", options->assert_formats,
                "Fail values that break their `format` (by default formats are annotations)");
  sub->add_option("--draft", options->draft, "Dialect of a schema without $schema: 2020-12 or 7")
      ->check(CLI::IsMember({"2020-12", "7"}))
      ->capture_default_str();
  sub->add_option("--max-errors", options->max_errors, "Errors reported per record")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("inputs", options->inputs, "Input files, or - for standard input")->required();
  return {sub, [options] { return run_validate(*options); }};
}

CANONRY_COMMAND(add_validate);

}  // namespace
}  // namespace canonry::cli
