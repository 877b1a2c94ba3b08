#include "methods/lens/rank_one.h"

#include "core/error.h"

namespace rs::lens {

at::Tensor rank_one_delta(const at::Tensor& W, const at::Tensor& k, const at::Tensor& t) {
  if (W.dim() != 2 || k.dim() != 1 || t.dim() != 1 || k.size(0) != W.size(1) || t.size(0) != W.size(0))
    fail("rank-one update: expected W [out, in], k [in], t [out]; got W ", W.sizes(), ", k ",
         k.sizes(), ", t ", t.sizes());
  const at::Tensor W64 = W.to(at::kDouble);
  const at::Tensor k64 = k.to(W.device(), at::kDouble), t64 = t.to(W.device(), at::kDouble);
  const double kk = k64.dot(k64).item<double>();
  if (!(kk > 0)) fail("rank-one update: the key vector is zero (or not finite)");
  // residual r = t - W k;  delta = r k^T / (k^T k)
  const at::Tensor r = t64 - at::mv(W64, k64);
  return (at::outer(r, k64) / kk).to(W.scalar_type());
}

}  // namespace rs::lens
