// Control-vector maths on synthetic activations with a planted direction: every method must
// recover it (cosine >= 0.99) with the right sign, whichever way the plant points.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "methods/steer/steering.h"
#include "methods/steer/vectors.h"

using namespace rs;
using namespace rs::steer;

namespace {

struct Planted {
  at::Tensor pos, neg, u;  // [N, D], [N, D], [D] unit
};

// pos_i = c_i + (s_i / 2) u + e_i,  neg_i = c_i - (s_i / 2) u + e'_i with c_i ~ N(0, 0.5^2 I)
// shared by the pair (the "question"), s_i ~ U(1, 3) (so the differences vary along u: centred
// PCA sees it), e ~ N(0, 0.05^2 I). Mean of pos ~ mean(s)/2 u = u (+ O(0.5 sqrt(D / N)) noise).
Planted plant(int64_t N, int64_t D, uint64_t seed, double sign) {
  at::manual_seed(seed);
  at::Tensor u = at::randn({D}, at::kDouble);
  u = sign * u / u.norm();
  const at::Tensor c = 0.5 * at::randn({N, D}, at::kDouble);
  const at::Tensor s = 1.0 + 2.0 * at::rand({N, 1}, at::kDouble);
  const at::Tensor pos = c + 0.5 * s * u + 0.05 * at::randn({N, D}, at::kDouble);
  const at::Tensor neg = c - 0.5 * s * u + 0.05 * at::randn({N, D}, at::kDouble);
  return {pos.to(at::kFloat), neg.to(at::kFloat), u};
}

}  // namespace

TEST(SteerVectors, EveryMethodRecoversAPlantedDirectionWithTheRightSign) {
  for (double sign : {1.0, -1.0}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      const Planted p = plant(2000, 16, seed, sign);
      for (VectorMethod m : all_vector_methods()) {
        const at::Tensor v = control_direction(p.pos, p.neg, m);
        ASSERT_EQ(v.sizes(), at::IntArrayRef({16}));
        ASSERT_EQ(v.scalar_type(), at::kFloat);
        EXPECT_GE(cosine(v, p.u), 0.99) << vector_method_name(m) << " sign " << sign << " seed " << seed;
      }
    }
  }
}

