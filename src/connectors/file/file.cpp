// The file connector: a source over one file (bounded, or following a growing file) and the
// events and DLQ sinks that append JSON lines to a file, idempotently across restarts through a
// positions sidecar. See README.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "json/parser.h"
#include "json/writer.h"
#include "pipeline/connector.h"

namespace canonry::connectors::file {
namespace {

using pipeline::Batch;
using pipeline::ConnectorSpec;
using pipeline::Entry;
using pipeline::Message;
using pipeline::MessageBatch;
using pipeline::PartitionKey;
using pipeline::PartitionReader;
using pipeline::Sink;
using pipeline::Source;
using pipeline::SourceSpec;

Status io_error(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kIo, path + ": " + what + ": " + std::strerror(errno));
}

// "file:relative/path", "file:/abs/path" or "file:///abs/path".
std::string file_path(const ConnectorSpec& spec) {
  std::string rest = spec.rest;
  if (rest.starts_with("//")) {
    if (!rest.starts_with("///")) {
      throw ConfigError(spec.uri_where + ": uri: file URIs name no host (file:///abs/path or " +
                        "file:relative/path)");
    }
    rest = rest.substr(2);
  }
  if (rest.empty()) throw ConfigError(spec.uri_where + ": uri: the file's path is missing");
  return spec.resolve_path(rest);
}

bool parse_bool(pipeline::ConnectorOptions& options, const std::string& key, bool fallback) {
  auto option = options.take(key);
  if (!option) return fallback;
  if (option->value == "true") return true;
  if (option->value == "false") return false;
  throw ConfigError(option->where + ": " + key + ": expected true or false, got \"" +
                    option->value + "\"");
}

// ---------------------------------------------------------------------------------------------
// Source

enum class Framing { kLines, kKcatLines, kBson };

constexpr size_t kReadChunk = size_t{1} << 20;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

class FileReader final : public PartitionReader {
 public:
  FileReader(std::string path, int fd, Framing framing, bool follow, int64_t position, int64_t line)
      : path_(std::move(path)),
        fd_(fd),
        framing_(framing),
        follow_(follow),
        base_(position),
        line_(line) {}
  ~FileReader() override { ::close(fd_); }

  Status read(MessageBatch& batch, size_t max_messages,
              std::chrono::milliseconds timeout) override {
    batch.messages.clear();
    batch.end = false;
    decoded_.clear();
    // The previous messages are done with: drop their bytes.
    buffer_.erase(0, begin_);
    base_ += static_cast<int64_t>(begin_);
    begin_ = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (batch.messages.size() < std::max<size_t>(max_messages, 1)) {
      if (next_frame(batch)) continue;
      // No complete frame buffered. Read more only while nothing points into the buffer.
      if (!batch.messages.empty()) break;
      auto got = fill();
      if (!got) return got.status();
      if (*got) continue;
      if (!follow_) {
        if (take_last_frame(batch)) continue;
        batch.end = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::ok();
  }

  std::optional<int64_t> lag() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return std::nullopt;
    return std::max<int64_t>(0, st.st_size - (base_ + static_cast<int64_t>(begin_)));
  }

 private:
  // Reads a chunk after the buffered bytes; false at the current end of the file.
  Result<bool> fill() {
    size_t old = buffer_.size();
    buffer_.resize(old + kReadChunk);
    ssize_t n;
    do {
      n = ::pread(fd_, buffer_.data() + old, kReadChunk, base_ + static_cast<int64_t>(old));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      buffer_.resize(old);
      return io_error(path_, "cannot read");
    }
    buffer_.resize(old + static_cast<size_t>(n));
    return n > 0;
  }

  static bool blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
  }

  // Takes the next complete frame from the buffer into the batch; false when none is complete.
  bool next_frame(MessageBatch& batch) {
    while (true) {
      std::string_view rest(buffer_.data() + begin_, buffer_.size() - begin_);
      if (framing_ == Framing::kBson) {
        if (rest.size() < 4) return false;
        uint32_t length;
        std::memcpy(&length, rest.data(), 4);
        // A length below BSON's minimum cannot be framed: the rest of the file becomes one
        // message, which the decoder rejects, and the file ends there.
        if (length < 5) return false;
        if (rest.size() < length) return false;
        add(batch, rest.substr(0, length), length);
        return true;
      }
      if (base_ + static_cast<int64_t>(begin_) == 0 && rest.starts_with(kBom)) {
        begin_ += kBom.size();
        continue;
      }
      const char* newline = static_cast<const char*>(std::memchr(rest.data(), '\n', rest.size()));
      if (newline == nullptr) return false;
      size_t length = static_cast<size_t>(newline - rest.data());
      std::string_view line = rest.substr(0, length);
      ++line_;
      if (blank(line)) {
        begin_ += length + 1;
        continue;
      }
      if (line.ends_with('\r')) line.remove_suffix(1);
      add(batch, line, length + 1);
      return true;
    }
  }

