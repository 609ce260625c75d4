// Reading an input in big chunks into one buffer that the decoders parse in place: bytes are
// copied only when a document straddles the end of the buffer (the unconsumed tail moves to the
// front before the next read), and json::kPadding zero bytes always follow the data so that
// documents can go to json::Parser::parse_padded without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace canonry::formats {

// The most of an oversized or unsplittable input kept as an error record's `raw`: enough to
// recognise it in a DLQ without holding it whole.
inline constexpr size_t kMaxErrorRawBytes = 64 * 1024;

class ByteSource {
 public:
  // A file path, or "-" for standard input.
  static Result<std::unique_ptr<ByteSource>> open(const std::string& path, size_t chunk_bytes);
  // Reads from a copy of `bytes`, in chunks as from a file.
  static std::unique_ptr<ByteSource> from_memory(std::string_view bytes, size_t chunk_bytes);
  // The same without copies, for a mapped file: `bytes` must outlive the source. Its lines are
  // handed out where they lie, up to the last one followed by at least json::kPadding bytes
  // (the input's next lines); only the bytes after it go through the buffer.
  static std::unique_ptr<ByteSource> over_memory(std::string_view bytes, size_t chunk_bytes);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // The buffered, not yet consumed bytes.
  const char* data() const { return base_ + begin_; }
  size_t size() const { return end_ - begin_; }
  // True once the input has no more bytes to read (the buffered ones may remain).
  bool exhausted() const { return eof_; }
  void consume(size_t n) { begin_ += n; }
  // Offset in the input of data()[0].
  uint64_t offset() const { return base_offset_ + begin_; }

  // Reads more bytes after the buffered ones, moving those to the front and growing the buffer
  // when it is full (up to at least `min_capacity`). Returns false at the end of the input, an
  // error when reading failed. data() may change.
  Result<bool> fill(size_t min_capacity = 0);

 private:
  ByteSource(int fd, bool owns_fd, size_t capacity);
  void reserve(size_t capacity);
  Result<bool> read_some();

  int fd_ = -1;  // -1: reading from memory_
  bool owns_fd_ = false;
  std::string copied_;       // from_memory's copy
  std::string_view memory_;  // copied_, or over_memory's bytes
  size_t memory_read_ = 0;
  std::string path_;
  std::unique_ptr<char[]> buffer_;
  // buffer_, or memory_ while over_memory hands out its bytes in place.
  const char* base_ = nullptr;
  bool in_place_ = false;
  size_t capacity_ = 0;  // usable bytes; kPadding more are allocated after them
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t base_offset_ = 0;  // input offset of base_[0]
  bool eof_ = false;
};

}  // namespace canonry::formats
