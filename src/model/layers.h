// The small pure tensor functions the forward pass is built from. Each is differentiable
// (autograd) and device-agnostic; shapes in the comments.
#pragma once
#include <ATen/ATen.h>

namespace rs::layers {

// RMSNorm (Zhang & Sennrich 2019, arXiv 1910.07467): y = x / sqrt(mean(x^2) + eps) * w.
// Statistics in f32 whatever the input dtype (as the HF reference does); x [..., D], w [D].
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one = false);

// RoPE tables for position ids pos [B, T]: cos_full = cat(cos, cos), sin_signed = cat(-sin, sin),
// each [B, T, 1, n_rot] in `dtype`, times `scale` (lets the caller fold 1/sqrt(dh) into q).
struct RopeTables {
  at::Tensor cos_full, sin_signed;
};
RopeTables rope_tables(const at::Tensor& pos, const at::Tensor& inv_freq, at::ScalarType dtype,
                       double scale = 1.0);

// HF half-split rotation ("rotate_half", RoFormer eq. 34 with the pairs (i, i + n/2)):
//   out = x * cos_full + cat(x2, x1) * sin_signed   on the first n_rot dims; the rest pass through.
// x [B, T, N, dh] -> [B, T, N, dh].
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t);

// Additive attention bias [B or 1, 1, 1, T, K] (broadcasts over kv heads and the query group):
// 0 where query column past+i may see key column j (j <= past+i, key is real, and within the
// sliding window when window > 0), the dtype's lowest value elsewhere; a padding query sees
// only itself. key_mask [B, K] int64.
// Returns an undefined tensor when nothing is masked (a single new token, no padding).
at::Tensor attention_bias(const at::Tensor& key_mask, int64_t past, int64_t T, bool any_pad,
                          int64_t window, at::ScalarType dtype);

}  // namespace rs::layers
