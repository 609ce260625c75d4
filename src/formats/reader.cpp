#include "formats/reader.h"

#include <string>
#include <unordered_map>

#include "formats/bson.h"
#include "formats/byte_source.h"
#include "formats/text_reader.h"

namespace canonry::formats {

namespace {

struct Name {
  Format format;
  std::string_view name;
};
constexpr Name kNames[] = {{Format::kAuto, "auto"},
                           {Format::kJson, "json"},
                           {Format::kBson, "bson"},
                           {Format::kDebezium, "debezium"},
                           {Format::kKcat, "kcat"}};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class MemoryRawStore final : public RawDocumentStore {
 public:
  std::optional<std::string> get(std::string_view key_json) override {
    auto it = documents_.find(key_json);
    if (it == documents_.end()) return std::nullopt;
    return it->second;
  }
  void put(std::string_view key_json, std::string_view document_json) override {
    auto it = documents_.find(key_json);
    if (it != documents_.end()) {
      it->second.assign(document_json);
    } else {
      documents_.emplace(std::string(key_json), std::string(document_json));
    }
  }
  void erase(std::string_view key_json) override {
    auto it = documents_.find(key_json);
    if (it != documents_.end()) documents_.erase(it);
  }

 private:
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> documents_;
};

}  // namespace

std::string Position::to_string() const {
  if (!topic.empty()) {
    return std::string(topic) + "/" + std::to_string(partition) + "@" + std::to_string(offset);
  }
  if (line > 0) return std::string(source) + ":" + std::to_string(line);
  return std::string(source) + "@" + std::to_string(offset);
}

Result<Format> parse_format(std::string_view name) {
  for (const Name& n : kNames) {
    if (n.name == name) return n.format;
  }
  return Status(ErrorCode::kInvalidArgument,
                "unknown format \"" + std::string(name) +
                    "\" (expected one of auto, json, bson, debezium, kcat)");
}

std::string_view format_name(Format format) {
  for (const Name& n : kNames) {
    if (n.format == format) return n.name;
  }
  return "auto";
}

std::unique_ptr<RawDocumentStore> make_memory_raw_store() {
  return std::make_unique<MemoryRawStore>();
}

namespace {

Result<std::unique_ptr<RecordReader>> open_source(std::unique_ptr<ByteSource> source,
                                                  const std::string& name,
                                                  const ReaderOptions& options) {
  // Enough for the BSON length prefix and first element type, and for a UTF-8 byte order mark.
  while (source->size() < 5 && !source->exhausted()) {
    auto more = source->fill();
    if (!more) return more.take_status();
  }
  if (options.format == Format::kBson ||
      (options.format == Format::kAuto && looks_like_bson(source->data(), source->size()))) {
    return make_bson_reader(std::move(source), name, options);
  }
  if (source->size() >= 3 && std::string_view(source->data(), 3) == "\xEF\xBB\xBF") {
    source->consume(3);
  }
  return open_text_reader(std::move(source), name, options);
}

}  // namespace

Result<std::unique_ptr<RecordReader>> open_reader(const std::string& path, ReaderOptions options) {
  if (options.read_chunk_bytes == 0) options.read_chunk_bytes = ReaderOptions().read_chunk_bytes;
  auto opened = ByteSource::open(path, options.read_chunk_bytes);
  if (!opened) return opened.take_status();
  return open_source(std::move(opened.value()), path, options);
}

Result<std::unique_ptr<RecordReader>> open_memory_reader(std::string_view bytes,
                                                         const std::string& name,
                                                         ReaderOptions options) {
  if (options.read_chunk_bytes == 0) options.read_chunk_bytes = ReaderOptions().read_chunk_bytes;
  return open_source(ByteSource::from_memory(bytes, options.read_chunk_bytes), name, options);
}

Result<std::unique_ptr<RecordReader>> open_mapped_reader(std::string_view bytes,
                                                         const std::string& name,
                                                         ReaderOptions options) {
  if (options.read_chunk_bytes == 0) options.read_chunk_bytes = ReaderOptions().read_chunk_bytes;
  return open_source(ByteSource::over_memory(bytes, options.read_chunk_bytes), name, options);
}

}  // namespace canonry::formats
