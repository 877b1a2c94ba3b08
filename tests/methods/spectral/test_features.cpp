// Spectral maths against known answers: spectra of path, cycle and complete graphs; L_rw's
// eigenvalues from the symmetric route against a general eigensolver; HFER of a constant
// signal; the energy identities and Parseval; the attention graph's construction.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "methods/spectral/features.h"
#include "methods/spectral/graph.h"

using namespace rs::spectral;

namespace {

const double kPi = std::acos(-1.0);
const auto kF64 = at::TensorOptions(at::kDouble);

at::Tensor path_graph(int64_t n) {
  at::Tensor w = at::zeros({n, n}, kF64);
  for (int64_t i = 0; i + 1 < n; ++i) w[i][i + 1] = w[i + 1][i] = 1.0;
  return w;
}
at::Tensor cycle_graph(int64_t n) {
  at::Tensor w = path_graph(n);
  w[0][n - 1] = w[n - 1][0] = 1.0;
  return w;
}
at::Tensor complete_graph(int64_t n) { return at::ones({n, n}, kF64) - at::eye(n, kF64); }

// A random connected weighted graph (positive weights, self loops included).
at::Tensor random_graph(int64_t n, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor a = at::rand({n, n}, kF64);
  return (a + a.t()) * 0.5;
}

std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}
std::vector<double> vec(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

}  // namespace

// Path P_n: comb eigenvalues 2 - 2 cos(pi k / n); L_sym 1 - cos(pi k / (n - 1)), k = 0..n-1
// (Chung, Spectral Graph Theory, 1997, sec. 1.2).
TEST(SpectralKnownSpectra, Path) {
  const int64_t n = 9;
  std::vector<double> comb, sym;
  for (int64_t k = 0; k < n; ++k) {
    comb.push_back(2 - 2 * std::cos(kPi * k / n));
    sym.push_back(1 - std::cos(kPi * k / (n - 1)));
  }
  expect_near_all(vec(decompose(path_graph(n), Laplacian::Combinatorial).values), sorted(comb), 1e-12);
  expect_near_all(vec(decompose(path_graph(n), Laplacian::Symmetric).values), sorted(sym), 1e-12);
  expect_near_all(vec(decompose(path_graph(n), Laplacian::RandomWalk).values), sorted(sym), 1e-12);
}

// Cycle C_n: comb 2 - 2 cos(2 pi k / n); 2-regular, so L_sym = L_rw = L_comb / 2.
TEST(SpectralKnownSpectra, Cycle) {
  const int64_t n = 10;
  std::vector<double> comb, sym;
  for (int64_t k = 0; k < n; ++k) {
    comb.push_back(2 - 2 * std::cos(2 * kPi * k / n));
    sym.push_back(1 - std::cos(2 * kPi * k / n));
  }
  expect_near_all(vec(decompose(cycle_graph(n), Laplacian::Combinatorial).values), sorted(comb), 1e-12);
  expect_near_all(vec(decompose(cycle_graph(n), Laplacian::Symmetric).values), sorted(sym), 1e-12);
  // Fiedler value of C_10: 1 - cos(2 pi / 10)
  EXPECT_NEAR(fiedler_value(decompose(cycle_graph(n), Laplacian::RandomWalk).values).item<double>(),
              1 - std::cos(2 * kPi / n), 1e-12);
}

// Complete K_n: comb {0, n x (n-1)}; L_sym {0, n/(n-1) x (n-1)}.
TEST(SpectralKnownSpectra, Complete) {
  const int64_t n = 7;
  std::vector<double> comb(n, double(n)), sym(n, double(n) / (n - 1));
  comb[0] = sym[0] = 0;
  expect_near_all(vec(decompose(complete_graph(n), Laplacian::Combinatorial).values), comb, 1e-12);
  expect_near_all(vec(decompose(complete_graph(n), Laplacian::Symmetric).values), sym, 1e-12);
  expect_near_all(vec(decompose(complete_graph(n), Laplacian::RandomWalk).values), sym, 1e-12);
}

