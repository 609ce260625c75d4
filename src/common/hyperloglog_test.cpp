#include "common/hyperloglog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace canonry {
namespace {

TEST(HyperLogLog, MillionDistinctWithinTwoPercent) {
  HyperLogLog strings, integers;
  const uint64_t n = 1'000'000;
  for (uint64_t i = 0; i < n; ++i) {
    std::string s = "customer-" + std::to_string(i) + "@example.com";
    strings.add_hash(hash_bytes(s));
    integers.add_hash(hash_u64(i));
  }
  EXPECT_NEAR(strings.estimate(), n, n * 0.02);
  EXPECT_NEAR(integers.estimate(), n, n * 0.02);
}

TEST(HyperLogLog, AccurateAcrossTheRange) {
  HyperLogLog h;
  uint64_t added = 0;
  for (uint64_t target : {1ull, 10ull, 100ull, 1000ull, 10000ull, 50000ull, 200000ull}) {
    for (; added < target; ++added) h.add_hash(hash_u64(added * 0x9e3779b97f4a7c15ULL));
    double tolerance = std::max(1.0, target * 0.03);
    EXPECT_NEAR(h.estimate(), static_cast<double>(target), tolerance) << target;
  }
}

TEST(HyperLogLog, MergeIsRegisterMax) {
  HyperLogLog a, b, both;
  for (uint64_t i = 0; i < 30000; ++i) {
    (i % 2 ? a : b).add_hash(hash_u64(i));
    both.add_hash(hash_u64(i));
  }
  a.merge(b);
  EXPECT_TRUE(a == both);
}

TEST(HyperLogLog, SmallerPrecisionWithinItsError) {
  BasicHyperLogLog<14> h;
  for (uint64_t i = 0; i < 100000; ++i) h.add_hash(hash_u64(i));
  EXPECT_NEAR(h.estimate(), 100000.0, 100000 * 0.03);
  BasicHyperLogLog<14> copy;
  ASSERT_TRUE(copy.assign_registers(h.register_bytes()));
  EXPECT_TRUE(copy == h);
}

}  // namespace
}  // namespace canonry
