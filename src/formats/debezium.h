// Debezium change-event values to records (DESIGN 4.2): the `{schema, payload}` wrapper, the
// MongoDB connector (documents as extended-JSON strings, `updateDescription`, the older
// connector's `patch` and `filter`) and the relational connectors (documents as objects).
#pragma once

#include <string>

#include "common/arena.h"
#include "common/status.h"
#include "formats/reader.h"
#include "formats/record.h"
#include "json/parser.h"
#include "json/value.h"

namespace canonry::formats {

class DebeziumDecoder {
 public:
  enum class Outcome { kRecord, kError, kSkipped };

  // `parser` parses the extended-JSON strings of the MongoDB connector; `store` may be null.
  DebeziumDecoder(json::Parser& parser, RawDocumentStore* store) : parser_(parser), store_(store) {}

  // Fills `record` (document, op, source_key, envelope_time_ms) from a change-event value.
  // `message_key` is the Kafka message key when the input carries one, null otherwise.
  // kSkipped for tombstones and for events that change no document (truncate, message).
  Outcome decode(const json::Value& value, const json::Value& message_key, Arena& arena,
                 Record& record, Status& error);

  // A message value as kcat and Kafka deliver it: a change event is decoded as above, anything
  // else is the document, with `message_key` as its source key. `record.envelope_time_ms` is kept
  // (the Kafka timestamp) unless the event has its own ts_ms.
  Outcome decode_message(const json::Value& value, const json::Value& message_key, Arena& arena,
                         Record& record, Status& error);

  // True when `value` has the shape of a change event: `op` with `after` or `before`, or a
  // `payload` that has them.
  static bool looks_like_event(const json::Value& value);

 private:
  Result<json::Value> parse_embedded(std::string_view text, Arena& arena);
  Result<json::Value> apply_update(const json::Value& event, const json::Value& key, Arena& arena);
  void remember(const json::Value& key, const json::Value& document);

  json::Parser& parser_;
  RawDocumentStore* store_;
  std::string key_json_;
  std::string document_json_;
};

// A message key as a source key: JSON text (a Debezium key) is parsed, any other text stays the
// string it is.
json::Value decode_message_key(json::Parser& parser, std::string_view key, Arena& arena);

// Writes a document as JSON text that json::Parser reads back into the same types (decimals and
// doubles included), for RawDocumentStore.
void append_store_json(std::string& out, const json::Value& value);

}  // namespace canonry::formats