// L_rw = I - D^-1 W is not symmetric: its eigenvalues from a general solver must equal the
// ones we take from the symmetric L_sym (the published code gave L_rw to eigh / eigsh).
TEST(SpectralRandomWalk, EigenvaluesMatchGeneralSolver) {
  for (uint64_t seed : {1, 2, 3}) {
    const at::Tensor w = random_graph(40, seed);
    const at::Tensor lrw = laplacian_matrix(w, Laplacian::RandomWalk);
    ASSERT_GT((lrw - lrw.t()).abs().max().item<double>(), 1e-3) << "test graph should give a non-symmetric L_rw";
    const at::Tensor general = at::linalg_eigvals(lrw);  // complex
    EXPECT_LT(at::imag(general).abs().max().item<double>(), 1e-10);
    const at::Tensor general_sorted = std::get<0>(at::real(general).sort());
    expect_near_all(vec(decompose(w, Laplacian::RandomWalk).values), vec(general_sorted), 1e-10);
    // and the eigenvectors: L_rw u_k = lambda_k u_k with u_k = D^-1/2 v_k
    const Eigen e = decompose(w, Laplacian::RandomWalk);
    const at::Tensor u = e.vectors / e.sqrt_degrees.unsqueeze(-1);
    EXPECT_LT((at::matmul(lrw, u) - u * e.values.unsqueeze(0)).abs().max().item<double>(), 1e-10);
  }
}

// A constant signal on a connected graph has all its energy at frequency 0 for rw (null vector
// 1) and comb (null vector 1/sqrt(n)); for sym the null vector is D^1/2 1, so only on a regular
// graph.
TEST(SpectralHfer, ConstantSignalIsZero) {
  const at::Tensor x = at::full({30, 4}, 2.5, kF64);
  for (Laplacian k : {Laplacian::RandomWalk, Laplacian::Combinatorial}) {
    const at::Tensor w = random_graph(30, 7);
    const at::Tensor e = spectral_energies(decompose(w, k), x, k);
    EXPECT_NEAR(high_frequency_energy_ratio(e, 0.1).item<double>(), 0.0, 1e-12) << laplacian_name(k);
    EXPECT_NEAR(high_frequency_energy_ratio(e, 0.5).item<double>(), 0.0, 1e-12) << laplacian_name(k);
    EXPECT_NEAR(spectral_entropy(e).item<double>(), 0.0, 1e-10) << laplacian_name(k);
    EXPECT_NEAR(dirichlet_energy(w, x, k).item<double>(), 0.0, 1e-10) << laplacian_name(k);
  }
  const at::Tensor c = cycle_graph(30);
  const at::Tensor e = spectral_energies(decompose(c, Laplacian::Symmetric), x, Laplacian::Symmetric);
  EXPECT_NEAR(high_frequency_energy_ratio(e).item<double>(), 0.0, 1e-12);
}

