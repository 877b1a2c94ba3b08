// k-means++ with restarts: on well separated blobs every seed recovers the blobs exactly
// (ARI 1); results are identical for a seed; errors on bad input.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "stats/cluster_agreement.h"
#include "stats/kmeans.h"
#include "stats/rng.h"
#include "tensor_from_json.h"

namespace rs::stats {
namespace {

// k blobs of `per` points in d dimensions; centres 20 apart per axis, unit noise.
struct Blobs {
  at::Tensor x;
  std::vector<int64_t> truth;
};

Blobs make_blobs(int64_t k, int64_t per, int64_t d, uint64_t seed, at::ScalarType dtype) {
  SplitMix64 g(seed);
  std::vector<double> data;
  Blobs b;
  std::vector<std::vector<double>> centres(static_cast<size_t>(k), std::vector<double>(static_cast<size_t>(d)));
  for (auto& c : centres)
    for (double& v : c) v = 40.0 * g.uniform() - 20.0 + 0.0;
  for (int64_t c = 0; c < k; ++c) centres[static_cast<size_t>(c)][static_cast<size_t>(c % d)] += 60.0 * c;
  for (int64_t c = 0; c < k; ++c)
    for (int64_t i = 0; i < per; ++i) {
      for (int64_t j = 0; j < d; ++j) data.push_back(centres[static_cast<size_t>(c)][static_cast<size_t>(j)] + (g.uniform() - 0.5) * 2.0);
      b.truth.push_back(c);
    }
  b.x = at::tensor(data, at::kDouble).reshape({k * per, d}).to(dtype);
  return b;
}

TEST(KMeans, SeparatedBlobsGiveAriOneForEverySeed) {
  for (const at::Device device : golden::devices()) {
    const Blobs blobs = make_blobs(6, 40, 5, 1, at::kFloat);
    const at::Tensor x = blobs.x.to(device);
    for (uint64_t seed = 0; seed < 20; ++seed) {
      KMeansOptions opt;
      opt.k = 6;
      opt.restarts = 3;
      opt.seed = seed;
      const KMeansResult r = kmeans(x, opt);
      EXPECT_EQ(adjusted_rand_index(blobs.truth, r.labels), 1.0) << "seed " << seed;
    }
  }
}

TEST(KMeans, SingleRestartFindsBlobsAndInertiaMatchesLabels) {
  // Even one k-means++ start separates far-apart blobs; inertia is the sum of squared distances.
  const Blobs blobs = make_blobs(4, 25, 3, 2, at::kDouble);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    KMeansOptions opt;
    opt.k = 4;
    opt.restarts = 1;
    opt.seed = seed;
    const KMeansResult r = kmeans(blobs.x, opt);
    EXPECT_EQ(adjusted_rand_index(blobs.truth, r.labels), 1.0) << "seed " << seed;
    double inertia = 0;
    for (int64_t i = 0; i < blobs.x.size(0); ++i)
      inertia += (blobs.x[i] - r.centers[r.labels[static_cast<size_t>(i)]]).pow(2).sum().item<double>();
    EXPECT_NEAR(r.inertia, inertia, 1e-9 * inertia);
  }
}

TEST(KMeans, DeterministicPerSeed) {
  const at::Tensor x = at::rand({300, 16}, at::kFloat);  // no structure: many local optima
  KMeansOptions opt;
  opt.k = 7;
  opt.restarts = 4;
  opt.seed = 123;
  const KMeansResult a = kmeans(x, opt), b = kmeans(x, opt);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.inertia, b.inertia);
  EXPECT_TRUE(at::equal(a.centers, b.centers));
  opt.seed = 124;
  const KMeansResult c = kmeans(x, opt);
  EXPECT_TRUE(c.labels != a.labels || c.inertia != a.inertia);
}

TEST(KMeans, MoreRestartsNeverIncreaseInertia) {
  const at::Tensor x = at::rand({200, 8}, at::kDouble);
  KMeansOptions opt;
  opt.k = 6;
  opt.seed = 5;
  opt.restarts = 1;
  const double one = kmeans(x, opt).inertia;
  opt.restarts = 8;  // restart 0 is the same run as above, so the best can only improve
  EXPECT_LE(kmeans(x, opt).inertia, one);
}

TEST(KMeans, RejectsBadInput) {
  KMeansOptions opt;
  opt.k = 3;
  EXPECT_THROW(kmeans(at::zeros({2, 2}), opt), rs::Error);  // k > n
  EXPECT_THROW(kmeans(at::zeros({5}), opt), rs::Error);     // not 2-D
  opt.restarts = 0;
  EXPECT_THROW(kmeans(at::zeros({5, 2}), opt), rs::Error);
}

TEST(KMeans, DuplicatePointsWithKEqualNAreHandled) {
  // Fewer distinct points than k: empty clusters must be re-seeded, not produce NaN centres.
  const at::Tensor x = at::tensor({0.0, 0.0, 0.0, 5.0, 5.0}, at::kDouble).reshape({5, 1});
  KMeansOptions opt;
  opt.k = 4;
  opt.restarts = 2;
  const KMeansResult r = kmeans(x, opt);
  EXPECT_FALSE(at::isnan(r.centers).any().item<bool>());
  EXPECT_NEAR(r.inertia, 0.0, 1e-12);
}

}  // namespace
}  // namespace rs::stats
