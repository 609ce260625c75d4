#include "metrics/sketches.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

namespace canonry::metrics {

void put_u64(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, 8);
}

void put_u32(std::string& out, uint32_t v) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, 4);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<uint32_t>(bytes.size()));
  out += bytes;
}

bool get_u64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(8);
  return true;
}

bool get_u32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(4);
  return true;
}

bool get_bytes(std::string_view& in, std::string_view& bytes) {
  uint32_t size = 0;
  if (!get_u32(in, size) || in.size() < size) return false;
  bytes = in.substr(0, size);
  in.remove_prefix(size);
  return true;
}

// ---- DistinctSketch ----------------------------------------------------------------------------

void DistinctSketch::add_hash(uint64_t hash) {
  if (dense_) {
    dense_->add_hash(hash);
    return;
  }
  // Room for a small group's few values at once, instead of growing one by one.
  if (exact_.empty()) exact_.reserve(4);
  auto at = std::lower_bound(exact_.begin(), exact_.end(), hash);
  if (at != exact_.end() && *at == hash) return;
  exact_.insert(at, hash);
  if (exact_.size() > kMaxExact) densify();
}

void DistinctSketch::densify() {
  dense_ = std::make_unique<Dense>();
  for (uint64_t h : exact_) dense_->add_hash(h);
  exact_.clear();
  exact_.shrink_to_fit();
}

void DistinctSketch::merge(const DistinctSketch& other) {
  if (other.dense_) {
    if (!dense_) densify();
    dense_->merge(*other.dense_);
    return;
  }
  if (dense_) {
    for (uint64_t h : other.exact_) dense_->add_hash(h);
    return;
  }
  std::vector<uint64_t> both;
  both.reserve(exact_.size() + other.exact_.size());
  std::set_union(exact_.begin(), exact_.end(), other.exact_.begin(), other.exact_.end(),
                 std::back_inserter(both));
  exact_ = std::move(both);
  if (exact_.size() > kMaxExact) densify();
}

uint64_t DistinctSketch::estimate() const {
  if (dense_) return static_cast<uint64_t>(std::llround(dense_->estimate()));
  return exact_.size();
}

void DistinctSketch::serialize(std::string& out) const {
  if (dense_) {
    out += 'D';
    out += dense_->register_bytes();
    return;
  }
  out += 'E';
  put_u32(out, static_cast<uint32_t>(exact_.size()));
  for (uint64_t h : exact_) put_u64(out, h);
}

bool DistinctSketch::deserialize(std::string_view& in) {
  if (in.empty()) return false;
  char mode = in[0];
  in.remove_prefix(1);
  if (mode == 'D') {
    if (in.size() < Dense::kRegisters) return false;
    dense_ = std::make_unique<Dense>();
    exact_.clear();
    bool ok = dense_->assign_registers(in.substr(0, Dense::kRegisters));
    in.remove_prefix(Dense::kRegisters);
    return ok;
  }
  if (mode != 'E') return false;
  uint32_t n = 0;
  if (!get_u32(in, n) || n > kMaxExact || in.size() < size_t{n} * 8) return false;
  dense_.reset();
  exact_.resize(n);
  for (uint32_t i = 0; i < n; ++i) get_u64(in, exact_[i]);
  return std::is_sorted(exact_.begin(), exact_.end());
}

// ---- QuantileSketch ----------------------------------------------------------------------------

namespace {

constexpr double kGamma =
    (1.0 + QuantileSketch::kRelativeAccuracy) / (1.0 - QuantileSketch::kRelativeAccuracy);
const double kInverseLogGamma = 1.0 / std::log(kGamma);
constexpr double kMinMagnitude = 1e-9;

int32_t bucket_of(double magnitude) {
  return static_cast<int32_t>(std::ceil(std::log(magnitude) * kInverseLogGamma));
}

double representative(int32_t index) {
  return 2.0 * std::pow(kGamma, index) / (kGamma + 1.0);
}

}  // namespace

namespace {

constexpr uint64_t kCountMask = 0xffffffffu;

uint64_t sparse_cell(int32_t index, uint64_t count) {
  return (uint64_t{static_cast<uint32_t>(index) ^ 0x80000000u} << 32) | count;
}

int32_t sparse_index(uint64_t cell) {
  return static_cast<int32_t>(static_cast<uint32_t>(cell >> 32) ^ 0x80000000u);
}

}  // namespace

template <typename Visit>
void QuantileSketch::Buckets::for_each(Visit&& visit) const {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (!dense) {
      if (visit(sparse_index(cells[i]), cells[i] & kCountMask)) return;
    } else if (cells[i] != 0) {
      if (visit(offset + static_cast<int32_t>(i), cells[i])) return;
    }
  }
}

template <typename Visit>
void QuantileSketch::Buckets::for_each_descending(Visit&& visit) const {
  for (size_t i = cells.size(); i-- > 0;) {
    if (!dense) {
      if (visit(sparse_index(cells[i]), cells[i] & kCountMask)) return;
    } else if (cells[i] != 0) {
      if (visit(offset + static_cast<int32_t>(i), cells[i])) return;
    }
  }
}

int32_t QuantileSketch::Buckets::last_index() const {
  return dense ? offset + static_cast<int32_t>(cells.size()) - 1 : sparse_index(cells.back());
}

