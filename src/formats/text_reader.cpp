#include "formats/text_reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "formats/debezium.h"
#include "json/parser.h"

namespace canonry::formats {

namespace {

using json::Value;
using Outcome = DebeziumDecoder::Outcome;

// How far auto-detection looks for the first complete document.
constexpr size_t kSniffBytes = 4 * 1024 * 1024;

inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

inline bool ends_token(char c) {
  return is_blank(c) || c == '{' || c == '[' || c == '"' || c == ',' || c == ']' || c == '}';
}

enum class Framing { kLines, kConcatenated };

// Plain JSON records are parsed once and finished before the next line: their strings can be
// borrowed from the read buffer. Debezium and kcat parse nested documents with the same parser,
// which would overwrite what the envelope borrowed, so they copy.
json::ParseOptions parse_options(json::ParseOptions options, Format format) {
  options.borrow = format == Format::kJson;
  // The members a caller wants are those of the record, not of a Debezium or kcat envelope.
  if (format != Format::kJson) options.top_level_members = nullptr;
  return options;
}

class TextReader final : public RecordReader {
 public:
  TextReader(std::unique_ptr<ByteSource> source, const std::string& path,
             const ReaderOptions& options, Format format, Framing framing, bool array_mode)
      : source_(std::move(source)),
        path_(path),
        max_bytes_(options.parse.max_document_bytes),
        format_(format),
        framing_(framing),
        array_mode_(array_mode),
        parser_(parse_options(options.parse, format)),
        debezium_(parser_, options.raw_store) {}

  Next next(Arena& arena, Record& record, Status& error) override {
    if (failed_) return Next::kEnd;  // the read error was reported once
    while (true) {
      Frame frame = framing_ == Framing::kLines ? next_line(error) : next_concatenated(error);
      record = Record();
      record.position.source = path_;
      record.position.line = frame.line;
      record.position.offset = static_cast<int64_t>(frame.offset);
      switch (frame.kind) {
        case FrameKind::kEnd:
          return Next::kEnd;
        case FrameKind::kIoError:
          return Next::kError;
        case FrameKind::kTooLarge:
          record.raw = oversized_raw_;
          error = Status(ErrorCode::kTooLarge,
                         "document larger than the limit of " + std::to_string(max_bytes_) +
                             " bytes; skipped (raw holds its first " +
                             std::to_string(oversized_raw_.size()) + " bytes)");
          return Next::kError;
        case FrameKind::kDocument:
          break;
      }
      record.raw = frame.text;
      Outcome outcome = decode(frame.text, arena, record, error);
      if (outcome == Outcome::kSkipped) {
        ++skipped_;
        continue;
      }
      return outcome == Outcome::kRecord ? Next::kRecord : Next::kError;
    }
  }

  Format format() const override { return format_; }
  uint64_t skipped() const override { return skipped_; }
  uint64_t bytes_read() const override { return source_->offset(); }

 private:
  enum class FrameKind { kDocument, kTooLarge, kEnd, kIoError };
  struct Frame {
    FrameKind kind;
    std::string_view text;
    int64_t line = 0;
    uint64_t offset = 0;
  };

  // Reads more input; false at its end or on a read error (then `error` is set and reading is
  // over).
  bool read_more(Status& error, size_t min_capacity = 0) {
    if (failed_) return false;
    auto more = source_->fill(min_capacity);
    if (!more) {
      error = more.take_status();
      failed_ = true;
      return false;
    }
    return *more;
  }

  Frame end_or_failure(int64_t line) {
    return Frame{failed_ ? FrameKind::kIoError : FrameKind::kEnd, {}, line, source_->offset()};
  }

  Frame oversized(int64_t line, uint64_t offset, const char* data) {
    oversized_raw_.assign(data, std::min(kMaxErrorRawBytes, max_bytes_));
    return Frame{FrameKind::kTooLarge, {}, line, offset};
  }

