#include "model/layers.h"

#include <limits>

namespace rs::layers {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& w, double eps, bool plus_one) {
  const bool reduced = x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble;
  const at::Tensor xf = reduced ? x.to(at::kFloat) : x;
  // mean(x^2) over the feature dim; rsqrt(. + eps)
  const at::Tensor inv_rms = at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true).add(eps));
  at::Tensor y = xf * inv_rms;
  if (reduced) y = y.to(x.scalar_type());
  return y * (plus_one ? w + 1 : w);
}

RopeTables rope_tables(const at::Tensor& pos, const at::Tensor& inv_freq, at::ScalarType dtype,
                       double scale) {
  // angle[b, t, i] = pos[b, t] * inv_freq[i]    [B, T, n_rot/2], f32 as in the HF reference
  const at::Tensor angle = pos.to(at::kFloat).unsqueeze(-1) * inv_freq.to(pos.device()).view({1, 1, -1});
  const at::Tensor c = angle.cos(), s = angle.sin();
  RopeTables t;
  t.cos_full = at::cat({c, c}, -1).unsqueeze(2);      // [B, T, 1, n_rot]
  t.sin_signed = at::cat({-s, s}, -1).unsqueeze(2);
  if (dtype != at::kFloat) {
    t.cos_full = t.cos_full.to(dtype);
    t.sin_signed = t.sin_signed.to(dtype);
  }
  if (scale != 1.0) {
    t.cos_full = t.cos_full * scale;
    t.sin_signed = t.sin_signed * scale;
  }
  return t;
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t) {
  const int64_t dh = x.size(-1), n_rot = t.cos_full.size(-1), half = n_rot / 2;
  const at::Tensor xr = n_rot == dh ? x : x.narrow(-1, 0, n_rot);
  // rotate_half without the sign: cat(x2, x1); the sign lives in sin_signed
  const at::Tensor swapped = at::cat({xr.narrow(-1, half, half), xr.narrow(-1, 0, half)}, -1);
  at::Tensor out = at::addcmul(xr * t.cos_full, swapped, t.sin_signed);
  if (n_rot != dh) out = at::cat({out, x.narrow(-1, n_rot, dh - n_rot)}, -1);
  return out;
}

at::Tensor attention_bias(const at::Tensor& key_mask, int64_t past, int64_t T, bool any_pad,
                          int64_t window, at::ScalarType dtype) {
  const int64_t K = past + T;
  if (T == 1 && !any_pad && (window <= 0 || K <= window)) return {};
  const auto dev = key_mask.device();
  const at::Tensor qcol = at::arange(past, past + T, at::TensorOptions().dtype(at::kLong).device(dev));
  const at::Tensor kcol = at::arange(0, K, at::TensorOptions().dtype(at::kLong).device(dev));
  // allowed[i, j] = j <= past + i (causal over absolute columns)
  at::Tensor allowed = kcol.unsqueeze(0) <= qcol.unsqueeze(1);            // [T, K]
  if (window > 0) allowed = allowed & (kcol.unsqueeze(0) > qcol.unsqueeze(1) - window);
  allowed = allowed.unsqueeze(0);                                          // [1, T, K]
  // Keys must be real; a query always sees itself, so a padding row attends only to itself and
  // never to later tokens (its value is garbage either way, but it stays local and finite).
  if (any_pad)
    allowed = (allowed & key_mask.to(at::kBool).unsqueeze(1)) | kcol.unsqueeze(0).eq(qcol.unsqueeze(1)).unsqueeze(0);  // [B, T, K]
  // Finite "minus infinity" (as the HF reference uses the dtype's minimum).
  const double lowest = dtype == at::kBFloat16 ? -3.38e38
                        : dtype == at::kHalf  ? -65504.0
                                              : static_cast<double>(std::numeric_limits<float>::lowest());
  at::Tensor bias = at::zeros(allowed.sizes(), at::TensorOptions().dtype(dtype).device(dev));
  bias.masked_fill_(allowed.logical_not(), lowest);
  return bias.unsqueeze(1).unsqueeze(1);                                   // [B|1, 1, 1, T, K]
}

}  // namespace rs::layers
