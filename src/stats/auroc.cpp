#include "stats/auroc.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "stats/checks.h"

namespace rs::stats {

double auroc(const std::vector<double>& scores, const std::vector<int>& labels) {
  const char* fn = "auroc";
  detail::require_nonempty(fn, "scores", scores.size());
  detail::require_same_length(fn, "scores", scores.size(), "labels", labels.size());
  detail::require_no_nan(fn, "scores", scores);
  const size_t n = scores.size();
  const size_t positives = detail::require_binary_labels(fn, "labels", labels);
  if (positives == 0 || positives == n) return std::numeric_limits<double>::quiet_NaN();

  std::vector<std::pair<double, int>> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = {scores[i], labels[i]};
  std::sort(sorted.begin(), sorted.end());
  // U = sum over positives of (#negatives below + half the negatives tied with it). All terms
  // are multiples of 1/2 below 2^52, so the double sum is exact.
  double u = 0, negatives_below = 0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    double pos_here = 0, neg_here = 0;
    while (end < n && sorted[end].first == sorted[start].first) {
      (sorted[end].second ? pos_here : neg_here) += 1;
      ++end;
    }
    u += pos_here * (negatives_below + 0.5 * neg_here);
    negatives_below += neg_here;
    start = end;
  }
  const double negatives = static_cast<double>(n - positives);
  return u / (static_cast<double>(positives) * negatives);
}

}  // namespace rs::stats