  // JSON lines: the hot path. One memchr per line, the line parsed where it lies in the buffer.
  Frame next_line(Status& error) {
    while (true) {
      const char* data = source_->data();
      size_t size = source_->size();
      if (skipping_) {
        // The rest of an oversized line, dropped as it arrives.
        if (const void* nl = std::memchr(data, '\n', size)) {
          source_->consume(static_cast<const char*>(nl) - data + 1);
          skipping_ = false;
          continue;
        }
        source_->consume(size);
        if (!read_more(error)) {
          skipping_ = false;
          return end_or_failure(line_);
        }
        continue;
      }
      const char* nl =
          scanned_ < size
              ? static_cast<const char*>(std::memchr(data + scanned_, '\n', size - scanned_))
              : nullptr;
      size_t length;
      size_t advance;
      if (nl != nullptr) {
        length = static_cast<size_t>(nl - data);
        advance = length + 1;
      } else {
        if (size > max_bytes_) {
          Frame frame = oversized(++line_, source_->offset(), data);
          source_->consume(size);
          scanned_ = 0;
          skipping_ = true;
          return frame;
        }
        scanned_ = size;
        if (!source_->exhausted()) {
          if (!read_more(error) && failed_) return end_or_failure(line_);
          continue;
        }
        if (size == 0) return end_or_failure(line_);
        length = size;
        advance = size;
      }
      scanned_ = 0;
      ++line_;
      uint64_t offset = source_->offset();
      source_->consume(advance);
      std::string_view line(data, length);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (is_blank(line.front())) {
        size_t i = 1;
        while (i < line.size() && is_blank(line[i])) ++i;
        if (i == line.size()) continue;
      }
      return Frame{FrameKind::kDocument, line, line_, offset};
    }
  }

  // Concatenated documents (pretty-printed ones too) and top-level arrays of documents.
  Frame next_concatenated(Status& error) {
    while (true) {
      const char* data = source_->data();
      size_t size = source_->size();
      if (skipping_) {
        // After an oversized document its end is unknown: go on at the next line that starts a
        // document.
        if (size > 0 && at_line_start_ && data[0] == '{') {
          skipping_ = false;
          continue;
        }
        if (const void* nl = std::memchr(data, '\n', size)) {
          source_->consume(static_cast<const char*>(nl) - data + 1);
          ++line_;
          at_line_start_ = true;
          if (source_->size() > 0) continue;
        } else {
          source_->consume(size);
          at_line_start_ = false;
        }
        if (!read_more(error)) {
          skipping_ = false;
          return end_or_failure(line_ + 1);
        }
        continue;
      }
      if (!in_document_) {
        size_t i = 0;
        for (; i < size; ++i) {
          char c = data[i];
          if (c == '\n') {
            ++line_;
            continue;
          }
          if (c == ' ' || c == '\t' || c == '\r') continue;
          if (array_mode_) {
            if (in_array_ && c == ',') continue;
            if (in_array_ && c == ']') {
              in_array_ = false;
              continue;
            }
            if (!in_array_ && c == '[') {
              in_array_ = true;
              continue;
            }
          }
          break;
        }
        source_->consume(i);
        if (i == size) {
          if (!read_more(error)) return end_or_failure(line_ + 1);
          continue;
        }
        in_document_ = true;
        scan_ = DocumentScan();
        document_line_ = line_ + 1;
        document_offset_ = source_->offset();
        data = source_->data();
        size = source_->size();
      }
      // Never scan past the limit: an unclosed bracket must not make the scan run to the end.
      if (scan_.advance(data, std::min(size, max_bytes_ + 1))) {
        std::string_view text(data, scan_.pos);
        source_->consume(scan_.pos);
        line_ += scan_.newlines;
        in_document_ = false;
        return Frame{FrameKind::kDocument, text, document_line_, document_offset_};
      }
      if (scan_.pos > max_bytes_) {
        Frame frame = oversized(document_line_, document_offset_, data);
        at_line_start_ = data[scan_.pos - 1] == '\n';
        source_->consume(scan_.pos);
        line_ += scan_.newlines;
        in_document_ = false;
        skipping_ = true;
        return frame;
      }
      if (source_->exhausted()) {
        // The input ends inside the document: the parser says how.
        std::string_view text(data, size);
        source_->consume(size);
        line_ += scan_.newlines;
        in_document_ = false;
        return Frame{FrameKind::kDocument, text, document_line_, document_offset_};
      }
      if (!read_more(error) && failed_) return end_or_failure(document_line_);
    }
  }

