// canonry expr EXPR [--bindings JSON] [INPUT...]   (DESIGN 4.1)
// canonry expr -f FILE [--bindings JSON] [INPUT...]
// canonry expr -n EXPR
// Evaluates a JSONata expression against each input document and prints one JSON line per
// result; `undefined` prints nothing. An error stops the command with exit 1 and
// {"code", "message", "position"} on standard error.
#include <cstdio>

#include "cli/commands.h"
#include "cli/io.h"
#include "common/file.h"
#include "expr/expression.h"
#include "formats/reader.h"
#include "json/parser.h"
#include "json/writer.h"

namespace canonry::cli {
namespace {

struct ExprOptions {
  std::vector<std::string> positionals;
  std::string file;
  std::string bindings;
  std::string format = "auto";
  bool no_input = false;
  int64_t max_depth = 2000;
  int64_t timeout_ms = 0;
};

void print_error(const expr::ExprError& e, std::string_view where = {}) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("code");
  w.string(e.code);
  w.key("message");
  w.string(e.message);
  w.key("position");
  w.raw(std::to_string(e.position));
  if (!where.empty()) {
    w.key("input");
    w.string(where);
  }
  w.end_object();
  std::fprintf(stderr, "%s\n", out.c_str());
}

// Writes a result; false when it cannot be (an evaluation error is reported by the caller).
void write_result(OutputFile& out, const std::optional<json::Value>& result) {
  if (!result) return;
  json::append_value(out.buffer(), *result);
  out.buffer() += '\n';
  out.maybe_flush();
}

int run_expr(const ExprOptions& options) {
  std::string text;
  std::vector<std::string> inputs = options.positionals;
  if (!options.file.empty()) {
    auto read = read_file(options.file);
    if (!read) {
      std::fprintf(stderr, "%s: cannot open the expression file\n", options.file.c_str());
      return kExitBadInput;
    }
    text = std::move(*read);
  } else {
    if (inputs.empty()) {
      std::fprintf(stderr, "canonry expr: an expression (EXPR or -f FILE) is required\n");
      return kExitUsage;
    }
    text = inputs.front();
    inputs.erase(inputs.begin());
  }
  if (options.no_input && !inputs.empty()) {
    std::fprintf(stderr, "canonry expr: -n takes no INPUT\n");
    return kExitUsage;
  }
  auto format = formats::parse_format(options.format);
  if (!format) {
    std::fprintf(stderr, "canonry expr: %s\n", format.status().message().c_str());
    return kExitUsage;
  }
  expr::ExprError error;
  auto compiled = expr::Expression::compile(text, &error);
  if (!compiled) {
    print_error(error);
    return kExitBadInput;
  }
  Arena bindings_arena;
  expr::Bindings bindings;
  if (!options.bindings.empty()) {
    auto parsed = json::parse(options.bindings, bindings_arena);
    if (!parsed || !parsed->is_object()) {
      std::fprintf(stderr, "canonry expr: --bindings must be a JSON object%s%s\n",
                   parsed ? "" : ": ", parsed ? "" : parsed.status().message().c_str());
      return kExitUsage;
    }
    for (const json::Member& m : parsed->members()) bindings.bind(std::string(m.key), m.value);
  }
  expr::Limits limits;
  limits.max_depth = options.max_depth;
  limits.timeout_ms = options.timeout_ms;
  OutputFile out;
  if (Status s = out.open("-"); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return kExitBadInput;
  }
  Arena arena;
  if (options.no_input) {
    auto result = compiled->evaluate(nullptr, arena, &bindings, limits, &error);
    if (!result) {
      print_error(error);
      return kExitBadInput;
    }
    write_result(out, *result);
    return out.close() ? kExitOk : kExitBadInput;
  }
  if (inputs.empty()) inputs.push_back("-");
  formats::ReaderOptions reader_options;
  reader_options.format = *format;
  for (const std::string& path : inputs) {
    auto reader = formats::open_reader(path, reader_options);
    if (!reader) {
      out.flush();
      std::fprintf(stderr, "%s\n", reader.status().message().c_str());
      return kExitBadInput;
    }
    formats::Record record;
    Status status;
    for (;;) {
      arena.reset();
      auto next = (*reader)->next(arena, record, status);
      if (next == formats::RecordReader::Next::kEnd) break;
      if (next == formats::RecordReader::Next::kError) {
        out.flush();
        std::fprintf(stderr, "%s: %s\n", record.position.to_string().c_str(),
                     status.message().c_str());
        return kExitBadInput;
      }
      auto result = compiled->evaluate(&record.document, arena, &bindings, limits, &error);
      if (!result) {
        out.flush();
        print_error(error, record.position.to_string());
        return kExitBadInput;
      }
      write_result(out, *result);
    }
  }
  return out.close() ? kExitOk : kExitBadInput;
}

Command add_expr(CLI::App& app) {
  auto options = std::make_shared<ExprOptions>();
  CLI::App* sub =
      app.add_subcommand("expr", "Evaluate a JSONata expression against each input document");
  sub->add_option("-f,--file", options->file, "Read the expression from FILE");
  sub->add_flag("-n,--null-input", options->no_input,
                "Evaluate once with no input document (input is undefined)");
  sub->add_option("--bindings", options->bindings, "Variables as a JSON object: {\"x\": 1} is $x");
  sub->add_option("--format", options->format, "Input format: auto, json, bson, debezium, kcat")
      ->capture_default_str();
  sub->add_option("--max-depth", options->max_depth, "Deepest evaluation nesting (U1001 beyond)")
      ->capture_default_str();
  sub->add_option("--timeout-ms", options->timeout_ms,
                  "Time limit per document in milliseconds, 0 for none (U1001 beyond)")
      ->capture_default_str();
  // EXPR and INPUT are taken as they are, not through an option: CLI11 would read an argument
  // like "[1, 2]" (a JSONata array) as a list of values.
  sub->allow_extras();
  sub->positionals_at_end(false);
  sub->footer("Arguments: EXPR (unless -f FILE) then INPUT files, or - for standard input");
  return {sub, [options, sub] {
            for (const std::string& extra : sub->remaining()) {
              if (extra.size() > 1 && extra[0] == '-' && extra != "--" &&
                  options->positionals.empty() && options->file.empty() &&
                  !(extra[1] >= '0' && extra[1] <= '9')) {
                // an unknown option, not an expression
                std::fprintf(stderr, "canonry expr: unknown option %s\n", extra.c_str());
                return kExitUsage;
              }
              options->positionals.push_back(extra);
            }
            return run_expr(*options);
          }};
}

}  // namespace

CANONRY_COMMAND(add_expr);

}  // namespace canonry::cli
