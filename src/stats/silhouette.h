// Mean silhouette coefficient (Rousseeuw 1987) with euclidean distances, as
// sklearn.metrics.silhouette_score: s_i = (b_i - a_i) / max(a_i, b_i), a_i the mean distance to
// the other members of i's cluster, b_i the smallest mean distance to another cluster;
// s_i = 0 for a member of a singleton cluster, and 0 when a_i = b_i = 0.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace rs::stats {

// x: [n, d] floating (computed in float64, exact pairwise differences rather than the
// ||x||^2 - 2xy + ||y||^2 shortcut, in row blocks so memory stays O(block * n)).
// Errors: labels size != n, fewer than 2 or more than n - 1 distinct labels (as sklearn).
double silhouette_score(const at::Tensor& x, const std::vector<int64_t>& labels);

}  // namespace rs::stats
