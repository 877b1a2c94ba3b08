#include "stats/silhouette.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/error.h"
#include "stats/tensor_describe.h"

namespace rs::stats {

double silhouette_score(const at::Tensor& x_in, const std::vector<int64_t>& labels) {
  if (x_in.dim() != 2 || !x_in.is_floating_point())
    fail("stats::silhouette_score: x has ", detail::describe(x_in), "; expected a 2-D floating tensor");
  const int64_t n = x_in.size(0);
  if (static_cast<int64_t>(labels.size()) != n)
    fail("stats::silhouette_score: labels has ", labels.size(), " entries for ", n,
         " rows; expected equal");
  std::map<int64_t, int64_t> cluster_of_label;
  std::vector<int64_t> cluster(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    cluster[static_cast<size_t>(i)] =
        cluster_of_label.emplace(labels[static_cast<size_t>(i)], static_cast<int64_t>(cluster_of_label.size()))
            .first->second;
  const int64_t c = static_cast<int64_t>(cluster_of_label.size());
  if (c < 2 || c > n - 1)
    fail("stats::silhouette_score: ", c, " distinct labels for ", n,
         " rows; expected 2 <= labels <= rows - 1");
  std::vector<double> size(static_cast<size_t>(c), 0);
  for (int64_t k : cluster) size[static_cast<size_t>(k)] += 1;

  const at::Tensor x = x_in.to(at::kDouble).contiguous();
  const at::Tensor cluster_t = at::tensor(cluster, at::TensorOptions().dtype(at::kLong)).to(x.device());
  const at::Tensor one_hot = at::zeros({n, c}, x.options()).scatter_(1, cluster_t.unsqueeze(1), 1.0);
  const int64_t block = 1024;
  double total = 0;
  for (int64_t start = 0; start < n; start += block) {
    const int64_t len = std::min(block, n - start);
    // Shapes: dist [len, n]; sums [len, c] = distance from each row to every cluster.
    const at::Tensor dist = at::cdist(x.narrow(0, start, len), x, 2.0, /*donot_use_mm=*/2);
    const at::Tensor sums = dist.matmul(one_hot).cpu().contiguous();
    auto s = sums.accessor<double, 2>();
    for (int64_t r = 0; r < len; ++r) {
      const int64_t own = cluster[static_cast<size_t>(start + r)];
      const double own_size = size[static_cast<size_t>(own)];
      if (own_size <= 1) continue;  // singleton: s = 0
      const double a = s[r][own] / (own_size - 1);
      double b = std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < c; ++k)
        if (k != own) b = std::min(b, s[r][k] / size[static_cast<size_t>(k)]);
      const double denom = std::max(a, b);
      if (denom > 0) total += (b - a) / denom;
    }
  }
  return total / static_cast<double>(n);
}

}  // namespace rs::stats