  // At the end of a bounded file: a last line without its newline, or a BSON tail that cannot be
  // framed, is a message of its own.
  bool take_last_frame(MessageBatch& batch) {
    std::string_view rest(buffer_.data() + begin_, buffer_.size() - begin_);
    if (rest.empty()) return false;
    if (framing_ != Framing::kBson) {
      ++line_;
      if (blank(rest)) {
        begin_ += rest.size();
        return false;
      }
      if (rest.ends_with('\r')) rest.remove_suffix(1);
    }
    add(batch, rest, buffer_.size() - begin_);
    return true;
  }

  void add(MessageBatch& batch, std::string_view frame, size_t consumed) {
    Message& message = batch.messages.emplace_back();
    message.offset = base_ + static_cast<int64_t>(begin_);
    message.next_offset = message.offset + static_cast<int64_t>(consumed);
    message.line = framing_ == Framing::kBson ? 0 : line_;
    message.value = frame;
    if (framing_ == Framing::kKcatLines) unwrap_kcat(message, frame);
    begin_ += consumed;
  }

  // A `kcat -C -J` line carries the Kafka message: its key and payload (strings or null) and
  // its timestamp. The message the runtime decodes is that one, as the Kafka source would
  // deliver it. A line that is no envelope stays the value, and the decoder says what is wrong.
  void unwrap_kcat(Message& message, std::string_view line) {
    arena_.reset();
    auto parsed = parser_.parse(line, arena_);
    if (!parsed || !parsed->is_object()) return;
    const json::Value* payload = parsed->find("payload");
    if (payload == nullptr || !(payload->is_string() || payload->is_null())) return;
    if (payload->is_null()) {
      message.value.reset();
    } else {
      message.value = decoded_.emplace_back(payload->as_string());
    }
    const json::Value* key = parsed->find("key");
    if (key != nullptr && key->is_string()) {
      message.key = decoded_.emplace_back(key->as_string());
    }
    const json::Value* ts = parsed->find("ts");
    if (ts != nullptr && ts->is_integer() && !ts->is_big_integer()) {
      message.timestamp_ms = ts->as_int();
    }
  }

  std::string path_;
  int fd_;
  Framing framing_;
  bool follow_;
  std::string buffer_;
  size_t begin_ = 0;                 // consumed bytes at the front of buffer_
  int64_t base_;                     // file offset of buffer_[0]
  int64_t line_;                     // lines consumed so far
  std::deque<std::string> decoded_;  // kcat keys and payloads of the current messages
  json::Parser parser_{[] {
    json::ParseOptions options;
    options.extended_json = false;  // the envelope's strings stay strings
    return options;
  }()};
  Arena arena_;
};

class FileSource final : public Source {
 public:
  explicit FileSource(const SourceSpec& spec)
      : name_(spec.name),
        path_(file_path(spec)),
        follow_(parse_bool(*spec.options, "follow", false)),
        until_end_(spec.until_end) {
    if (spec.format == "bson") {
      framing_ = Framing::kBson;
    } else if (spec.format == "kcat") {
      framing_ = Framing::kKcatLines;
    } else {
      framing_ = Framing::kLines;
    }
  }

  const std::string& name() const override { return name_; }
  // A followed file never ends, except with --until-end, which reads what exists now.
  bool bounded() const override { return !follow_ || until_end_; }

  Status start(pipeline::PartitionListener& listener) override {
    const int32_t partition = 0;
    return listener.on_assigned(std::span<const int32_t>(&partition, 1));
  }

  Status poll(std::chrono::milliseconds timeout) override {
    std::this_thread::sleep_for(timeout);
    return Status::ok();
  }