TEST(SteerVectors, ScalesFollowTheirDefinitions) {
  const Planted p = plant(500, 8, 7, 1.0);
  const at::Tensor d = (p.pos - p.neg).to(at::kDouble);
  const double mean_norm = d.mean(0).norm().item<double>();
  // R-C is exactly the mean difference; R exactly the mean positive.
  EXPECT_LT((control_direction(p.pos, p.neg, VectorMethod::RC).to(at::kDouble) - d.mean(0)).abs().max().item<double>(), 1e-6);
  EXPECT_LT((control_direction(p.pos, p.neg, VectorMethod::R).to(at::kDouble) - p.pos.to(at::kDouble).mean(0)).abs().max().item<double>(), 1e-6);
  // PCA-C is scaled to |mean d|; repeng's two are unit vectors.
  EXPECT_NEAR(control_direction(p.pos, p.neg, VectorMethod::PcaC).norm().item<double>(), mean_norm, 1e-4);
  EXPECT_NEAR(control_direction(p.pos, p.neg, VectorMethod::PcaDiff).norm().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(control_direction(p.pos, p.neg, VectorMethod::PcaCenter).norm().item<double>(), 1.0, 1e-5);
  // pca-diff (sklearn-centred PCA of d) is pca-c's direction.
  EXPECT_NEAR(cosine(control_direction(p.pos, p.neg, VectorMethod::PcaDiff),
                     control_direction(p.pos, p.neg, VectorMethod::PcaC)), 1.0, 1e-9);
}

TEST(SteerVectors, CentredPcaFindsTheVaryingDirectionNotTheMean) {
  // d_i = 3 e0 + s_i e1 with s_i = +-1: the mean is along e0, the variance along e1. Centred
  // PCA (pca-c) gives e1 (oriented: mean d . e1 = 0 -> kept), uncentred (pca-center) gives e0.
  const int64_t N = 100, D = 4;
  at::Tensor neg = at::zeros({N, D});
  at::Tensor pos = at::zeros({N, D});
  for (int64_t i = 0; i < N; ++i) {
    pos[i][0] = 3.0;
    pos[i][1] = i % 2 ? 1.0 : -1.0;
  }
  const at::Tensor e0 = at::tensor({1.0, 0.0, 0.0, 0.0}), e1 = at::tensor({0.0, 1.0, 0.0, 0.0});
  EXPECT_NEAR(std::fabs(cosine(control_direction(pos, neg, VectorMethod::PcaC), e1)), 1.0, 1e-9);
  EXPECT_NEAR(cosine(control_direction(pos, neg, VectorMethod::PcaCenter), e0), 1.0, 1e-9);
}

TEST(SteerVectors, AllLayersAtOnceEqualsOneByOne) {
  const Planted a = plant(64, 8, 4, 1.0), b = plant(64, 8, 5, -1.0);
  const at::Tensor pos = at::stack({a.pos, b.pos}, 1), neg = at::stack({a.neg, b.neg}, 1);
  for (VectorMethod m : all_vector_methods()) {
    const at::Tensor all = control_directions(pos, neg, m);
    EXPECT_TRUE(all[0].equal(control_direction(a.pos, a.neg, m))) << vector_method_name(m);
    EXPECT_TRUE(all[1].equal(control_direction(b.pos, b.neg, m))) << vector_method_name(m);
  }
}

TEST(SteerVectors, SeparationAurocAndPairAccuracy) {
  const Planted p = plant(400, 16, 9, 1.0);
  EXPECT_GT(separation_auroc(p.pos, p.neg, p.u), 0.99);
  EXPECT_LT(separation_auroc(p.pos, p.neg, -p.u), 0.01);
  EXPECT_DOUBLE_EQ(pair_accuracy(p.pos, p.neg, p.u), 1.0);
  // A direction orthogonal to everything planted separates at chance.
  at::Tensor q = at::randn({16}, at::kDouble);
  q = q - (q * p.u).sum() * p.u;
  EXPECT_NEAR(separation_auroc(p.pos, p.neg, q), 0.5, 0.1);
}

TEST(SteerVectors, FitReportsHeldOutSeparation) {
  const Planted a = plant(100, 16, 10, 1.0);
  const at::Tensor pos = at::stack({a.pos, at::randn({100, 16})}, 1);
  const at::Tensor neg = at::stack({a.neg, at::randn({100, 16})}, 1);
  const TrainResult r = fit_control_vectors(pos, neg, {3, 4}, VectorMethod::RC, 0.2);
  ASSERT_EQ(r.fits.size(), 2u);
  EXPECT_EQ(r.n_heldout, 20);
  EXPECT_EQ(r.fits[0].layer, 3);
  EXPECT_GT(r.fits[0].auroc_heldout, 0.95);  // planted layer separates
  EXPECT_DOUBLE_EQ(r.fits[0].pair_acc_heldout, 1.0);
  EXPECT_LT(std::fabs(r.fits[1].auroc_heldout - 0.5), 0.25);  // pure noise layer: near chance
  EXPECT_NEAR(r.fits[0].cos_rc, 1.0, 1e-6);
}

TEST(SteerVectors, BadInputIsRefused) {
  EXPECT_THROW(parse_vector_method("pca"), rs::Error);
  EXPECT_THROW(control_direction(at::zeros({1, 4}), at::zeros({1, 4}), VectorMethod::RC), rs::Error);
  EXPECT_THROW(control_direction(at::zeros({3, 4}), at::zeros({3, 5}), VectorMethod::RC), rs::Error);
  EXPECT_THROW(control_directions(at::zeros({3, 4}), at::zeros({3, 4}), VectorMethod::RC), rs::Error);
}

// The held-out pairs are a seeded shuffle, not the file's tail: a file whose last fifth is
// pure noise (files are often ordered) must not be scored on that noise alone. The split is
// the same for the same seed and differs for another.
TEST(SteerVectors, HeldOutSplitIsASeededShuffle) {
  at::manual_seed(3);
  const Planted a = plant(100, 16, 10, 1.0);
  at::Tensor pos = a.pos.clone(), neg = a.neg.clone();
  pos.narrow(0, 80, 20).copy_(at::randn({20, 16}));  // the tail: no planted direction
  neg.narrow(0, 80, 20).copy_(at::randn({20, 16}));
  const TrainResult r = fit_control_vectors(pos.unsqueeze(1), neg.unsqueeze(1), {3}, VectorMethod::RC, 0.2, 7);
  ASSERT_EQ(r.heldout_rows.size(), 20u);
  int64_t in_tail = 0;
  for (int64_t i : r.heldout_rows) in_tail += i >= 80;
  EXPECT_LT(in_tail, 12) << "held-out rows are mostly the file's tail";
  // Mostly planted pairs held out: the held-out score sees the planted separation.
  EXPECT_GT(r.fits[0].auroc_heldout, 0.75);

  EXPECT_EQ(heldout_split(100, 20, 7), r.heldout_rows);
  EXPECT_NE(heldout_split(100, 20, 8), r.heldout_rows);
  const std::vector<int64_t> all = heldout_split(5, 5, 1);
  EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_THROW(heldout_split(5, 6, 1), rs::Error);
}
