#include "metrics/sketches.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

void QuantileSketch::Buckets::add(int32_t index, uint64_t n) {
  if (counts.empty()) {
    offset = index;
    counts.push_back(n);
    return;
  }
  if (index < offset) {
    counts.insert(counts.begin(), static_cast<size_t>(offset - index), 0);
    offset = index;
  } else if (index >= offset + static_cast<int32_t>(counts.size())) {
    counts.resize(static_cast<size_t>(index - offset) + 1, 0);
  }
  counts[static_cast<size_t>(index - offset)] += n;
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
  for (size_t i = 0; i < other.positive_.counts.size(); ++i) {
    if (other.positive_.counts[i] != 0) {
      positive_.add(other.positive_.offset + static_cast<int32_t>(i), other.positive_.counts[i]);
    }
  }
  for (size_t i = 0; i < other.negative_.counts.size(); ++i) {
    if (other.negative_.counts[i] != 0) {
      negative_.add(other.negative_.offset + static_cast<int32_t>(i), other.negative_.counts[i]);
    }
  }
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
  for (size_t i = negative_.counts.size(); i-- > 0;) {
    seen += negative_.counts[i];
    if (seen > rank) return -representative(negative_.offset + static_cast<int32_t>(i));
  }
  seen += zero_;
  if (seen > rank) return 0.0;
  for (size_t i = 0; i < positive_.counts.size(); ++i) {
    seen += positive_.counts[i];
    if (seen > rank) return representative(positive_.offset + static_cast<int32_t>(i));
  }
  return positive_.counts.empty()
             ? 0.0
             : representative(positive_.offset + static_cast<int32_t>(positive_.counts.size()) - 1);
}

void QuantileSketch::serialize(std::string& out) const {
  put_u64(out, count_);
  put_u64(out, zero_);
  for (const Buckets* b : {&positive_, &negative_}) {
    put_u32(out, static_cast<uint32_t>(b->offset));
    put_u32(out, static_cast<uint32_t>(b->counts.size()));
    for (uint64_t c : b->counts) put_u64(out, c);
  }
}

bool QuantileSketch::deserialize(std::string_view& in) {
  if (!get_u64(in, count_) || !get_u64(in, zero_)) return false;
  for (Buckets* b : {&positive_, &negative_}) {
    uint32_t offset = 0, n = 0;
    if (!get_u32(in, offset) || !get_u32(in, n) || in.size() < size_t{n} * 8) return false;
    b->offset = static_cast<int32_t>(offset);
    b->counts.resize(n);
    for (uint32_t i = 0; i < n; ++i) get_u64(in, b->counts[i]);
  }
  return true;
}

}  // namespace canonry::metrics
