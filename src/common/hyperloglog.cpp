#include "common/hyperloglog.h"

#include <cmath>
#include <limits>

namespace canonry {
namespace {

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
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
  uint64_t h = seed ^ kHashK0 ^ (size * kHashK1);
  uint64_t a = 0;
  uint64_t b = 0;
  // Short inputs, the common case, are read as two (possibly overlapping) words without a loop
  // or a variable-length copy.
  if (size <= 16) {
    if (size >= 8) {
      a = load64(p);
      b = load64(p + size - 8);
    } else if (size >= 4) {
      a = load32(p);
      b = load32(p + size - 4);
    } else if (size > 0) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[size >> 1]} << 8) | p[size - 1];
    }
  } else {
    size_t n = size;
    while (n > 16) {
      h = fold_multiply(load64(p) ^ kHashK2, load64(p + 8) ^ h);
      p += 16;
      n -= 16;
    }
    // The last 16 bytes, overlapping what the loop read when the size is not a multiple of 16.
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  return fold_multiply(fold_multiply(a ^ kHashK2, b ^ h) ^ kHashK3, kHashK1 ^ size);
}

double hyperloglog_estimate(const uint8_t* registers, int precision) {
  const int max_rank = 64 - precision + 1;
  const size_t count = size_t{1} << precision;
  std::array<uint32_t, 66> histogram{};
  for (size_t i = 0; i < count; ++i) ++histogram[registers[i]];
  const double m = static_cast<double>(count);
  double z = m * tau(1.0 - histogram[max_rank] / m);
  for (int k = max_rank - 1; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  const double alpha_infinity = 0.5 / std::log(2.0);
  return alpha_infinity * m * m / z;
}

}  // namespace canonry
