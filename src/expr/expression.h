// JSONata expressions (jsonata.org, version 2.x): compiled once into an AST, evaluated many
// times against documents. The language, its limits and the differences from jsonata-js are in
// docs/expressions.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.h"
#include "common/status.h"
#include "json/value.h"

namespace canonry::expr {

// A JSONata error: its code ("T2001", "S0202", "D3030", ...), a message, and the character
// offset in the expression text where it was found (-1 when unknown).
struct ExprError {
  std::string code;
  std::string message;
  int64_t position = -1;
};

// Variables visible to the expression as `$name`, in addition to the built-in functions.
struct Bindings {
  std::vector<std::pair<std::string, json::Value>> values;
  void bind(std::string name, json::Value value) { values.emplace_back(std::move(name), value); }
};

struct Limits {
  // Nesting of evaluation steps (each node evaluated inside another counts one); deeper
  // evaluations fail with U1001 instead of overflowing the stack.
  int64_t max_depth = 2000;
  // Wall-clock time for one evaluation in milliseconds; 0 means unlimited. Exceeding it fails
  // with U1001.
  int64_t timeout_ms = 0;
  // C++ stack the evaluation may use below the frame that called evaluate(), whatever the depth
  // limit; so that threads with small stacks and sanitizer builds fail with U1001 too.
  int64_t max_stack_bytes = 2 << 20;
};

struct Program;

class Expression {
 public:
  // Parses `text`. On failure the status (ErrorCode::kExpression) message reads
  // "S0202 at 12: Expected ..."; compile_error() gives the parts.
  static Result<Expression> compile(std::string_view text);
  // The same, with the error's parts.
  static Result<Expression> compile(std::string_view text, ExprError* error);

  // Evaluates against `input` (the whole source document). Results are allocated in `arena`
  // and depend on nothing else (neither the expression nor the input).
  // std::nullopt is JSONata's `undefined`. A function as the result evaluates to null (as
  // JSON.stringify does in jsonata-js). On failure the status message reads
  // "T2001 at 12: ..."; the overload with `error` also fills its parts.
  Result<std::optional<json::Value>> evaluate(const json::Value& input, Arena& arena,
                                              const Bindings* bindings = nullptr,
                                              const Limits& limits = {}) const;
  Result<std::optional<json::Value>> evaluate(const json::Value* input, Arena& arena,
                                              const Bindings* bindings, const Limits& limits,
                                              ExprError* error) const;

  std::string_view text() const;

 private:
  explicit Expression(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace canonry::expr