  Outcome decode(std::string_view text, Arena& arena, Record& record, Status& error) {
    auto parsed = parser_.parse_padded(text, arena);
    if (!parsed) {
      error = parsed.take_status();
      if (error.code() == ErrorCode::kTooLarge) {
        record.raw = text.substr(0, std::min(kMaxErrorRawBytes, max_bytes_));
      }
      return Outcome::kError;
    }
    switch (format_) {
      case Format::kDebezium:
        return debezium_.decode(*parsed, Value(), arena, record, error);
      case Format::kKcat:
        return decode_kcat(*parsed, arena, record, error);
      default:
        record.document = *parsed;
        return Outcome::kRecord;
    }
  }

  Outcome decode_kcat(const Value& envelope, Arena& arena, Record& record, Status& error) {
    if (!envelope.is_object()) {
      error = Status(ErrorCode::kEnvelope, "a kcat -J line must be an object");
      return Outcome::kError;
    }
    if (const Value* topic = envelope.find("topic"); topic != nullptr && topic->is_string()) {
      if (topic_ != topic->as_string()) topic_.assign(topic->as_string());
      record.position.topic = topic_;
    }
    if (const Value* partition = envelope.find("partition");
        partition != nullptr && partition->is_integer()) {
      record.position.partition = static_cast<int32_t>(partition->as_int());
    }
    if (const Value* offset = envelope.find("offset"); offset != nullptr && offset->is_integer()) {
      record.position.offset = offset->as_int();
    }
    if (const Value* ts = envelope.find("ts"); ts != nullptr && ts->is_integer()) {
      record.envelope_time_ms = ts->as_int();
    }
    for (std::string_view field : {"key_error", "payload_error"}) {
      if (const Value* failure = envelope.find(field); failure != nullptr && failure->is_string()) {
        error = Status(ErrorCode::kEnvelope, "kcat could not deserialize the message (" +
                                                 std::string(field) +
                                                 "): " + std::string(failure->as_string()));
        return Outcome::kError;
      }
    }
    const Value* payload = envelope.find("payload");
    if (payload == nullptr) {
      error = Status(ErrorCode::kEnvelope, "kcat envelope without \"payload\"");
      return Outcome::kError;
    }
    Value key;
    if (const Value* key_field = envelope.find("key"); key_field != nullptr) {
      key = key_field->is_string() ? decode_message_key(parser_, key_field->as_string(), arena)
                                   : *key_field;
    }
    if (payload->is_null()) return Outcome::kSkipped;  // a tombstone
    Value message = *payload;
    if (payload->is_string()) {
      record.raw = payload->as_string();
      auto parsed = parser_.parse(payload->as_string(), arena);
      if (!parsed) {
        error = parsed.take_status().with_path("$.payload");
        return Outcome::kError;
      }
      message = *parsed;
    }
    return debezium_.decode_message(message, key, arena, record, error);
  }

  std::unique_ptr<ByteSource> source_;
  std::string path_;
  size_t max_bytes_;
  Format format_;
  Framing framing_;
  bool array_mode_;
  json::Parser parser_;
  DebeziumDecoder debezium_;