  Result<std::unique_ptr<PartitionReader>> open_partition(
      int32_t partition, std::optional<int64_t> position) override {
    if (partition != 0) {
      return Status(ErrorCode::kInvalidArgument, "a file has only partition 0");
    }
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(path_, "cannot open");
    int64_t start = position.value_or(0);
    struct stat st;
    if (::fstat(fd, &st) != 0 || st.st_size < start) {
      ::close(fd);
      return Status(ErrorCode::kIo, path_ + ": shorter (" + std::to_string(st.st_size) +
                                        " bytes) than the position the sinks hold (" +
                                        std::to_string(start) +
                                        "): the file was replaced or truncated");
    }
    // Line numbers (for DLQ positions) continue from where the sinks stopped.
    int64_t lines = 0;
    if (framing_ != Framing::kBson && start > 0) {
      std::string chunk(kReadChunk, '\0');
      for (int64_t at = 0; at < start;) {
        ssize_t n = ::pread(fd, chunk.data(),
                            static_cast<size_t>(std::min<int64_t>(kReadChunk, start - at)), at);
        if (n <= 0) break;
        lines += std::count(chunk.data(), chunk.data() + n, '\n');
        at += n;
      }
    }
    return std::unique_ptr<PartitionReader>(
        std::make_unique<FileReader>(path_, fd, framing_, follow_ && !until_end_, start, lines));
  }

  Status commit(int32_t, int64_t) override { return Status::ok(); }
  Status close() override { return Status::ok(); }

 private:
  std::string name_;
  std::string path_;
  bool follow_;
  bool until_end_;
  Framing framing_ = Framing::kLines;
};

// ---------------------------------------------------------------------------------------------
// Sinks: canonical events or dead letters appended to a file, idempotent through a sidecar.
//
// FILE.positions holds {"length": N, "positions": {"source/partition": position, ...}}: the
// file's first N bytes hold exactly the lines of the positions listed. It is replaced (write to a
// temporary file, fsync, rename, fsync the folder) only after the lines it covers were written
// and fsynced. On open, bytes beyond N (written after the last checkpoint, before a crash) are cut
// off; the runtime then replays from the sidecar's positions, which writes them again.

class FileSink final : public Sink {
 public:
  FileSink(const ConnectorSpec& spec, std::string_view role)
      : role_(role), description_(spec.uri), path_(file_path(spec)) {
    sidecar_ = path_ + ".positions";
  }
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  std::string_view role() const override { return role_; }
  const std::string& describe() const override { return description_; }

  Status open(const pipeline::SinkContext&) override {
    std::error_code ignored;
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
    bool have_sidecar = std::filesystem::exists(sidecar_);
    if (have_sidecar) {
      CANONRY_RETURN_IF_ERROR(read_sidecar());
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return io_error(path_, "cannot open for writing");
    struct stat st;
    if (::fstat(fd_, &st) != 0) return io_error(path_, "cannot stat");
    if (!have_sidecar) {
      if (st.st_size > 0) {
        return Status(ErrorCode::kIo,
                      path_ + ": exists and has no " + sidecar_ +
                          ": it was not written by canonry run; move it away or name another file");
      }
      length_ = 0;
      CANONRY_RETURN_IF_ERROR(write_sidecar());
    } else if (st.st_size < length_) {
      return Status(ErrorCode::kIo, path_ + ": shorter (" + std::to_string(st.st_size) +
                                        " bytes) than its sidecar says (" +
                                        std::to_string(length_) + "): was it truncated?");
    } else if (st.st_size > length_ && ::ftruncate(fd_, length_) != 0) {
      return io_error(path_, "cannot cut the lines written after the last checkpoint");
    }
    written_ = length_;
    applied_ = durable_;
    return Status::ok();
  }

  Result<std::optional<int64_t>> applied_position(const PartitionKey& partition) override {
    std::lock_guard lock(mutex_);
    auto it = applied_.find(partition.to_string());
    if (it == applied_.end()) return std::optional<int64_t>();
    return std::optional<int64_t>(it->second);
  }

  Status apply(const Batch& batch) override {
    std::string key = batch.partition.to_string();
    int64_t held = -1;
    {
      std::lock_guard lock(mutex_);
      auto it = applied_.find(key);
      if (it != applied_.end()) held = it->second;
    }
    size_t mark = pending_.size();
    for (const Entry& entry : batch.entries) {
      if (entry.next_offset <= held) continue;
      if (role_ == "dlq") {
        if (entry.kind != Entry::Kind::kDeadLetter) continue;
        pending_ += batch.view(entry.document);
        pending_ += '\n';
      } else if (entry.kind == Entry::Kind::kUpsert) {
        pending_ += batch.view(entry.document);
        pending_ += '\n';
      } else if (entry.kind == Entry::Kind::kDelete) {
        pending_ += "{\"op\":\"delete\",\"key\":";
        pending_ += batch.view(entry.key);
        pending_ += "}\n";
      }
    }
    if (pending_.size() >= kWriteBytes) {
      Status written = write_pending();
      if (!written) {
        pending_.resize(mark);
        return written;
      }
    }
    std::lock_guard lock(mutex_);
    if (batch.next_offset > held) applied_[key] = batch.next_offset;
    return Status::ok();
  }

  Status flush() override {
    CANONRY_RETURN_IF_ERROR(write_pending());
    if (::fdatasync(fd_) != 0) return io_error(path_, "cannot sync");
    std::map<std::string, int64_t> positions;
    {
      std::lock_guard lock(mutex_);
      positions = applied_;
    }
    if (positions == durable_ && written_ == length_) return Status::ok();
    length_ = written_;
    durable_ = std::move(positions);
    return write_sidecar();
  }

  Status close() override {
    Status flushed = fd_ >= 0 ? flush() : Status::ok();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return flushed;
  }

 private:
  static constexpr size_t kWriteBytes = size_t{1} << 20;

  // Appends the pending lines. On a failed or short write the file is cut back to what was
  // there, so that the batch can be applied again without doubling lines.
  Status write_pending() {
    size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done,
                           written_ + static_cast<int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Status error = io_error(path_, "cannot write");
        if (::ftruncate(fd_, written_) != 0) {
          return io_error(path_, "cannot cut back a failed write");
        }
        return error;
      }
      done += static_cast<size_t>(n);
    }
    written_ += static_cast<int64_t>(pending_.size());
    pending_.clear();
    return Status::ok();
  }

