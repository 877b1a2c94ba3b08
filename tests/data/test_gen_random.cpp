// The generators' PRNG: bounded draws are uniform, shuffles are permutations, samples are
// distinct, streams are reproducible and distinct.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "data/gen_random.h"

using rs::data::GenRng;

TEST(GenRandom, BelowIsUniform) {
  GenRng rng(123);
  const int n = 7, draws = 70000;
  std::vector<int> counts(n, 0);
  for (int i = 0; i < draws; ++i) {
    uint64_t x = rng.below(n);
    ASSERT_LT(x, uint64_t(n));
    ++counts[x];
  }
  // Chi-square with 6 degrees of freedom; 22.5 is the 0.999 quantile.
  double chi2 = 0;
  for (int c : counts) chi2 += std::pow(c - draws / double(n), 2) / (draws / double(n));
  EXPECT_LT(chi2, 22.5);
}

TEST(GenRandom, ShuffleAndSample) {
  GenRng rng(5);
  std::vector<int> v(50);
  for (int i = 0; i < 50; ++i) v[i] = i;
  auto w = v;
  rng.shuffle(w);
  EXPECT_NE(v, w);
  std::sort(w.begin(), w.end());
  EXPECT_EQ(v, w);
  auto s = rng.sample(30, 30);
  EXPECT_EQ(std::set<size_t>(s.begin(), s.end()).size(), 30u);
  auto k = rng.sample(1000, 5);
  EXPECT_EQ(std::set<size_t>(k.begin(), k.end()).size(), 5u);
  for (size_t x : k) EXPECT_LT(x, 1000u);
}

TEST(GenRandom, StreamsReproducibleAndDistinct) {
  auto a = GenRng::stream(9, 3), b = GenRng::stream(9, 3), c = GenRng::stream(9, 4),
       d = GenRng::stream(10, 3);
  uint64_t xa = a.next(), xb = b.next(), xc = c.next(), xd = d.next();
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  EXPECT_NE(xa, xd);
}