  int64_t line_ = 0;  // lines consumed so far
  size_t scanned_ = 0;
  bool skipping_ = false;
  bool at_line_start_ = false;
  bool in_array_ = false;
  bool in_document_ = false;
  bool failed_ = false;
  DocumentScan scan_;
  int64_t document_line_ = 0;
  uint64_t document_offset_ = 0;
  std::string oversized_raw_;
  std::string topic_;
  uint64_t skipped_ = 0;
};

// The first non-blank byte at or after `from`, or `size`.
size_t skip_blank(const char* data, size_t size, size_t from) {
  while (from < size && is_blank(data[from])) ++from;
  return from;
}

// JSON lines when the first document ends on its first line with nothing after it; otherwise
// concatenated documents. A first line that never completes (a broken line) counts as JSON lines,
// so that one bad line cannot swallow the file.
Result<Framing> detect_framing(ByteSource& source, bool& array_mode) {
  array_mode = false;
  while (true) {
    const char* data = source.data();
    size_t size = source.size();
    size_t start = skip_blank(data, size, 0);
    bool complete_view = source.exhausted() || size >= kSniffBytes;
    if (start < size) {
      if (data[start] == '[') {
        array_mode = true;
        return Framing::kConcatenated;
      }
      DocumentScan scan;
      if (scan.advance(data + start, size - start)) {
        if (scan.newlines > 0) return Framing::kConcatenated;
        size_t rest = start + scan.pos;
        while (rest < size && (data[rest] == ' ' || data[rest] == '\t' || data[rest] == '\r')) {
          ++rest;
        }
        if (rest < size) return data[rest] == '\n' ? Framing::kLines : Framing::kConcatenated;
      }
    }
    if (complete_view) return Framing::kLines;
    auto more = source.fill();
    if (!more) return more.take_status();
  }
}

bool is_kcat_envelope(const Value& v) {
  return v.is_object() && v.find("topic") != nullptr && v.find("partition") != nullptr &&
         v.find("offset") != nullptr && (v.find("payload") != nullptr || v.find("key") != nullptr);
}

// The format of the first document that is not a tombstone (null, or a {schema, payload} wrapper
// of null): they come first in some topics.
Format detect_text_format(ByteSource& source, bool array_mode, const ReaderOptions& options) {
  const char* data = source.data();
  size_t size = source.size();
  size_t pos = skip_blank(data, size, 0);
  if (array_mode && pos < size) pos = skip_blank(data, size, pos + 1);
  // Envelopes are recognised by their members: all of them, whatever a caller reads later.
  json::ParseOptions probe = options.parse;
  probe.top_level_members = nullptr;
  json::Parser parser(probe);
  Arena arena;
  for (int documents = 0; documents < 16 && pos < size; ++documents) {
    DocumentScan scan;
    bool complete = scan.advance(data + pos, size - pos);
    if (!complete && !source.exhausted()) return Format::kJson;
    auto parsed = parser.parse(std::string_view(data + pos, scan.pos), arena);
    if (!parsed) return Format::kJson;
    const Value* payload = parsed->is_object() && parsed->size() == 2 && parsed->find("schema")
                               ? parsed->find("payload")
                               : nullptr;
    bool tombstone = parsed->is_null() || (payload != nullptr && payload->is_null());
    if (!tombstone) {
      if (is_kcat_envelope(*parsed)) return Format::kKcat;
      if (DebeziumDecoder::looks_like_event(*parsed)) return Format::kDebezium;
      return Format::kJson;
    }
    pos = skip_blank(data, size, pos + scan.pos);
    if (array_mode && pos < size && data[pos] == ',') pos = skip_blank(data, size, pos + 1);
  }
  return Format::kJson;
}

bool starts_like_json(char c) {
  return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
         c == 'f' || c == 'n';
}

}  // namespace

bool DocumentScan::advance(const char* text, size_t size) {
  size_t i = pos;
  if (i == 0) {
    if (size == 0) return false;
    char first = text[0];
    i = 1;
    if (first == '{' || first == '[') {
      depth = 1;
    } else if (first == '"') {
      in_string = true;
    } else {
      // A bare token (number, literal, or stray bytes): it ends at white space or structure.
      while (i < size && !ends_token(text[i])) ++i;
      pos = i;
      return i < size;
    }
  } else if (depth == 0 && !in_string) {
    while (i < size && !ends_token(text[i])) ++i;
    pos = i;
    return i < size;
  }
  for (; i < size; ++i) {
    char c = text[i];
    if (c == '\n') ++newlines;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) {
          pos = i + 1;
          return true;
        }
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        pos = i + 1;
        return true;
      }
    }
  }
  pos = i;
  return false;
}

Result<std::unique_ptr<RecordReader>> open_text_reader(std::unique_ptr<ByteSource> source,
                                                       const std::string& path,
                                                       const ReaderOptions& options) {
  Format format = options.format;
  bool array_mode = false;
  Framing framing = Framing::kLines;
  if (format != Format::kKcat) {
    auto detected = detect_framing(*source, array_mode);
    if (!detected) return detected.take_status();
    framing = *detected;
  }
  if (format == Format::kAuto) {
    size_t start = skip_blank(source->data(), source->size(), 0);
    if (start < source->size() && !starts_like_json(source->data()[start])) {
      unsigned byte = static_cast<unsigned char>(source->data()[start]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", byte);
      return Status(ErrorCode::kInvalidArgument,
                    "cannot recognise the format of " + path +
                        ": not bson (no valid BSON document at its start) and not json, "
                        "debezium or kcat (a JSON document cannot start with byte " +
                        hex + " at offset " + std::to_string(start) + "); use --format");
    }
    format = detect_text_format(*source, array_mode, options);
  }
  return std::unique_ptr<RecordReader>(
      new TextReader(std::move(source), path, options, format, framing, array_mode));
}

}  // namespace canonry::formats
