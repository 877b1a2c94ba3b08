// The generators' own pseudo-random numbers: xoshiro256** seeded through splitmix64.
//
// Why not <random>: std::uniform_int_distribution and std::shuffle are allowed to differ
// between standard libraries, so a dataset made with `--seed 7` on one machine would not be
// byte-identical on another. Everything here is specified down to the bit:
//   splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014),
//   xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018),
//   bounded integers by rejection of the biased tail (no modulo bias), Fisher-Yates shuffle.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rs::data {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class GenRng {
 public:
  explicit GenRng(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }
  // A generator for one sub-stream (e.g. one row), independent of how many numbers the
  // parent has drawn: rows stay the same when another row's generation changes.
  static GenRng stream(uint64_t seed, uint64_t index) {
    uint64_t sm = seed ^ (0xD1B54A32D192ED03ull * (index + 1));
    return GenRng(splitmix64(sm));
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform integer in [0, n); n > 0. Rejects the top partial block so every value is equally
  // likely.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  bool coin() { return (next() >> 63) != 0; }
  // true with probability num/den.
  bool chance(uint64_t num, uint64_t den) { return below(den) < num; }

  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  // k distinct indices from [0, n), in random order (k <= n).
  std::vector<size_t> sample(size_t n, size_t k) {
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; ++i) idx[i] = i;
    for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + below(n - i)]);
    idx.resize(k);
    return idx;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace rs::data
