#include "formats/bson.h"

#include <bson/bson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "common/decimal.h"

namespace canonry::formats {

namespace {

using json::Member;
using json::Value;

// The largest document MongoDB stores is 16 MiB; mongodump adds nothing to it. Anything claiming
// more at the start of a file is not a BSON length prefix.
constexpr uint32_t kMaxPlausibleBsonBytes = 16 * 1024 * 1024 + 16 * 1024;

uint32_t read_length(const char* p) {
  uint32_t value;
  std::memcpy(&value, p, 4);
  return BSON_UINT32_FROM_LE(value);
}

bool valid_element_type(uint8_t type) {
  return (type >= BSON_TYPE_DOUBLE && type <= BSON_TYPE_DECIMAL128) || type == BSON_TYPE_MAXKEY ||
         type == BSON_TYPE_MINKEY;
}

bool plain_exponent(std::string_view text) {
  size_t e = text.find('E');
  if (e == std::string_view::npos) return true;
  int exponent = 0;
  std::string_view digits = text.substr(e + 1);
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
  return ec == std::errc() && exponent >= -64 && exponent <= 64;
}

struct Decoder {
  Arena& arena;
  size_t max_depth;
  const uint8_t* root;
  Status error;
  // Shared stacks for containers still open, as the JSON parser does: one arena copy per
  // container when it closes.
  std::vector<Value> items;
  std::vector<Member> members;

  bool fail(ErrorCode code, std::string message) {
    error = Status(code, std::move(message));
    return false;
  }

  size_t offset_of(const bson_iter_t* it) const {
    return static_cast<size_t>(it->raw - root) + it->off;
  }

  std::string_view copy_text(const char* text, uint32_t length, const bson_iter_t* it) {
    if (!bson_utf8_validate(text, length, true)) {
      fail(ErrorCode::kJsonUtf8,
           "invalid UTF-8 in the string at byte " + std::to_string(offset_of(it)));
      return {};
    }
    return arena.copy_string(std::string_view(text, length));
  }

  Value number(double d) {
    if (!std::isfinite(d)) return Value::number(d);
    // The shortest text that reads back as `d`, with a fraction so that it stays a number (not an
    // integer) when written out and read again.
    char buffer[40];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer - 2, d);
    std::string_view text(buffer, static_cast<size_t>(end - buffer));
    if (text.find_first_of(".e") == std::string_view::npos) {
      *end++ = '.';
      *end++ = '0';
    }
    return Value::number(
        d, arena.copy_string(std::string_view(buffer, static_cast<size_t>(end - buffer))));
  }

