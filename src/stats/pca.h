// Principal component analysis by the thin SVD of the centred data (Jolliffe 2002, sec. 3.5),
// computed in float64 on the input's device. Matches sklearn.decomposition.PCA's
// components_, explained_variance_ (S^2 / (n - 1)) and explained_variance_ratio_ (S^2 / sum S^2).
// Sign convention (deterministic, as sklearn >= 1.5's svd_flip on Vt): each component's entry of
// largest absolute value is positive; on an exact tie in |value| the first such entry decides.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace rs::stats {

struct PcaResult {
  at::Tensor components;                // [k, d] float64, orthonormal rows
  at::Tensor explained_variance;        // [k]
  at::Tensor explained_variance_ratio;  // [k]
  at::Tensor singular_values;           // [k]
  at::Tensor mean;                      // [d]
};

// x: [n, d] floating, n >= 2; 1 <= n_components <= min(n, d). Errors otherwise.
PcaResult pca(const at::Tensor& x, int64_t n_components);

// Projections (x - mean) components^T: [n, k] float64.
at::Tensor pca_transform(const PcaResult& fit, const at::Tensor& x);

}  // namespace rs::stats
