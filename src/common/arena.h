// A bump allocator for the values of one document or one batch: allocation is a pointer
// increment, and everything is released at once by reset(), which keeps the first block so that
// a steady stream of similar documents allocates nothing from the heap after the first.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace canonry {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 * 1024) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  void* allocate(size_t bytes, size_t align = alignof(std::max_align_t)) {
    size_t offset = (used_ + align - 1) & ~(align - 1);
    if (blocks_.empty() || offset + bytes > current_size_) return allocate_slow(bytes, align);
    used_ = offset + bytes;
    return blocks_[current_].data.get() + offset;
  }

  template <typename T>
  T* allocate_array(size_t count) {
    if (count == 0) return nullptr;
    return static_cast<T*>(allocate(sizeof(T) * count, alignof(T)));
  }

  std::string_view copy_string(std::string_view text) {
    if (text.empty()) return {};
    char* out = static_cast<char*>(allocate(text.size(), 1));
    std::memcpy(out, text.data(), text.size());
    return {out, text.size()};
  }

  // Releases everything; keeps the blocks for reuse.
  void reset() {
    current_ = 0;
    used_ = 0;
    current_size_ = blocks_.empty() ? 0 : blocks_[0].size;
  }

  size_t bytes_reserved() const {
    size_t total = 0;
    for (const auto& b : blocks_) total += b.size;
    return total;
  }

 private:
  struct Block {
    std::unique_ptr<std::byte[]> data;
    size_t size;
  };

  void* allocate_slow(size_t bytes, size_t align) {
    // Try the blocks kept from before a reset, then grow.
    while (current_ + 1 < blocks_.size()) {
      ++current_;
      used_ = 0;
      current_size_ = blocks_[current_].size;
      if (bytes + align <= current_size_) return allocate(bytes, align);
    }
    size_t size = std::max(block_size_, bytes + align);
    blocks_.push_back(Block{std::make_unique<std::byte[]>(size), size});
    current_ = blocks_.size() - 1;
    used_ = 0;
    current_size_ = size;
    return allocate(bytes, align);
  }

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
  size_t current_size_ = 0;
};

}  // namespace canonry
