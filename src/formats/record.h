// A record: one source change, as every decoder produces it and every later step consumes it
// (DESIGN 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "json/value.h"

namespace canonry::formats {

enum class Op : uint8_t { kUpsert, kDelete };

// Where a record came from, precise enough to find it again and to resume after it.
struct Position {
  std::string_view source;  // the input's URI or path ("-" for standard input)
  int64_t line = 0;         // 1-based line (json, debezium, kcat files); 0 when not line-based
  int64_t offset = 0;       // byte offset in a file, or the Kafka offset
  int32_t partition = -1;   // Kafka partition, -1 when not from Kafka
  std::string_view topic;   // Kafka topic, empty when not from Kafka

  // "orders.jsonl:12", "dump.bson@4096", "raw.orders/3@1200"
  std::string to_string() const;
};

struct Record {
  Op op = Op::kUpsert;
  // The source document; null for a delete that carries no document.
  json::Value document;
  // The source key when the envelope has one (Debezium message key, kcat key, MongoDB _id of a
  // delete); null otherwise. Deletes are resolved to canonical keys through it.
  json::Value source_key;
  // Event time from the envelope (Debezium ts_ms, kcat ts), milliseconds since the epoch.
  std::optional<int64_t> envelope_time_ms;
  // The record's original bytes (one line, one BSON document, one message payload).
  std::string_view raw;
  // True when `raw` is binary (BSON) and must be base64 encoded in the DLQ.
  bool raw_is_binary = false;
  Position position;
};

}  // namespace canonry::formats