  Status read_sidecar() {
    std::string text;
    {
      int fd = ::open(sidecar_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return io_error(sidecar_, "cannot open");
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
      ::close(fd);
    }
    Arena arena;
    auto parsed = json::parse(text, arena);
    const json::Value* length = parsed ? parsed->find("length") : nullptr;
    const json::Value* positions = parsed ? parsed->find("positions") : nullptr;
    if (length == nullptr || !length->is_integer() || positions == nullptr ||
        !positions->is_object()) {
      return Status(ErrorCode::kIo, sidecar_ +
                                        ": not a positions file ({\"length\": N, "
                                        "\"positions\": {...}})");
    }
    length_ = length->as_int();
    durable_.clear();
    for (const json::Member& member : positions->members()) {
      if (!member.value.is_integer()) {
        return Status(ErrorCode::kIo,
                      sidecar_ + ": position of " + std::string(member.key) + " is not an integer");
      }
      durable_[std::string(member.key)] = member.value.as_int();
    }
    return Status::ok();
  }

  Status write_sidecar() {
    std::string text = "{\"length\":" + std::to_string(length_) + ",\"positions\":{";
    bool first = true;
    for (const auto& [key, position] : durable_) {
      if (!first) text += ',';
      first = false;
      json::append_quoted(text, key);
      text += ':' + std::to_string(position);
    }
    text += "}}\n";
    std::string temporary = sidecar_ + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error(temporary, "cannot open for writing");
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return io_error(temporary, "cannot write");
    if (::rename(temporary.c_str(), sidecar_.c_str()) != 0) {
      return io_error(sidecar_, "cannot replace");
    }
    std::string folder = std::filesystem::path(sidecar_).parent_path().string();
    int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return Status::ok();
  }

  std::string role_;
  std::string description_;
  std::string path_;
  std::string sidecar_;
  int fd_ = -1;
  int64_t length_ = 0;                      // bytes the sidecar covers
  int64_t written_ = 0;                     // bytes written (not necessarily synced)
  std::string pending_;                     // lines not yet written
  std::map<std::string, int64_t> durable_;  // positions the sidecar holds
  std::mutex mutex_;                        // applied_ is read by the control thread
  std::map<std::string, int64_t> applied_;
};

pipeline::ConnectorFactories make_file_connector() {
  pipeline::ConnectorFactories factories;
  factories.scheme = "file";
  factories.source = [](const SourceSpec& spec) -> std::unique_ptr<Source> {
    return std::make_unique<FileSource>(spec);
  };
  factories.sink = [](const ConnectorSpec& spec, std::string_view role) -> std::unique_ptr<Sink> {
    return std::make_unique<FileSink>(spec, role);
  };
  return factories;
}

CANONRY_REGISTER_CONNECTOR(make_file_connector);

}  // namespace
}  // namespace canonry::connectors::file
