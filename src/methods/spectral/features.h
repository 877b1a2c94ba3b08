// Spectral features of a graph signal (METHODS.md section 1, steps 4-5), computed exactly from
// the full spectrum. Pure functions over tensors with optional leading batch dimensions:
// w [..., N, N] (the attention graph, graph.h), x [..., N, D] (the signal: resid_post rows).
//
// Where we differ from the published code (spectral_trust/spectral.py), as METHODS.md asks:
//   - L_rw is not symmetric, so it is never given to a symmetric solver. We diagonalise the
//     symmetric L_sym = V diag(lambda) V^T (same eigenvalues as L_rw) with a dense eigh;
//     L_rw's eigenvectors are u_k = D^-1/2 v_k, orthonormal in the D-weighted inner product
//     <a, b>_D = a^T D b, so X's spectral coefficients for rw are u_k^T D X = v_k^T D^1/2 X.
//   - The full spectrum always (no 50-eigenpair truncation above N = 50).
// Kept from the published code: energy = tr(X^T L X) with the literal operator L (for rw the
// non-symmetric I - D^-1 W), smoothness = energy / tr(X^T X), eigenvalues clamped at >= 0,
// HFER band = the modes from index floor((1 - band) N) up.
// Parseval: sum_k e_k = tr(X^T X) for sym / comb and tr(X^T D X) for rw; the energy identity
// tr(X^T L X) = sum_k lambda_k e_k holds for sym and comb (for rw: tr(X^T D L_rw X)).
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <string>

#include "methods/spectral/graph.h"

namespace rs::spectral {

// Eigen-decomposition of the chosen Laplacian: eigenvalues ascending [..., N] (clamped at
// >= 0: they are >= 0 in exact arithmetic) and the matrix V [..., N, N] whose columns give the
// spectral coefficients c = V^T x' with x' = D^1/2 x for rw and x' = x otherwise.
struct Eigen {
  at::Tensor values;
  at::Tensor vectors;
  at::Tensor sqrt_degrees;  // [..., N] (used for rw)
};
Eigen decompose(const at::Tensor& w, Laplacian kind);

// e_k = ||c_k||^2 summed over the signal's columns: [..., N], ascending frequency.
at::Tensor spectral_energies(const Eigen& eig, const at::Tensor& x, Laplacian kind);

// tr(X^T L X) [...], computed from L itself (no eigenvectors).
at::Tensor dirichlet_energy(const at::Tensor& w, const at::Tensor& x, Laplacian kind);
// tr(X^T L X) / tr(X^T X); 0 where the signal is 0.
at::Tensor smoothness(const at::Tensor& w, const at::Tensor& x, Laplacian kind);
// -sum_k p_k ln p_k with p = e / sum e (0 ln 0 = 0); 0 where sum e = 0.
at::Tensor spectral_entropy(const at::Tensor& energies);
// Energy in the top `band` fraction of frequencies over the total: modes k >= floor((1-band) N)
// (at least the top one); 0 where sum e = 0. band in (0, 1].
at::Tensor high_frequency_energy_ratio(const at::Tensor& energies, double band = 0.1);
// Second-smallest eigenvalue [...] (0 for a one-node graph).
at::Tensor fiedler_value(const at::Tensor& eigenvalues);

struct FeatureOptions {
  Laplacian laplacian = Laplacian::RandomWalk;
  double hfer_band = 0.1;
  at::ScalarType dtype = at::kDouble;  // the maths runs in this dtype
};

// Everything at once: features [..., kNumMetrics] in Metric order, plus the eigenvalues.
struct Features {
  at::Tensor values;       // [..., 5]
  at::Tensor eigenvalues;  // [..., N]
};
Features compute_features(const at::Tensor& w, const at::Tensor& x, const FeatureOptions& opts);

}  // namespace rs::spectral
