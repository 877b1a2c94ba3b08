#include "stats/pca.h"

#include <ATen/ATen.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "stats/tensor_describe.h"

namespace rs::stats {

PcaResult pca(const at::Tensor& x, int64_t n_components) {
  if (x.dim() != 2 || !x.is_floating_point())
    fail("stats::pca: x has ", detail::describe(x),
         "; expected a 2-D floating tensor [n, d]");
  const int64_t n = x.size(0), d = x.size(1);
  if (n < 2) fail("stats::pca: x has ", n, " rows; expected at least 2");
  if (n_components < 1 || n_components > std::min(n, d))
    fail("stats::pca: n_components=", n_components, " for x of shape [", n, ", ", d,
         "]; expected 1 <= k <= min(n, d)");
  // Shapes: xc [n, d]; U [n, r]; S [r]; Vh [r, d], r = min(n, d).
  const at::Tensor xd = x.to(at::kDouble);
  PcaResult out;
  out.mean = xd.mean(0);
  const at::Tensor xc = xd - out.mean;
  at::Tensor u, s, vh;
  std::tie(u, s, vh) = at::linalg_svd(xc, /*full_matrices=*/false);
  at::Tensor components = vh.slice(0, 0, n_components).clone();
  // Sign: make the largest-|value| entry of each row positive (decided on the CPU so that
  // argmax's tie rule is the same on every device: first index).
  const at::Tensor cpu = components.cpu();
  auto acc = cpu.accessor<double, 2>();
  std::vector<double> signs(static_cast<size_t>(n_components), 1.0);
  for (int64_t i = 0; i < n_components; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < d; ++j)
      if (std::abs(acc[i][j]) > std::abs(acc[i][best])) best = j;
    if (acc[i][best] < 0) signs[static_cast<size_t>(i)] = -1.0;
  }
  const at::Tensor sign_tensor =
      at::tensor(signs, at::TensorOptions().dtype(at::kDouble)).to(x.device()).unsqueeze(1);
  out.components = components * sign_tensor;
  const at::Tensor s2 = s * s;
  out.singular_values = s.slice(0, 0, n_components);
  out.explained_variance = s2.slice(0, 0, n_components) / static_cast<double>(n - 1);
  out.explained_variance_ratio = s2.slice(0, 0, n_components) / s2.sum();
  return out;
}

at::Tensor pca_transform(const PcaResult& fit, const at::Tensor& x) {
  if (x.dim() != 2 || x.size(1) != fit.mean.size(0))
    fail("stats::pca_transform: x has ", detail::describe(x), "; expected [n, ", fit.mean.size(0), "]");
  return (x.to(at::kDouble).to(fit.mean.device()) - fit.mean).matmul(fit.components.t());
}

}  // namespace rs::stats
