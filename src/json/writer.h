// Value to JSON text. Numbers are written as they were read; decimals with their exact digits;
// MongoDB types in relaxed extended JSON ({"$oid": "…"}, {"$date": "…"}), so that the output is
// plain JSON that any consumer reads and that canonry reads back into the same types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "json/value.h"

namespace canonry::json {

// Appends `s` as a JSON string literal (quotes included).
void append_quoted(std::string& out, std::string_view s);
// Appends a double the shortest way that reads back the same; non-finite values become null.
void append_double(std::string& out, double d);
void append_int(std::string& out, int64_t i);
// Appends a value as compact JSON.
void append_value(std::string& out, const Value& value);

std::string to_json(const Value& value);

// A streaming writer for building JSON without a tree: the caller opens and closes containers,
// the writer places the commas.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void begin_object() {
    separate();
    out_ += '{';
    first_ = true;
  }
  void end_object() {
    out_ += '}';
    first_ = false;
  }
  void begin_array() {
    separate();
    out_ += '[';
    first_ = true;
  }
  void end_array() {
    out_ += ']';
    first_ = false;
  }
  void key(std::string_view k) {
    separate();
    append_quoted(out_, k);
    out_ += ':';
    first_ = true;  // the value that follows needs no comma
  }
  void value(const Value& v) {
    separate();
    append_value(out_, v);
    first_ = false;
  }
  void string(std::string_view s) {
    separate();
    append_quoted(out_, s);
    first_ = false;
  }
  // Already-serialised JSON.
  void raw(std::string_view json) {
    separate();
    out_ += json;
    first_ = false;
  }
  std::string& buffer() { return out_; }

 private:
  void separate() {
    if (!first_) out_ += ',';
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace canonry::json
