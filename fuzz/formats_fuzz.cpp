// libFuzzer target: arbitrary bytes through every decoder of src/formats. A reader must never
// crash, must always make progress (each call consumes input or ends it) and must end.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "formats/reader.h"
#include "json/writer.h"

using canonry::Arena;
using canonry::Status;
using canonry::formats::Format;
using canonry::formats::Record;
using canonry::formats::RecordReader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks the read size, so that documents straddle chunk ends at every offset.
  size_t chunk = size > 0 ? size_t{16} << (data[0] % 8) : 16;
  for (Format format :
       {Format::kAuto, Format::kJson, Format::kBson, Format::kDebezium, Format::kKcat}) {
    auto store = canonry::formats::make_memory_raw_store();
    canonry::formats::ReaderOptions options;
    options.format = format;
    options.read_chunk_bytes = chunk;
    options.raw_store = store.get();
    options.parse.max_document_bytes = 4096;
    options.parse.max_depth = 32;
    auto reader = canonry::formats::open_memory_reader(bytes, "fuzz", options);
    if (!reader.is_ok()) continue;
    Arena arena;
    Record record;
    Status error;
    std::string out;
    size_t calls = 0;
    while (true) {
      if (++calls > size + 2) __builtin_trap();  // no progress: the reader would hang
      auto next = (*reader)->next(arena, record, error);
      if (next == RecordReader::Next::kEnd) break;
      out.clear();
      if (next == RecordReader::Next::kRecord) {
        canonry::json::append_value(out, record.document);
        canonry::json::append_value(out, record.source_key);
      }
      out += record.position.to_string();
      out.append(record.raw);
      arena.reset();
    }
    if ((*reader)->bytes_read() > size) __builtin_trap();
  }
  // The same bytes as one Kafka message: key up to the first newline, value after it.
  size_t newline = bytes.find('\n');
  std::optional<std::string_view> key, value;
  if (newline != std::string_view::npos) {
    key = bytes.substr(0, newline);
    value = bytes.substr(newline + 1);
  } else {
    value = bytes;
  }
  for (Format format : {Format::kAuto, Format::kJson, Format::kBson, Format::kDebezium}) {
    auto store = canonry::formats::make_memory_raw_store();
    canonry::formats::ReaderOptions options;
    options.format = format;
    options.raw_store = store.get();
    canonry::formats::MessageDecoder decoder(options);
    Arena arena;
    Record record;
    Status error;
    std::string out;
    // Twice, so that an update can find what the first decode stored.
    for (int round = 0; round < 2; ++round) {
      if (decoder.decode(key, value, arena, record, error) ==
          canonry::formats::MessageDecoder::Outcome::kRecord) {
        canonry::json::append_value(out, record.document);
      }
    }
  }
  return 0;
}