// tr(X^T L X) = sum_k lambda_k e_k for comb and sym, and Parseval sum_k e_k = tr(X^T X);
// for rw in the D-inner product: sum_k lambda_k e_k = tr(X^T D L_rw X), sum_k e_k = tr(X^T D X).
TEST(SpectralEnergy, Identities) {
  at::manual_seed(11);
  const at::Tensor w = random_graph(25, 5);
  const at::Tensor x = at::randn({25, 6}, kF64);
  const at::Tensor d = degrees(w);
  for (Laplacian k : {Laplacian::Combinatorial, Laplacian::Symmetric, Laplacian::RandomWalk}) {
    const Eigen eig = decompose(w, k);
    const at::Tensor e = spectral_energies(eig, x, k);
    const double spectral = (eig.values * e).sum().item<double>();
    const at::Tensor l = laplacian_matrix(w, k);
    if (k == Laplacian::RandomWalk) {
      const at::Tensor dx = x * d.unsqueeze(-1);
      EXPECT_NEAR(spectral, (dx * at::matmul(l, x)).sum().item<double>(), 1e-9);
      EXPECT_NEAR(e.sum().item<double>(), (x * dx).sum().item<double>(), 1e-9);
      // the literal operator, as the paper computes it
      EXPECT_NEAR(dirichlet_energy(w, x, k).item<double>(), at::trace(at::matmul(x.t(), at::matmul(l, x))).item<double>(), 1e-9);
    } else {
      EXPECT_NEAR(spectral, dirichlet_energy(w, x, k).item<double>(), 1e-9) << laplacian_name(k);
      EXPECT_NEAR(spectral, at::trace(at::matmul(x.t(), at::matmul(l, x))).item<double>(), 1e-9);
      EXPECT_NEAR(e.sum().item<double>(), x.square().sum().item<double>(), 1e-9) << laplacian_name(k);
    }
  }
  // comb energy = 1/2 sum_ij W_ij ||x_i - x_j||^2
  const at::Tensor diff = x.unsqueeze(0) - x.unsqueeze(1);
  EXPECT_NEAR(dirichlet_energy(w, x, Laplacian::Combinatorial).item<double>(),
              0.5 * (w * diff.square().sum(-1)).sum().item<double>(), 1e-9);
}

// Entropy and HFER on hand-made energy vectors.
TEST(SpectralMetrics, EntropyAndHferByHand) {
  // uniform over 4 modes: ln 4; top 25% band of 4 = 1 mode = 1/4
  const at::Tensor u = at::ones({4}, kF64);
  EXPECT_NEAR(spectral_entropy(u).item<double>(), std::log(4.0), 1e-12);
  EXPECT_NEAR(high_frequency_energy_ratio(u, 0.25).item<double>(), 0.25, 1e-12);
  // e = [1, 0, 3] (0 ln 0 = 0): p = [1/4, 0, 3/4]
  const at::Tensor e = at::tensor(std::vector<double>{1, 0, 3}, kF64);
  EXPECT_NEAR(spectral_entropy(e).item<double>(), -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)), 1e-12);
  // 10 modes, band 0.1: cut = int(0.9 * 10) = 9 -> the last mode only
  const at::Tensor ten = at::arange(1, 11, kF64);
  EXPECT_NEAR(high_frequency_energy_ratio(ten, 0.1).item<double>(), 10.0 / 55.0, 1e-12);
  // 7 modes, band 0.1: cut = int(6.3) = 6 -> the last mode; band 0.3: int(4.9) = 4 -> 3 modes
  const at::Tensor seven = at::arange(1, 8, kF64);
  EXPECT_NEAR(high_frequency_energy_ratio(seven, 0.1).item<double>(), 7.0 / 28.0, 1e-12);
  EXPECT_NEAR(high_frequency_energy_ratio(seven, 0.3).item<double>(), 18.0 / 28.0, 1e-12);
  EXPECT_THROW(high_frequency_energy_ratio(seven, 0.0), rs::Error);
  // zero signal: everything 0, no NaN
  EXPECT_EQ(spectral_entropy(at::zeros({5}, kF64)).item<double>(), 0.0);
  EXPECT_EQ(high_frequency_energy_ratio(at::zeros({5}, kF64)).item<double>(), 0.0);
}