void QuantileSketch::Buckets::densify() {
  std::vector<uint64_t> sparse;
  sparse.swap(cells);
  dense = true;
  offset = sparse_index(sparse.front());
  cells.assign(static_cast<size_t>(sparse_index(sparse.back()) - offset) + 1, 0);
  for (uint64_t cell : sparse)
    cells[static_cast<size_t>(sparse_index(cell) - offset)] = cell & kCountMask;
}

void QuantileSketch::Buckets::add(int32_t index, uint64_t n) {
  if (!dense) {
    const uint64_t key = sparse_cell(index, 0);
    // Room for a small group's few buckets at once, instead of growing one by one.
    if (cells.empty()) cells.reserve(4);
    auto at = std::lower_bound(cells.begin(), cells.end(), key);
    if (at != cells.end() && (*at >> 32) == (key >> 32)) {
      if ((*at & kCountMask) + n <= kCountMask) {
        *at += n;
        return;
      }
    } else if (cells.size() < kMaxSparse && n <= kCountMask) {
      cells.insert(at, key | n);
      return;
    }
    if (!cells.empty()) densify();
  }
  if (cells.empty()) {
    dense = true;
    offset = index;
    cells.push_back(n);
    return;
  }
  if (index < offset) {
    cells.insert(cells.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (index >= offset + static_cast<int32_t>(cells.size())) {
    cells.resize(static_cast<size_t>(index - offset) + 1, 0);
  }
  cells[static_cast<size_t>(index - offset)] += n;
}

void QuantileSketch::add(double value) {
  ++count_;
  double magnitude = std::fabs(value);
  if (!(magnitude >= kMinMagnitude)) {
    ++zero_;
  } else if (value > 0) {
    positive_.add(bucket_of(magnitude), 1);
  } else {
    negative_.add(bucket_of(magnitude), 1);
  }
}

void QuantileSketch::merge(const QuantileSketch& other) {
  other.positive_.for_each([&](int32_t index, uint64_t n) {
    positive_.add(index, n);
    return false;
  });
  other.negative_.for_each([&](int32_t index, uint64_t n) {
    negative_.add(index, n);
    return false;
  });
  zero_ += other.zero_;
  count_ += other.count_;
}

double QuantileSketch::quantile(double q) const {
  // Nearest rank (1-based ceil(q n), as SQL's quantile_disc), here 0-based. The tolerance keeps
  // q n that should be whole (0.95 * 100) from rounding up past it.
  double scaled = q * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::max(1.0, std::ceil(scaled - 1e-9 * scaled))) - 1;
  rank = std::min(rank, count_ - 1);
  uint64_t seen = 0;
  // Ascending values: negatives from the largest magnitude down, zeros, then positives up.
  std::optional<double> found;
  negative_.for_each_descending([&](int32_t index, uint64_t n) {
    seen += n;
    if (seen > rank) found = -representative(index);
    return found.has_value();
  });
  if (found) return *found;
  seen += zero_;
  if (seen > rank) return 0.0;
  if (positive_.empty()) return 0.0;
  // Past the last bucket only when the stored count exceeds the buckets': the largest then.
  int32_t at = positive_.last_index();
  positive_.for_each([&](int32_t index, uint64_t n) {
    seen += n;
    if (seen > rank) at = index;
    return seen > rank;
  });
  return representative(at);
}

// Non-empty buckets only, each as (index - previous index, count) in LEB128 varints: a group's
// values usually fill a few dozen of the hundreds of buckets between its smallest and largest.
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    v |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void QuantileSketch::serialize(std::string& out) const {
  put_varint(out, count_);
  put_varint(out, zero_);
  for (const Buckets* b : {&positive_, &negative_}) {
    uint64_t used = 0;
    b->for_each([&](int32_t, uint64_t) {
      ++used;
      return false;
    });
    put_varint(out, used);
    int64_t previous = 0;
    b->for_each([&](int32_t at, uint64_t n) {
      int64_t index = at;
      // Zigzag: the first index may be negative (values below 1).
      int64_t delta = index - previous;
      put_varint(out, (static_cast<uint64_t>(delta) << 1) ^ static_cast<uint64_t>(delta >> 63));
      put_varint(out, n);
      previous = index;
      return false;
    });
  }
}

bool QuantileSketch::deserialize(std::string_view& in) {
  *this = QuantileSketch();
  uint64_t count = 0, zero = 0;
  if (!get_varint(in, count) || !get_varint(in, zero)) return false;
  for (Buckets* b : {&positive_, &negative_}) {
    uint64_t used = 0;
    if (!get_varint(in, used) || used > in.size()) return false;
    int64_t previous = 0;
    for (uint64_t i = 0; i < used; ++i) {
      uint64_t zigzag = 0, n = 0;
      if (!get_varint(in, zigzag) || !get_varint(in, n)) return false;
      int64_t delta = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
      int64_t index = previous + delta;
      if (index < INT32_MIN / 2 || index > INT32_MAX / 2 || n == 0) return false;
      b->add(static_cast<int32_t>(index), n);
      previous = index;
    }
  }
  count_ = count;
  zero_ = zero;
  return true;
}

}  // namespace canonry::metrics
