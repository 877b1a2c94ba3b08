// Spectral features: see features.h for the equations and where we differ from the paper's code.
#include "methods/spectral/features.h"

#include <cmath>

#include "core/error.h"

namespace rs::spectral {

Eigen decompose(const at::Tensor& w, Laplacian kind) {
  Eigen e;
  const at::Tensor d = degrees(w);
  e.sqrt_degrees = d.clamp_min(0.0).sqrt();
  // rw shares L_sym's eigenvalues (L_rw = D^-1/2 L_sym D^1/2); comb is symmetric itself.
  const at::Tensor l = laplacian_matrix(w, kind == Laplacian::Combinatorial ? kind : Laplacian::Symmetric);
  auto [values, vectors] = at::linalg_eigh(l, "L");
  e.values = values.clamp_min(0.0);
  e.vectors = vectors;
  return e;
}

at::Tensor spectral_energies(const Eigen& eig, const at::Tensor& x, Laplacian kind) {
  // c = V^T x'  with x' = D^1/2 x for rw (D-orthonormal basis u_k = D^-1/2 v_k)
  const at::Tensor xs = kind == Laplacian::RandomWalk ? x * eig.sqrt_degrees.unsqueeze(-1) : x;
  const at::Tensor c = at::matmul(eig.vectors.transpose(-1, -2), xs);  // [..., N, D]
  return c.square().sum(-1);
}

at::Tensor dirichlet_energy(const at::Tensor& w, const at::Tensor& x, Laplacian kind) {
  // tr(X^T L X) = sum_ij X_ij (L X)_ij
  return (x * at::matmul(laplacian_matrix(w, kind), x)).sum({-2, -1});
}

at::Tensor smoothness(const at::Tensor& w, const at::Tensor& x, Laplacian kind) {
  const at::Tensor energy = dirichlet_energy(w, x, kind);
  const at::Tensor norm = x.square().sum({-2, -1});  // tr(X^T X)
  return at::where(norm > 0, energy / norm, at::zeros_like(energy));
}

at::Tensor spectral_entropy(const at::Tensor& energies) {
  const at::Tensor total = energies.sum(-1, /*keepdim=*/true);
  const at::Tensor p = at::where(total > 0, energies / total, at::zeros_like(energies));
  // -sum p ln p, with 0 ln 0 = 0
  const at::Tensor plogp = at::where(p > 0, p * p.log(), at::zeros_like(p));
  return -plogp.sum(-1);
}

at::Tensor high_frequency_energy_ratio(const at::Tensor& energies, double band) {
  if (!(band > 0.0 && band <= 1.0)) fail("HFER band: expected a fraction in (0, 1], got ", band);
  const int64_t n = energies.size(-1);
  // the published cut: int((1 - band) * n), kept inside the spectrum
  int64_t cut = static_cast<int64_t>((1.0 - band) * static_cast<double>(n));
  cut = std::min(std::max<int64_t>(cut, 0), n - 1);
  const at::Tensor total = energies.sum(-1);
  const at::Tensor high = energies.narrow(-1, cut, n - cut).sum(-1);
  return at::where(total > 0, high / total, at::zeros_like(total));
}

at::Tensor fiedler_value(const at::Tensor& eigenvalues) {
  if (eigenvalues.size(-1) < 2) return at::zeros(eigenvalues.sizes().slice(0, eigenvalues.dim() - 1), eigenvalues.options());
  return eigenvalues.select(-1, 1);
}

Features compute_features(const at::Tensor& w_in, const at::Tensor& x_in, const FeatureOptions& o) {
  if (w_in.dim() < 2 || x_in.dim() < 2 || w_in.size(-1) != w_in.size(-2) || x_in.size(-2) != w_in.size(-1))
    fail("compute_features: expected w [..., N, N] and x [..., N, D], got ", w_in.sizes(), " and ", x_in.sizes());
  const at::Tensor w = w_in.to(o.dtype), x = x_in.to(o.dtype);
  const Eigen eig = decompose(w, o.laplacian);
  const at::Tensor e = spectral_energies(eig, x, o.laplacian);
  const at::Tensor energy = dirichlet_energy(w, x, o.laplacian);
  const at::Tensor norm = x.square().sum({-2, -1});
  const at::Tensor smooth = at::where(norm > 0, energy / norm, at::zeros_like(energy));
  Features f;
  // order = Metric: fiedler, energy, smoothness, entropy, hfer
  f.values = at::stack({fiedler_value(eig.values), energy, smooth, spectral_entropy(e),
                        high_frequency_energy_ratio(e, o.hfer_band)}, -1);
  f.eigenvalues = eig.values;
  return f;
}

}  // namespace rs::spectral
