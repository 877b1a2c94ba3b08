// Benchmark of the stats layer on the sizes the methods use (issue 4, acceptance 5):
//   AUROC and Mann-Whitney U on 10^6 scores (target < 0.5 s each),
//   k-means on 10,000 x 576 (k = 8, 10 restarts, 2 threads; target < 5 s).
// Each timing is printed with a baseline measured in the same run (sorting the 10^6 scores;
// one distance matmul of the k-means size) so numbers from different machines can be compared.
// Run: build/bench/bench_stats [--threads N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <functional>
#include <vector>

#include "stats/auroc.h"
#include "stats/cluster_agreement.h"
#include "stats/kmeans.h"
#include "stats/mann_whitney.h"
#include "stats/rng.h"

namespace {

using Clock = std::chrono::steady_clock;

// Best of `repeats` wall times in seconds (best-of filters noise from other processes).
double best_time(int repeats, const std::function<void()>& fn) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  at::set_num_threads(threads);
  std::printf("bench_stats: %d intra-op threads\n", at::get_num_threads());

  // 10^6 uniform scores, 30% positives shifted up by 0.5 (AUROC 0.875), no ties.
  const size_t n = 1000000;
  rs::stats::SplitMix64 rng(1);
  std::vector<double> scores(n), pos, neg;
  std::vector<int> labels(n);
  for (size_t i = 0; i < n; ++i) {
    labels[i] = rng.uniform() < 0.3;
    scores[i] = rng.uniform() + 0.5 * labels[i];
    (labels[i] ? pos : neg).push_back(scores[i]);
  }
  const double t_sort = best_time(3, [&] {
    std::vector<double> copy(scores);
    std::sort(copy.begin(), copy.end());
  });
  double auc = 0;
  const double t_auroc = best_time(3, [&] { auc = rs::stats::auroc(scores, labels); });
  rs::stats::MannWhitneyResult mw;
  const double t_mwu = best_time(3, [&] { mw = rs::stats::mann_whitney_u(pos, neg); });
  std::printf("baseline std::sort of 1e6 doubles: %.3f s\n", t_sort);
  std::printf("auroc 1e6 scores:           %.3f s (%.2fx sort)  auc=%.6f  target < 0.5 s: %s\n",
              t_auroc, t_auroc / t_sort, auc, t_auroc < 0.5 ? "met" : "MISSED");
  std::printf("mann_whitney_u 1e6 scores:  %.3f s (%.2fx sort)  U1=%.0f p=%.3g  target < 0.5 s: %s\n",
              t_mwu, t_mwu / t_sort, mw.u1, mw.p, t_mwu < 0.5 ? "met" : "MISSED");

  // 10,000 x 576 float32: 8 Gaussian blobs (unit noise, centres ~N(0, 1) per coordinate, so the
  // clusters overlap in a few directions but separate over 576), like hidden states by task.
  const int64_t rows = 10000, dim = 576, k = 8;
  at::manual_seed(0);
  const at::Tensor centres = at::randn({k, dim});
  const at::Tensor truth = at::randint(0, k, {rows}, at::TensorOptions().dtype(at::kLong));
  const at::Tensor x = centres.index_select(0, truth) + at::randn({rows, dim});
  const double t_matmul = best_time(3, [&] { (void)x.matmul(centres.t()).sum().item<float>(); });
  rs::stats::KMeansOptions opt;
  opt.k = k;
  opt.restarts = 10;
  opt.seed = 7;
  rs::stats::KMeansResult km;
  // Process CPU time too: on a shared machine the wall time includes waiting for a core.
  const std::clock_t cpu0 = std::clock();
  const double t_kmeans = best_time(2, [&] { km = rs::stats::kmeans(x, opt); });
  const double cpu_kmeans = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / 2;
  const std::vector<int64_t> truth_v(truth.data_ptr<int64_t>(), truth.data_ptr<int64_t>() + rows);
  std::printf("baseline one distance matmul [10000x576]x[576x8]: %.4f s\n", t_matmul);
  std::printf("kmeans 10000x576 k=8 restarts=10: %.3f s wall, %.3f s CPU per run (%.0fx matmul)  "
              "inertia=%.1f iters=%d ARI=%.4f  target < 5 s: %s\n",
              t_kmeans, cpu_kmeans, t_kmeans / t_matmul, km.inertia, km.iterations,
              rs::stats::adjusted_rand_index(truth_v, km.labels), t_kmeans < 5 ? "met" : "MISSED");
  return 0;
}
