// The mergeable sketches behind count_distinct and quantile. Both merge exactly: the sketch of
// a ++ b equals merge(sketch(a), sketch(b)) whatever the split, which is what lets partitions,
// threads and stores each keep partial aggregates that are combined when read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/hyperloglog.h"

namespace canonry::metrics {

// Little-endian fixed-width encoding of partial aggregates (what stores keep).
void put_u64(std::string& out, uint64_t v);
void put_u32(std::string& out, uint32_t v);
void put_bytes(std::string& out, std::string_view bytes);  // u32 length, then the bytes
bool get_u64(std::string_view& in, uint64_t& v);
bool get_u32(std::string_view& in, uint32_t& v);
bool get_bytes(std::string_view& in, std::string_view& bytes);

// count_distinct: the exact set of 64-bit value hashes while it is small (so small counts are
// exact), then a HyperLogLog with 2^14 registers (16 KiB, standard error 0.81 %). The state is a
// function of the set of hashes added, never of their order or of how they were split.
class DistinctSketch {
 public:
  using Dense = BasicHyperLogLog<14>;
  // Beyond this many distinct hashes the set (8 bytes each) turns into registers.
  static constexpr size_t kMaxExact = 1024;

  void add_hash(uint64_t hash);
  void merge(const DistinctSketch& other);
  uint64_t estimate() const;
  void serialize(std::string& out) const;
  bool deserialize(std::string_view& in);

 private:
  void densify();
  std::vector<uint64_t> exact_;  // sorted, unique
  std::unique_ptr<Dense> dense_;
};

// quantile: DDSketch-style logarithmic buckets (Masson, Rim and Lee, "DDSketch: a fast and
// fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019). A value x > 0 falls
// in bucket i = ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a); every value in a bucket is
// within relative error a of the bucket's representative 2 gamma^i / (gamma + 1). Negative values
// use a mirrored set of buckets, values of magnitude below 1e-9 a zero bucket. With a = 1 % the
// quantile returned is within 1 % of an element whose rank is the requested one.
class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;

  void add(double value);
  void merge(const QuantileSketch& other);
  uint64_t count() const { return count_; }
  // The q-quantile (0 ≤ q ≤ 1) of what was added: the element of nearest rank ceil(q n) (the
  // smallest for q = 0), within the relative accuracy. Only for count() > 0.
  double quantile(double q) const;
  void serialize(std::string& out) const;
  bool deserialize(std::string_view& in);

 private:
  // The non-empty buckets of one sign. Most groups of a metric see a few values spread over a
  // few hundred buckets, so the buckets start sparse: `cells` holds (index, count) pairs packed
  // as (index + 2^31) << 32 | count, sorted by index, while there are at most kMaxSparse of them
  // and each count fits 32 bits. Beyond, they turn dense: `cells` holds the counts of buckets
  // [offset, offset + cells.size()). Either form holds the same buckets and counts, so
  // quantiles, merges and the serialised bytes do not depend on it.
  struct Buckets {
    static constexpr size_t kMaxSparse = 32;
    bool dense = false;
    int32_t offset = 0;
    std::vector<uint64_t> cells;
    void add(int32_t index, uint64_t n);
    bool empty() const { return cells.empty(); }
    // Calls visit(index, count) for the non-empty buckets by ascending (descending) index until
    // it returns true.
    template <typename Visit>
    void for_each(Visit&& visit) const;
    template <typename Visit>
    void for_each_descending(Visit&& visit) const;
    // The largest non-empty index (only when !empty()).
    int32_t last_index() const;

   private:
    void densify();
  };
  Buckets positive_;
  Buckets negative_;  // by the index of |x|
  uint64_t zero_ = 0;
  uint64_t count_ = 0;
};

}  // namespace canonry::metrics