  bool element(const bson_iter_t* it, size_t depth, Value& out) {
    uint32_t length = 0;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_DOUBLE:
        out = number(bson_iter_double(it));
        return true;
      case BSON_TYPE_UTF8: {
        const char* text = bson_iter_utf8(it, &length);
        std::string_view copy = copy_text(text, length, it);
        out = Value::string(copy);
        return error.is_ok();
      }
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
        bson_iter_t child;
        if (!bson_iter_recurse(it, &child)) {
          return fail(ErrorCode::kBson,
                      "invalid embedded document at byte " + std::to_string(offset_of(it)));
        }
        return container(&child, depth + 1, bson_iter_type(it) == BSON_TYPE_ARRAY, out);
      }
      case BSON_TYPE_BINARY: {
        bson_subtype_t subtype;
        const uint8_t* bytes = nullptr;
        bson_iter_binary(it, &subtype, &length, &bytes);
        out = Value::binary(
            arena.copy_string(std::string_view(reinterpret_cast<const char*>(bytes), length)),
            static_cast<uint8_t>(subtype));
        return true;
      }
      case BSON_TYPE_UNDEFINED:
      case BSON_TYPE_NULL:
        out = Value::null();
        return true;
      case BSON_TYPE_OID:
        out = object_id(bson_iter_oid(it));
        return true;
      case BSON_TYPE_BOOL:
        out = Value::boolean(bson_iter_bool(it));
        return true;
      case BSON_TYPE_DATE_TIME:
        out = Value::date(bson_iter_date_time(it));
        return true;
      case BSON_TYPE_REGEX: {
        const char* options = nullptr;
        const char* pattern = bson_iter_regex(it, &options);
        std::string both(pattern);
        both += '\0';
        both += options;
        if (!bson_utf8_validate(both.data(), both.size(), true)) {
          return fail(ErrorCode::kJsonUtf8,
                      "invalid UTF-8 in the regex at byte " + std::to_string(offset_of(it)));
        }
        out = Value::regex(arena.copy_string(both));
        return true;
      }
      case BSON_TYPE_DBPOINTER: {
        const char* collection = nullptr;
        const bson_oid_t* oid = nullptr;
        bson_iter_dbpointer(it, &length, &collection, &oid);
        std::string_view name = copy_text(collection, length, it);
        if (!error.is_ok()) return false;
        // The shape of a DBRef, which replaced it.
        Member* fields = arena.allocate_array<Member>(2);
        new (&fields[0]) Member{"$ref", Value::string(name)};
        new (&fields[1]) Member{"$id", object_id(oid)};
        out = Value::object(fields, 2);
        return true;
      }
      case BSON_TYPE_CODE: {
        const char* code = bson_iter_code(it, &length);
        out = Value::string(copy_text(code, length, it));
        return error.is_ok();
      }
      case BSON_TYPE_SYMBOL: {
        const char* symbol = bson_iter_symbol(it, &length);
        out = Value::string(copy_text(symbol, length, it));
        return error.is_ok();
      }
      case BSON_TYPE_CODEWSCOPE: {
        uint32_t scope_length = 0;
        const uint8_t* scope = nullptr;
        const char* code = bson_iter_codewscope(it, &length, &scope_length, &scope);
        out = Value::string(copy_text(code, length, it));
        return error.is_ok();
      }
      case BSON_TYPE_INT32:
        out = Value::integer(bson_iter_int32(it));
        return true;
      case BSON_TYPE_TIMESTAMP: {
        uint32_t seconds = 0, increment = 0;
        bson_iter_timestamp(it, &seconds, &increment);
        out = Value::timestamp(seconds, increment);
        return true;
      }
      case BSON_TYPE_INT64:
        out = Value::integer(bson_iter_int64(it));
        return true;
      case BSON_TYPE_DECIMAL128: {
        bson_decimal128_t decimal;
        bson_iter_decimal128(it, &decimal);
        char text[BSON_DECIMAL128_STRING];
        bson_decimal128_to_string(&decimal, text);
        // Plain notation, as extended JSON's $numberDecimal is read; NaN and infinities as named.
        // Exponents far from zero keep their scientific text: "1E+6144" written plainly would
        // turn 16 bytes of BSON into 6 KiB.
        if (auto exact = plain_exponent(text) ? Decimal::parse(text) : std::nullopt) {
          out = Value::decimal(arena.copy_string(exact->to_string()));
        } else {
          out = Value::decimal(arena.copy_string(text));
        }
        return true;
      }
      case BSON_TYPE_MAXKEY:
        out = Value::max_key();
        return true;
      case BSON_TYPE_MINKEY:
        out = Value::min_key();
        return true;
      default:
        return fail(ErrorCode::kBson,
                    "unknown element type at byte " + std::to_string(offset_of(it)));
    }
  }

  Value object_id(const bson_oid_t* oid) {
    uint8_t* bytes = arena.allocate_array<uint8_t>(12);
    std::memcpy(bytes, oid->bytes, 12);
    return Value::object_id(bytes);
  }

  bool container(bson_iter_t* it, size_t depth, bool array, Value& out) {
    if (depth >= max_depth) {
      return fail(ErrorCode::kJsonDepth, "nesting deeper than " + std::to_string(max_depth) +
                                             " levels at byte " + std::to_string(offset_of(it)));
    }
    size_t base = array ? items.size() : members.size();
    while (bson_iter_next(it)) {
      Value value;
      if (array) {
        if (!element(it, depth, value)) return false;
        items.push_back(value);
        continue;
      }
      uint32_t key_length = bson_iter_key_len(it);
      const char* key = bson_iter_key(it);
      if (!bson_utf8_validate(key, key_length, false)) {
        return fail(ErrorCode::kJsonUtf8,
                    "invalid UTF-8 in a key at byte " + std::to_string(offset_of(it)));
      }
      std::string_view key_copy = arena.copy_string(std::string_view(key, key_length));
      if (!element(it, depth, value)) return false;
      members.push_back(Member{key_copy, value});
    }
    // bson_iter_next stops both at the end and at corruption; only corruption sets err_off.
    if (it->err_off != 0) {
      return fail(ErrorCode::kBson,
                  "corrupt BSON element at byte " +
                      std::to_string(static_cast<size_t>(it->raw - root) + it->err_off));
    }
    if (array) {
      size_t count = items.size() - base;
      Value* stored = arena.allocate_array<Value>(count);
      if (count) std::memcpy(static_cast<void*>(stored), &items[base], count * sizeof(Value));
      items.resize(base);
      out = Value::array(stored, static_cast<uint32_t>(count));
    } else {
      size_t count = members.size() - base;
      Member* stored = arena.allocate_array<Member>(count);
      if (count) std::memcpy(static_cast<void*>(stored), &members[base], count * sizeof(Member));
      members.resize(base);
      out = Value::object(stored, static_cast<uint32_t>(count));
    }
    return true;
  }
};

class BsonReader final : public RecordReader {
 public:
  BsonReader(std::unique_ptr<ByteSource> source, const std::string& path,
             const ReaderOptions& options)
      : source_(std::move(source)),
        path_(path),
        max_bytes_(options.parse.max_document_bytes),
        max_depth_(options.parse.max_depth) {}

