#include "formats/byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "json/parser.h"

namespace canonry::formats {

ByteSource::ByteSource(int fd, bool owns_fd, size_t capacity) : fd_(fd), owns_fd_(owns_fd) {
  reserve(std::max<size_t>(capacity, 16));
}

ByteSource::~ByteSource() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<ByteSource>> ByteSource::open(const std::string& path, size_t chunk_bytes) {
  if (path == "-") {
    auto source = std::unique_ptr<ByteSource>(new ByteSource(0, false, chunk_bytes));
    source->path_ = path;
    return source;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status(ErrorCode::kIo, "cannot open " + path + ": " + std::strerror(errno));
  }
  // Decoders read front to back once: let the kernel read ahead aggressively.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  auto source = std::unique_ptr<ByteSource>(new ByteSource(fd, true, chunk_bytes));
  source->path_ = path;
  return source;
}

std::unique_ptr<ByteSource> ByteSource::from_memory(std::string_view bytes, size_t chunk_bytes) {
  auto source = std::unique_ptr<ByteSource>(new ByteSource(-1, false, chunk_bytes));
  source->copied_.assign(bytes);
  source->memory_ = source->copied_;
  source->path_ = "memory";
  return source;
}

std::unique_ptr<ByteSource> ByteSource::over_memory(std::string_view bytes, size_t chunk_bytes) {
  auto source = std::unique_ptr<ByteSource>(new ByteSource(-1, false, chunk_bytes));
  source->memory_ = bytes;
  source->path_ = "memory";
  // A line ending at a newline at most size - kPadding - 1 has kPadding readable bytes after it,
  // the newline first, as Parser::parse_padded needs.
  if (bytes.size() > json::kPadding) {
    if (const void* nl = memrchr(bytes.data(), '\n', bytes.size() - json::kPadding)) {
      size_t end = static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) + 1;
      source->in_place_ = true;
      source->base_ = bytes.data();
      source->begin_ = 0;
      source->end_ = end;
      source->memory_read_ = end;
    }
  }
  return source;
}

void ByteSource::reserve(size_t capacity) {
  auto grown = std::make_unique<char[]>(capacity + json::kPadding);
  size_t kept = end_ - begin_;
  if (kept) std::memcpy(grown.get(), base_ + begin_, kept);
  std::memset(grown.get() + kept, 0, capacity + json::kPadding - kept);
  base_offset_ += begin_;
  begin_ = 0;
  end_ = kept;
  buffer_ = std::move(grown);
  base_ = buffer_.get();
  capacity_ = capacity;
}

Result<bool> ByteSource::fill(size_t min_capacity) {
  if (eof_) return false;
  if (in_place_) {
    // The bytes handed out in place are done: what is left of them, and the rest, go through
    // the buffer with its padding.
    in_place_ = false;
    reserve(std::max({capacity_, min_capacity, end_ - begin_ + 1}));
  }
  size_t kept = end_ - begin_;
  if (kept == capacity_ || min_capacity > capacity_) {
    reserve(std::max({capacity_ * 2, min_capacity, kept + 1}));
  } else if (end_ == capacity_ || capacity_ - begin_ < min_capacity) {
    // Only the tail of an unfinished document moves; everything before it was consumed.
    if (kept) std::memmove(buffer_.get(), buffer_.get() + begin_, kept);
    base_offset_ += begin_;
    begin_ = 0;
    end_ = kept;
  }
  auto read = read_some();
  // Whatever follows the data must not look like JSON: simdjson 3.0's On-Demand walks past the
  // end of an unclosed array into a '[' that follows it. Bytes left from before a move could.
  std::memset(buffer_.get() + end_, 0, json::kPadding);
  return read;
}

Result<bool> ByteSource::read_some() {
  if (fd_ < 0) {
    size_t n = std::min(capacity_ - end_, memory_.size() - memory_read_);
    std::memcpy(buffer_.get() + end_, memory_.data() + memory_read_, n);
    memory_read_ += n;
    end_ += n;
    eof_ = n == 0;
    return n > 0;
  }
  while (true) {
    ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    return Status(ErrorCode::kIo, "cannot read " + path_ + ": " + std::strerror(errno));
  }
}

}  // namespace canonry::formats
