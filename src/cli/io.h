// Buffered output to a file or standard output, for commands that write many lines.
#pragma once

#include <cstdio>
#include <string>

#include "common/status.h"

namespace canonry::cli {

class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile() { close(); }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // "-" or empty: standard output; "stderr": standard error.
  Status open(const std::string& path) {
    path_ = path.empty() ? "-" : path;
    if (path_ == "-") {
      file_ = stdout;
    } else if (path_ == "stderr") {
      file_ = stderr;
    } else {
      file_ = std::fopen(path_.c_str(), "wb");
      if (file_ == nullptr) return Status(ErrorCode::kIo, path_ + ": cannot open for writing");
      owned_ = true;
    }
    return Status::ok();
  }
  bool is_open() const { return file_ != nullptr; }
  // Callers append to buffer() and call maybe_flush() after each record.
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  bool flush() {
    if (file_ == nullptr) return true;
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      failed_ = true;
    }
    buffer_.clear();
    if (std::fflush(file_) != 0) failed_ = true;
    return !failed_;
  }
  bool close() {
    bool ok = flush();
    if (owned_ && file_ != nullptr) ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    owned_ = false;
    return ok;
  }
  const std::string& path() const { return path_; }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  bool failed_ = false;
  std::string path_;
  std::string buffer_;
};

}  // namespace canonry::cli
