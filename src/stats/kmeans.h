// k-means (Lloyd 1982) with greedy k-means++ seeding (Arthur & Vassilvitskii 2007; the greedy
// variant tries 2 + floor(ln k) candidates per step and keeps the one that lowers the potential
// most, as sklearn does), restarted several times, keeping the lowest inertia. Distances are
// ||x||^2 - 2 x.c + ||c||^2 by matmul, on the input's device and dtype.
// All restarts run side by side: each seeding step and each Lloyd step is one matmul against the
// centres of every restart still running, so the data are read once per step rather than once
// per step and restart (the data matrix is what costs: 10,000 x 576 floats is 23 MB).
// Deterministic for a seed: restart r draws from its own SplitMix64 stream, seeded with the r-th
// output of SplitMix64(seed), so restart r is the same run whatever the number of restarts.
// Bitwise reproducible for a given seed, device and thread count (BLAS summation order depends
// on the thread count; on CUDA, index_add_ uses atomics, so centres may differ in the last bits).
// Thread count is the caller's (at::set_num_threads).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace rs::stats {

struct KMeansOptions {
  int64_t k = 8;
  int restarts = 10;
  int max_iter = 300;
  // Stop when the total squared centre shift is <= tol * mean per-feature variance (sklearn's
  // relative tolerance), or when the assignment stops changing.
  double tol = 1e-4;
  uint64_t seed = 0;
};

struct KMeansResult {
  std::vector<int64_t> labels;  // [n] cluster of each row, in 0..k-1
  at::Tensor centers;           // [k, d] same dtype/device as the input (float32 or float64)
  double inertia = 0;           // sum of squared distances to the assigned centre
  int iterations = 0;           // Lloyd iterations of the best restart
  int best_restart = 0;         // ties in inertia go to the earlier restart
};

// x: [n, d] floating (float16/bfloat16 are computed in float32). Errors: not 2-D, k < 1,
// k > n, restarts < 1, max_iter < 1.
KMeansResult kmeans(const at::Tensor& x, const KMeansOptions& options);

}  // namespace rs::stats
