// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
// a tiny, fully specified generator, so every seeded statistic (bootstrap, fold shuffles,
// k-means++) gives the same numbers on every platform and standard library, and the golden
// script in tools/ can reproduce the exact stream in Python. std::uniform_int_distribution is
// deliberately avoided: its output is implementation-defined.
#pragma once
#include <cstdint>

#include "core/error.h"

namespace rs::stats {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform integer in [0, n), unbiased: draws below the largest multiple of n are accepted.
  uint64_t below(uint64_t n) {
    if (n == 0) fail("stats::SplitMix64::below: n is 0; expected n >= 1");
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;  // accept z <= limit
    uint64_t z = next();
    while (z > limit) z = next();
    return z % n;
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace rs::stats