  Next next(Arena& arena, Record& record, Status& error) override {
    if (done_) return Next::kEnd;
    record = Record();
    record.position.source = path_;
    record.raw_is_binary = true;
    if (!fill_to(4, error)) return failure(record);
    const char* data = source_->data();
    size_t size = source_->size();
    record.position.offset = static_cast<int64_t>(source_->offset());
    if (size == 0) return Next::kEnd;
    if (size < 4) {
      return rest_unusable(record, error, "the file ends inside a document's length prefix");
    }
    uint32_t length = read_length(data);
    if (length < 5 || length > static_cast<uint32_t>(INT32_MAX)) {
      return rest_unusable(record, error,
                           "unusable document length " + std::to_string(length) +
                               ": the rest of the file cannot be split into documents");
    }
    if (length > max_bytes_) return skip_oversized(record, error, length);
    if (!fill_to(length, error)) return failure(record);
    data = source_->data();
    size = source_->size();
    if (size < length) {
      return rest_unusable(record, error,
                           "document of " + std::to_string(length) +
                               " bytes is cut short: the file ends after " + std::to_string(size) +
                               " of them");
    }
    source_->consume(length);
    record.raw = std::string_view(data, length);
    auto value = bson_to_value(reinterpret_cast<const uint8_t*>(data), length, arena, max_depth_);
    if (!value) {
      error = value.take_status();
      return Next::kError;
    }
    record.document = *value;
    return Next::kRecord;
  }

  Format format() const override { return Format::kBson; }
  uint64_t skipped() const override { return 0; }
  uint64_t bytes_read() const override { return source_->offset(); }

 private:
  // Buffers at least `bytes` unless the input ends first; false on a read error.
  bool fill_to(size_t bytes, Status& error) {
    while (source_->size() < bytes && !source_->exhausted()) {
      auto more = source_->fill(bytes);
      if (!more) {
        error = more.take_status();
        return false;
      }
    }
    return true;
  }

  Next failure(Record& record) {
    done_ = true;
    record.raw_is_binary = false;
    return Next::kError;
  }

  Next rest_unusable(Record& record, Status& error, std::string message) {
    size_t size = source_->size();
    record.raw = std::string_view(source_->data(), std::min(size, kMaxErrorRawBytes));
    source_->consume(size);
    error = Status(ErrorCode::kBson, std::move(message));
    done_ = true;
    return Next::kError;
  }

  Next skip_oversized(Record& record, Status& error, uint32_t length) {
    oversized_raw_.assign(source_->data(),
                          std::min({source_->size(), kMaxErrorRawBytes, max_bytes_}));
    record.raw = oversized_raw_;
    error = Status(ErrorCode::kTooLarge, "document of " + std::to_string(length) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(max_bytes_) + "; skipped");
    size_t remaining = length;
    while (remaining > 0) {
      size_t take = std::min(remaining, source_->size());
      source_->consume(take);
      remaining -= take;
      if (remaining == 0) break;
      auto more = source_->fill();
      if (!more || !*more) {
        done_ = true;
        break;
      }
    }
    return Next::kError;
  }

  std::unique_ptr<ByteSource> source_;
  std::string path_;
  size_t max_bytes_;
  size_t max_depth_;
  std::string oversized_raw_;
  bool done_ = false;
};

}  // namespace

Result<Value> bson_to_value(const uint8_t* data, size_t size, Arena& arena, size_t max_depth) {
  bson_t document;
  if (size < 5 || size > static_cast<size_t>(INT32_MAX) ||
      !bson_init_static(&document, data, size)) {
    return Status(ErrorCode::kBson,
                  "not a BSON document: its length prefix or terminator is wrong");
  }
  bson_iter_t it;
  if (!bson_iter_init(&it, &document)) {
    return Status(ErrorCode::kBson, "not a BSON document: cannot iterate it");
  }
  Decoder decoder{arena, max_depth, data, Status(), {}, {}};
  Value root;
  if (!decoder.container(&it, 0, false, root)) return decoder.error;
  return root;
}

bool looks_like_bson(const char* data, size_t size) {
  if (size < 5) return false;
  uint32_t length = read_length(data);
  if (length < 5 || length > kMaxPlausibleBsonBytes) return false;
  if (length == 5) return data[4] == '\0';
  if (!valid_element_type(static_cast<uint8_t>(data[4]))) return false;
  // The first key must end inside the document (unless the document is not all there yet).
  size_t limit = std::min<size_t>(size, length);
  if (std::memchr(data + 5, '\0', limit - 5) == nullptr) return size < length;
  if (length <= size && data[length - 1] != '\0') return false;
  return true;
}

std::unique_ptr<RecordReader> make_bson_reader(std::unique_ptr<ByteSource> source,
                                               const std::string& path,
                                               const ReaderOptions& options) {
  return std::make_unique<BsonReader>(std::move(source), path, options);
}

}  // namespace canonry::formats
