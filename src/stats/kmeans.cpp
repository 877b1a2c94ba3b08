#include "stats/kmeans.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "stats/rng.h"
#include "stats/tensor_describe.h"

namespace rs::stats {
namespace {

// Squared distances [n, m] between rows of x [n, d] (with x_sq [n] = ||x||^2) and c [m, d].
at::Tensor squared_distances(const at::Tensor& x, const at::Tensor& x_sq, const at::Tensor& c) {
  const at::Tensor c_sq = (c * c).sum(1);
  return at::addmm(x_sq.unsqueeze(1) + c_sq.unsqueeze(0), x, c.t(), /*beta=*/1, /*alpha=*/-2)
      .clamp_min_(0);
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor cpu = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

at::Tensor index_tensor(const std::vector<int64_t>& v, const at::Device& device) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(device);
}

// Index of the first cumulative weight exceeding r (searchsorted 'right'), clipped to n-1.
int64_t sample_by_weight(const std::vector<double>& cumulative, double r) {
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), r);
  return std::min<int64_t>(it - cumulative.begin(), static_cast<int64_t>(cumulative.size()) - 1);
}

// Greedy k-means++ for R restarts at once. Returns centres [R*k, d], restart r in rows r*k...
at::Tensor kmeans_plus_plus(const at::Tensor& x, const at::Tensor& x_sq, int64_t k,
                            std::vector<SplitMix64>& rngs) {
  const size_t n = static_cast<size_t>(x.size(0)), restarts = rngs.size();
  const size_t trials = 2 + static_cast<size_t>(std::log(static_cast<double>(k)));
  std::vector<std::vector<int64_t>> chosen(restarts);
  std::vector<int64_t> first(restarts);
  for (size_t r = 0; r < restarts; ++r) chosen[r].push_back(first[r] = static_cast<int64_t>(rngs[r].below(n)));
  // closest[r][i]: squared distance from row i to the nearest centre chosen so far in restart r.
  const std::vector<double> d0 =
      to_vector(squared_distances(x, x_sq, x.index_select(0, index_tensor(first, x.device()))).t());
  std::vector<std::vector<double>> closest(restarts);
  std::vector<double> potential(restarts, 0);
  for (size_t r = 0; r < restarts; ++r) {
    closest[r].assign(d0.begin() + static_cast<std::ptrdiff_t>(r * n), d0.begin() + static_cast<std::ptrdiff_t>((r + 1) * n));
    for (double v : closest[r]) potential[r] += v;
  }
  std::vector<double> cumulative(n);
  for (int64_t c = 1; c < k; ++c) {
    std::vector<int64_t> candidates;  // restart-major: restart r's trials at r*trials...
    for (size_t r = 0; r < restarts; ++r) {
      std::partial_sum(closest[r].begin(), closest[r].end(), cumulative.begin());
      for (size_t t = 0; t < trials; ++t)
        candidates.push_back(sample_by_weight(cumulative, rngs[r].uniform() * potential[r]));
    }
    // [R*trials, n] distances from every row to every candidate: one pass over x.
    const std::vector<double> d = to_vector(
        squared_distances(x, x_sq, x.index_select(0, index_tensor(candidates, x.device()))).t());
    for (size_t r = 0; r < restarts; ++r) {
      double best_potential = std::numeric_limits<double>::infinity();
      size_t best = 0;
      for (size_t t = 0; t < trials; ++t) {
        const double* dt = d.data() + (r * trials + t) * n;
        double p = 0;
        for (size_t i = 0; i < n; ++i) p += std::min(closest[r][i], dt[i]);
        if (p < best_potential) best_potential = p, best = t;
      }
      const double* db = d.data() + (r * trials + best) * n;
      for (size_t i = 0; i < n; ++i) closest[r][i] = std::min(closest[r][i], db[i]);
      potential[r] = best_potential;
      chosen[r].push_back(candidates[r * trials + best]);
    }
  }
  std::vector<int64_t> all;
  for (const auto& c : chosen) all.insert(all.end(), c.begin(), c.end());
  return x.index_select(0, index_tensor(all, x.device())).clone();
}

struct BatchedLloyd {
  at::Tensor centers;                // [R*k, d]
  std::vector<int> iterations;       // per restart
};

