#include "formats/bson.h"
#include "formats/debezium.h"
#include "formats/reader.h"
#include "json/parser.h"

namespace canonry::formats {

namespace {

// Change events parse their embedded documents with the same parser: nothing may borrow from it.
json::ParseOptions owned(json::ParseOptions options) {
  options.borrow = false;
  return options;
}

}  // namespace

struct MessageDecoder::Impl {
  explicit Impl(const ReaderOptions& options)
      : format(options.format),
        max_depth(options.parse.max_depth),
        parser(owned(options.parse)),
        debezium(parser, options.raw_store) {}

  Format format;
  size_t max_depth;
  json::Parser parser;
  DebeziumDecoder debezium;
};

MessageDecoder::MessageDecoder(const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}
MessageDecoder::~MessageDecoder() = default;
MessageDecoder::MessageDecoder(MessageDecoder&&) noexcept = default;
MessageDecoder& MessageDecoder::operator=(MessageDecoder&&) noexcept = default;

MessageDecoder::Outcome MessageDecoder::decode(std::optional<std::string_view> key,
                                               std::optional<std::string_view> value, Arena& arena,
                                               Record& record, Status& error) {
  Impl& impl = *impl_;
  record.document = json::Value();
  record.source_key = json::Value();
  record.op = Op::kUpsert;
  record.raw = value.value_or(std::string_view());
  record.raw_is_binary = impl.format == Format::kBson;
  json::Value key_value = key ? decode_message_key(impl.parser, *key, arena) : json::Value();
  if (!value) return Outcome::kSkipped;

  if (impl.format == Format::kBson) {
    auto document = bson_to_value(reinterpret_cast<const uint8_t*>(value->data()), value->size(),
                                  arena, impl.max_depth);
    if (!document) {
      error = document.take_status();
      return Outcome::kError;
    }
    record.document = *document;
    record.source_key = key_value;
    return Outcome::kRecord;
  }
  auto parsed = impl.parser.parse(*value, arena);
  if (!parsed) {
    error = parsed.take_status();
    return Outcome::kError;
  }
  using Decoded = DebeziumDecoder::Outcome;
  Decoded outcome;
  switch (impl.format) {
    case Format::kJson:
      record.document = *parsed;
      record.source_key = key_value;
      return Outcome::kRecord;
    case Format::kDebezium: {
      std::optional<int64_t> message_time = record.envelope_time_ms;
      record.envelope_time_ms.reset();
      outcome = impl.debezium.decode(*parsed, key_value, arena, record, error);
      if (!record.envelope_time_ms) record.envelope_time_ms = message_time;
      break;
    }
    default:
      outcome = impl.debezium.decode_message(*parsed, key_value, arena, record, error);
  }
  switch (outcome) {
    case Decoded::kRecord:
      return Outcome::kRecord;
    case Decoded::kError:
      return Outcome::kError;
    case Decoded::kSkipped:
      return Outcome::kSkipped;
  }
  return Outcome::kError;
}

}  // namespace canonry::formats
