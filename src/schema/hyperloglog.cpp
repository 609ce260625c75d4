#include "schema/hyperloglog.h"

#include <cmath>
#include <limits>

namespace canonry::schema {
namespace {

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Ertl's sigma and tau series for the registers at the two ends of the range (all zero: small
// cardinalities; saturated: huge ones). Both converge in a few dozen iterations.
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  while (true) {
    x *= x;
    double previous = z;
    z += x * y;
    y += y;
    if (z == previous) return z;
  }
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  while (true) {
    x = std::sqrt(x);
    double previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == previous) return z / 3.0;
  }
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t h = seed ^ fold_multiply(size ^ kHashK0, kHashK1);
  size_t n = size;
  while (n >= 16) {
    h = fold_multiply(load64(p) ^ kHashK2, load64(p + 8) ^ h ^ kHashK3);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    h = fold_multiply(load64(p) ^ kHashK2, h ^ kHashK1);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = fold_multiply(tail ^ kHashK3, h ^ kHashK0);
  }
  return fold_multiply(h ^ kHashK1, kHashK2 ^ size);
}

double HyperLogLog::estimate() const {
  std::array<uint32_t, kMaxRank + 1> histogram{};
  for (uint8_t r : registers_) ++histogram[r];
  const double m = static_cast<double>(kRegisters);
  double z = m * tau(1.0 - histogram[kMaxRank] / m);
  for (int k = kMaxRank - 1; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  const double alpha_infinity = 0.5 / std::log(2.0);
  return alpha_infinity * m * m / z;
}

}  // namespace canonry::schema