// Lloyd iterations for R restarts side by side; a restart stops (its centres freeze) when its
// assignment no longer changes or its total squared centre shift is <= tol_abs. Each iteration
// computes distances only to the centres of restarts still running, in one matmul.
BatchedLloyd lloyd(const at::Tensor& x, const at::Tensor& x_sq, at::Tensor centers, int64_t k,
                   int max_iter, double tol_abs) {
  const int64_t n = x.size(0), restarts = centers.size(0) / k;
  BatchedLloyd out;
  out.iterations.assign(static_cast<size_t>(restarts), 0);
  std::vector<at::Tensor> previous(static_cast<size_t>(restarts));  // [n] labels per restart
  std::vector<int64_t> active(static_cast<size_t>(restarts));
  std::iota(active.begin(), active.end(), int64_t{0});
  for (int it = 0; it < max_iter && !active.empty(); ++it) {
    const int64_t a = static_cast<int64_t>(active.size());
    std::vector<int64_t> rows;  // centre rows of the running restarts
    for (int64_t r : active)
      for (int64_t j = 0; j < k; ++j) rows.push_back(r * k + j);
    const at::Tensor live = centers.index_select(0, index_tensor(rows, x.device()));  // [a*k, d]
    const at::Tensor d2 = squared_distances(x, x_sq, live).view({n, a, k});
    const at::Tensor labels = d2.argmin(2);  // [n, a]
    std::vector<int64_t> still_active;
    for (int64_t i = 0; i < a; ++i) {
      const int64_t r = active[static_cast<size_t>(i)];
      out.iterations[static_cast<size_t>(r)] = it + 1;
      const at::Tensor lab = labels.select(1, i).contiguous();
      if (previous[static_cast<size_t>(r)].defined() && at::equal(lab, previous[static_cast<size_t>(r)]))
        continue;  // assignment stable: converged, centres unchanged
      previous[static_cast<size_t>(r)] = lab;
      // New centres: means of the assigned rows.
      at::Tensor sums = at::zeros({k, x.size(1)}, x.options()).index_add_(0, lab, x);
      at::Tensor counts = at::bincount(lab, {}, k).to(x.scalar_type());
      // Empty clusters take the rows farthest from their centres (largest first), as sklearn.
      const std::vector<double> counts_cpu = to_vector(counts);
      at::Tensor far;
      int64_t used = 0;
      for (int64_t j = 0; j < k; ++j) {
        if (counts_cpu[static_cast<size_t>(j)] != 0) continue;
        if (!far.defined())
          far = std::get<1>(at::sort(std::get<0>(d2.select(1, i).min(1)), /*stable=*/true, 0,
                                     /*descending=*/true)).cpu();
        sums[j] = x[far[used++].item<int64_t>()];
        counts[j] = 1;
      }
      const at::Tensor updated = sums / counts.unsqueeze(1);
      at::Tensor old = centers.narrow(0, r * k, k);
      const double shift = (updated - old).pow(2).sum().item<double>();
      old.copy_(updated);
      if (shift > tol_abs) still_active.push_back(r);
    }
    active = std::move(still_active);
  }
  out.centers = centers;
  return out;
}

}  // namespace

KMeansResult kmeans(const at::Tensor& x_in, const KMeansOptions& o) {
  if (x_in.dim() != 2 || !x_in.is_floating_point())
    fail("stats::kmeans: x has ", detail::describe(x_in),
         "; expected a 2-D floating tensor [n, d]");
  const int64_t n = x_in.size(0);
  if (o.k < 1 || o.k > n) fail("stats::kmeans: k=", o.k, " for ", n, " rows; expected 1 <= k <= n");
  if (o.restarts < 1) fail("stats::kmeans: restarts=", o.restarts, "; expected >= 1");
  if (o.max_iter < 1) fail("stats::kmeans: max_iter=", o.max_iter, "; expected >= 1");
  const at::ScalarType dtype = x_in.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor x = x_in.to(dtype).contiguous();
  const at::Tensor x_sq = (x * x).sum(1);
  // Mean per-feature variance = (sum ||x_i||^2 / n - ||column means||^2) / d; the column sums
  // by a [1, n] x [n, d] matmul (a column reduction over x is several times slower on CPU).
  const at::Tensor column_means = at::ones({1, n}, x.options()).mm(x).to(at::kDouble) / n;
  const double mean_variance =
      (x_sq.to(at::kDouble).sum().item<double>() / n - column_means.pow(2).sum().item<double>()) /
      static_cast<double>(x.size(1));
  const double tol_abs = o.tol * std::max(mean_variance, 0.0);
  SplitMix64 seeder(o.seed);
  std::vector<SplitMix64> rngs;
  for (int r = 0; r < o.restarts; ++r) rngs.emplace_back(seeder.next());

  const BatchedLloyd run = lloyd(x, x_sq, kmeans_plus_plus(x, x_sq, o.k, rngs), o.k, o.max_iter, tol_abs);
  // Final assignment and inertia of every restart's centres; keep the lowest inertia.
  const auto min_and_arg = squared_distances(x, x_sq, run.centers).view({n, o.restarts, o.k}).min(2);
  const std::vector<double> inertia = to_vector(std::get<0>(min_and_arg).to(at::kDouble).sum(0));
  const int best = static_cast<int>(std::min_element(inertia.begin(), inertia.end()) - inertia.begin());
  KMeansResult out;
  out.best_restart = best;
  out.inertia = inertia[static_cast<size_t>(best)];
  out.iterations = run.iterations[static_cast<size_t>(best)];
  out.centers = run.centers.narrow(0, best * o.k, o.k).clone();
  const at::Tensor labels = std::get<1>(min_and_arg).select(1, best).to(at::kCPU).contiguous();
  out.labels.assign(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  return out;
}

}  // namespace rs::stats