// W from heads: average, symmetrise, clamp; a causal softmax pattern gives degrees >= 1/2.
TEST(SpectralGraph, FromAttentionPattern) {
  at::manual_seed(3);
  const int64_t h = 3, n = 12;
  at::Tensor scores = at::randn({h, n, n}, kF64);
  scores = scores.masked_fill(at::ones({n, n}, at::kBool).triu(1), -INFINITY);
  const at::Tensor a = at::softmax(scores, -1);
  const at::Tensor w = attention_graph(a);
  EXPECT_LT((w - w.t()).abs().max().item<double>(), 1e-15);
  EXPECT_GE(w.min().item<double>(), 0.0);
  const at::Tensor want = (a.mean(0) + a.mean(0).t()) / 2;
  EXPECT_LT((w - want).abs().max().item<double>(), 1e-15);
  EXPECT_GE(degrees(w).min().item<double>(), 0.5 - 1e-12);
  EXPECT_NEAR(degrees(w).sum().item<double>(), double(n), 1e-10);  // every row of A sums to 1
  const at::Tensor wh = attention_graph_per_head(a);
  EXPECT_LT((wh.mean(0) - w).abs().max().item<double>(), 1e-15);
  // clamp: negative weights (not from a softmax) go to 0
  EXPECT_EQ(attention_graph(-at::ones({1, 2, 2}, kF64)).abs().max().item<double>(), 0.0);
  EXPECT_THROW(attention_graph(at::ones({2, 3}, kF64)), rs::Error);
}

// compute_features on a batch equals one-by-one, and matches the pieces.
TEST(SpectralFeatures, BatchedEqualsSingleAndPieces) {
  at::manual_seed(9);
  const at::Tensor w = at::stack({random_graph(16, 1), random_graph(16, 2)});
  const at::Tensor x = at::randn({2, 16, 5}, kF64);
  FeatureOptions o;
  o.laplacian = Laplacian::RandomWalk;
  const Features all = compute_features(w, x, o);
  ASSERT_EQ(all.values.sizes(), (at::IntArrayRef{2, kNumMetrics}));
  for (int64_t b = 0; b < 2; ++b) {
    const Features one = compute_features(w[b], x[b], o);
    EXPECT_LT((one.values - all.values[b]).abs().max().item<double>(), 1e-10);
    const Eigen e = decompose(w[b], o.laplacian);
    const at::Tensor en = spectral_energies(e, x[b], o.laplacian);
    EXPECT_NEAR(one.values[int(Metric::Fiedler)].item<double>(), e.values[1].item<double>(), 1e-12);
    EXPECT_NEAR(one.values[int(Metric::Energy)].item<double>(), dirichlet_energy(w[b], x[b], o.laplacian).item<double>(), 1e-10);
    EXPECT_NEAR(one.values[int(Metric::Smoothness)].item<double>(), smoothness(w[b], x[b], o.laplacian).item<double>(), 1e-12);
    EXPECT_NEAR(one.values[int(Metric::Entropy)].item<double>(), spectral_entropy(en).item<double>(), 1e-12);
    EXPECT_NEAR(one.values[int(Metric::Hfer)].item<double>(), high_frequency_energy_ratio(en).item<double>(), 1e-12);
  }
  // float32 input runs in double by default
  const Features f32 = compute_features(w.to(at::kFloat), x.to(at::kFloat), o);
  EXPECT_EQ(f32.values.scalar_type(), at::kDouble);
  EXPECT_EQ(parse_laplacian("comb"), Laplacian::Combinatorial);
  EXPECT_THROW(parse_laplacian("normalized"), rs::Error);
  EXPECT_EQ(parse_metric("hfer"), Metric::Hfer);
  EXPECT_THROW(parse_metric("HFER"), rs::Error);
}

// f32 maths (the paper's precision; the command's --maths-dtype f32) stays close to f64.
TEST(SpectralFeatures, Float32CloseToFloat64) {
  at::manual_seed(21);
  const at::Tensor w = random_graph(64, 4);
  const at::Tensor x = at::randn({64, 16}, kF64);
  for (Laplacian k : {Laplacian::RandomWalk, Laplacian::Symmetric, Laplacian::Combinatorial}) {
    FeatureOptions o64, o32;
    o64.laplacian = o32.laplacian = k;
    o32.dtype = at::kFloat;
    const at::Tensor a = compute_features(w, x, o64).values, b = compute_features(w, x, o32).values.to(at::kDouble);
    EXPECT_LT(((a - b).abs() / a.abs().clamp_min(1e-3)).max().item<double>(), 1e-3) << laplacian_name(k);
  }
}
