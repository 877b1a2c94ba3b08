// The CREME weight update (Li et al. 2024, arXiv 2402.14328, section 5; the closed form of
// ROME-style rank-one editing with an identity key covariance): change a linear map W [out, in]
// as little as possible (rank one, along k) so that it sends the key k to the target t:
//   W' = W + (t - W k) k^T / (k^T k)
// Then W' k = t exactly, and W' v = W v for every v orthogonal to k.
#pragma once
#include <ATen/ATen.h>

namespace rs::lens {

// W [out, in], k [in], t [out] -> the delta (t - W k) k^T / |k|^2, [out, in], in W's dtype
// (computed in f64 on W's device). Throws rs::Error for mismatched shapes or k = 0.
at::Tensor rank_one_delta(const at::Tensor& W, const at::Tensor& k, const at::Tensor& t);

}  // namespace rs::lens
