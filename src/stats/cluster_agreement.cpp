#include "stats/cluster_agreement.h"

#include <cfloat>
#include <cmath>
#include <map>
#include <utility>

#include "stats/checks.h"

namespace rs::stats {
namespace {

struct Contingency {
  std::map<std::pair<int64_t, int64_t>, double> cells;  // nonzero n_ij
  std::map<int64_t, double> rows, cols;                 // a_i, b_j
  double n = 0;
};

Contingency contingency(const char* fn, const std::vector<int64_t>& a,
                        const std::vector<int64_t>& b) {
  detail::require_nonempty(fn, "labels_true", a.size());
  detail::require_same_length(fn, "labels_true", a.size(), "labels_pred", b.size());
  Contingency c;
  for (size_t i = 0; i < a.size(); ++i) {
    c.cells[{a[i], b[i]}] += 1;
    c.rows[a[i]] += 1;
    c.cols[b[i]] += 1;
  }
  c.n = static_cast<double>(a.size());
  return c;
}

// Entropy of a labelling from its counts (nats).
double entropy(const std::map<int64_t, double>& counts, double n) {
  double h = 0;
  for (const auto& kv : counts) h -= kv.second / n * (std::log(kv.second) - std::log(n));
  return h;
}

}  // namespace

double adjusted_rand_index(const std::vector<int64_t>& labels_true,
                           const std::vector<int64_t>& labels_pred) {
  const Contingency c = contingency("adjusted_rand_index", labels_true, labels_pred);
  // Ordered pair counts (sklearn.metrics.cluster.pair_confusion_matrix); all integers < 2^53
  // for n below ~6.7e7, so exact in double.
  double sum_squares = 0, row_squares = 0, col_squares = 0;
  for (const auto& kv : c.cells) sum_squares += kv.second * kv.second;
  for (const auto& kv : c.rows) row_squares += kv.second * kv.second;
  for (const auto& kv : c.cols) col_squares += kv.second * kv.second;
  const double tp = sum_squares - c.n;
  const double fp = row_squares - sum_squares;  // same true class, different predicted cluster
  const double fn = col_squares - sum_squares;  // same predicted cluster, different true class
  const double tn = c.n * c.n - fp - fn - sum_squares;
  if (fn == 0 && fp == 0) return 1.0;
  return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

double normalized_mutual_information(const std::vector<int64_t>& labels_true,
                                     const std::vector<int64_t>& labels_pred) {
  const Contingency c = contingency("normalized_mutual_information", labels_true, labels_pred);
  if (c.rows.size() == 1 && c.cols.size() == 1) return 1.0;  // both unsplit: a perfect match
  double mi = 0;
  for (const auto& kv : c.cells) {
    const double nij = kv.second;
    const double ai = c.rows.at(kv.first.first), bj = c.cols.at(kv.first.second);
    // n_ij/N * log(N n_ij / (a_i b_j))
    double term = nij / c.n * (std::log(nij) + std::log(c.n) - std::log(ai) - std::log(bj));
    // sklearn zeroes terms below machine epsilon, so exact independence gives MI = 0.
    if (std::fabs(term) < DBL_EPSILON) term = 0;
    mi += term;
  }
  if (mi <= 0) return 0.0;
  const double normaliser = (entropy(c.rows, c.n) + entropy(c.cols, c.n)) / 2;
  return mi / normaliser;
}

}  // namespace rs::stats
