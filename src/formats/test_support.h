// Test helpers shared by the formats unit tests: read a whole input into comparable items.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/reader.h"
#include "json/writer.h"

namespace canonry::formats::test {

struct Item {
  RecordReader::Next kind;
  std::string document;  // compact JSON
  std::string types;     // the document's shape with type names, e.g. "object{a:integer}"
  std::string key;       // compact JSON of source_key
  Op op = Op::kUpsert;
  std::string position;
  int64_t offset = 0;
  std::string raw;
  bool raw_is_binary = false;
  std::optional<int64_t> time;
  ErrorCode code = ErrorCode::kOk;
  std::string message;
};

inline std::string shape(const json::Value& v) {
  std::string out(json::type_name(v.type()));
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const json::Member& m : v.members()) {
      if (!first) out += ',';
      first = false;
      out += m.key;
      out += ':';
      out += shape(m.value);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const json::Value& item : v.items()) {
      if (!first) out += ',';
      first = false;
      out += shape(item);
    }
    out += ']';
  }
  return out;
}

// Reads everything; a failure to open becomes a test failure and no items. `mapped`: through
// open_mapped_reader, which reads the bytes in place, instead of a copy.
inline std::vector<Item> read_all(std::string_view bytes, ReaderOptions options,
                                  Format* detected = nullptr, uint64_t* skipped = nullptr,
                                  bool mapped = false) {
  std::vector<Item> items;
  auto reader = mapped ? open_mapped_reader(bytes, "test", options)
                       : open_memory_reader(bytes, "test", options);
  if (!reader.is_ok()) {
    ADD_FAILURE() << "open failed: " << reader.status().to_string();
    return items;
  }
  if (detected != nullptr) *detected = (*reader)->format();
  Arena arena;
  Record record;
  Status error;
  // Every call consumes input, so more calls than bytes means the reader is stuck.
  for (size_t calls = 0;; ++calls) {
    if (calls > bytes.size() + 1) {
      ADD_FAILURE() << "the reader does not reach its end";
      break;
    }
    auto next = (*reader)->next(arena, record, error);
    if (next == RecordReader::Next::kEnd) break;
    Item item;
    item.kind = next;
    item.position = record.position.to_string();
    item.offset = record.position.offset;
    item.raw = std::string(record.raw);
    item.raw_is_binary = record.raw_is_binary;
    if (next == RecordReader::Next::kRecord) {
      item.document = json::to_json(record.document);
      item.types = shape(record.document);
      item.key = json::to_json(record.source_key);
      item.op = record.op;
      item.time = record.envelope_time_ms;
    } else {
      item.code = error.code();
      item.message = error.message();
    }
    items.push_back(std::move(item));
    arena.reset();
  }
  if (skipped != nullptr) *skipped = (*reader)->skipped();
  return items;
}

}  // namespace canonry::formats::test
