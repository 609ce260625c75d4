// Reading records from an input in one of the formats of DESIGN 4.2.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/arena.h"
#include "common/status.h"
#include "formats/record.h"
#include "json/parser.h"

namespace canonry::formats {

enum class Format { kAuto, kJson, kBson, kDebezium, kKcat };

// "auto", "json", "bson", "debezium", "kcat"; an error naming the accepted values otherwise.
Result<Format> parse_format(std::string_view name);
std::string_view format_name(Format format);

// Keeps the last full raw document per source key, so that a Debezium MongoDB update that only
// carries `updateDescription` can be applied to it (DESIGN 4.2). The in-memory one serves
// `canonry map`; pipelines use one backed by their state store.
class RawDocumentStore {
 public:
  virtual ~RawDocumentStore() = default;
  // Canonical JSON text of the key (as written by json::to_json) to the document's JSON text.
  virtual std::optional<std::string> get(std::string_view key_json) = 0;
  virtual void put(std::string_view key_json, std::string_view document_json) = 0;
  virtual void erase(std::string_view key_json) = 0;
};
std::unique_ptr<RawDocumentStore> make_memory_raw_store();

struct ReaderOptions {
  Format format = Format::kAuto;
  json::ParseOptions parse;
  // Where Debezium updates without `after` find their base document; nullptr: such updates fail.
  RawDocumentStore* raw_store = nullptr;
  // Bytes asked of the operating system per read. Big reads keep the per-byte cost of reading
  // far below parsing; the buffer grows beyond this only for a document that does not fit.
  size_t read_chunk_bytes = size_t{1} << 20;
};

class RecordReader {
 public:
  enum class Next {
    kRecord,  // `record` holds the next record
    kError,   // the next record could not be decoded: `error` says why, `record.raw` and
              // `record.position` say what and where; reading can go on
    kEnd,     // the input is exhausted; a text reader (json, debezium, kcat) leaves in
              // `record.position.line` how many lines it read (`canonry metrics` counts a
              // part's lines that way)
  };

  virtual ~RecordReader() = default;
  // The record's `raw` and `position` stay valid until the next call. Its values live in `arena`,
  // except that with format json strings and number texts may borrow the read buffer (for speed):
  // then they too are valid only until the next call. Copy a record to keep it longer.
  virtual Next next(Arena& arena, Record& record, Status& error) = 0;
  // The format actually read (after auto-detection).
  virtual Format format() const = 0;
  // Records skipped by design, not errors: Debezium tombstones, kcat messages without payload.
  virtual uint64_t skipped() const = 0;
  // Bytes consumed so far (for progress and throughput).
  virtual uint64_t bytes_read() const = 0;
};

// Decodes one message at a time, for sources that deliver messages rather than bytes (a Kafka
// consumer): the key and value of a message are decoded as a kcat line's are. With format auto
// (or kcat) a value that is a Debezium change event is decoded as one, anything else as a JSON
// document; json and debezium force one or the other; bson decodes the value as a BSON document.
class MessageDecoder {
 public:
  enum class Outcome { kRecord, kError, kSkipped };

  explicit MessageDecoder(const ReaderOptions& options);
  ~MessageDecoder();
  MessageDecoder(MessageDecoder&&) noexcept;
  MessageDecoder& operator=(MessageDecoder&&) noexcept;

  // `value` absent: a tombstone, kSkipped. Fills the record's document, op, source_key (the key:
  // JSON text is parsed, other text stays a string), envelope_time_ms (Debezium's ts_ms; set it
  // to the message timestamp before the call to have that when there is none) and raw (the
  // value); the caller owns `position`. Values live in `arena`.
  Outcome decode(std::optional<std::string_view> key, std::optional<std::string_view> value,
                 Arena& arena, Record& record, Status& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens a file path, or "-" for standard input. An error when the input cannot be opened or, with
// `auto`, when its format cannot be recognised.
Result<std::unique_ptr<RecordReader>> open_reader(const std::string& path, ReaderOptions options);
// The same over bytes in memory (sample records of a preview, tests); `name` is the position's
// source. The bytes are copied.
Result<std::unique_ptr<RecordReader>> open_memory_reader(std::string_view bytes,
                                                         const std::string& name,
                                                         ReaderOptions options);
// The same without the copy, for a part of a mapped file: `bytes` must outlive the reader.
Result<std::unique_ptr<RecordReader>> open_mapped_reader(std::string_view bytes,
                                                         const std::string& name,
                                                         ReaderOptions options);

}  // namespace canonry::formats
