#include "stats/threshold.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "stats/checks.h"

namespace rs::stats {

ThresholdClassifier best_threshold(const std::vector<double>& scores,
                                   const std::vector<int>& labels) {
  const char* fn = "best_threshold";
  detail::require_nonempty(fn, "scores", scores.size());
  detail::require_same_length(fn, "scores", scores.size(), "labels", labels.size());
  detail::require_no_nan(fn, "scores", scores);
  const size_t n = scores.size();
  const size_t positives = detail::require_binary_labels(fn, "labels", labels);
  const size_t negatives = n - positives;

  std::vector<std::pair<double, int>> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = {scores[i], labels[i]};
  std::sort(sorted.begin(), sorted.end());

  // Split j: the first j distinct-value groups lie below the threshold. Greater predicts 1
  // above (correct = negatives below + positives above); Less predicts 1 below.
  ThresholdClassifier best_greater, best_less;
  best_greater.direction = ThresholdDirection::Greater;
  best_less.direction = ThresholdDirection::Less;
  best_greater.threshold = best_less.threshold = -std::numeric_limits<double>::infinity();
  best_greater.correct = positives;  // -inf, Greater: everything predicted 1
  best_less.correct = negatives;     // -inf, Less: everything predicted 0
  size_t pos_below = 0, neg_below = 0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    while (end < n && sorted[end].first == sorted[start].first) {
      (sorted[end].second ? pos_below : neg_below) += 1;
      ++end;
    }
    if (end == n) break;  // no split above the largest value (that is the -inf rule reversed)
    const double midpoint = (sorted[end - 1].first + sorted[end].first) / 2;
    const size_t greater_correct = neg_below + (positives - pos_below);
    const size_t less_correct = pos_below + (negatives - neg_below);
    // Strict '>' keeps the smaller threshold on ties.
    if (greater_correct > best_greater.correct) best_greater.correct = greater_correct, best_greater.threshold = midpoint;
    if (less_correct > best_less.correct) best_less.correct = less_correct, best_less.threshold = midpoint;
    start = end;
  }
  ThresholdClassifier best = best_less.correct > best_greater.correct ? best_less : best_greater;
  best.accuracy = static_cast<double>(best.correct) / static_cast<double>(n);
  return best;
}

double threshold_accuracy(const ThresholdClassifier& c, const std::vector<double>& scores,
                          const std::vector<int>& labels) {
  const char* fn = "threshold_accuracy";
  detail::require_nonempty(fn, "scores", scores.size());
  detail::require_same_length(fn, "scores", scores.size(), "labels", labels.size());
  detail::require_binary_labels(fn, "labels", labels);
  size_t correct = 0;
  for (size_t i = 0; i < scores.size(); ++i) correct += c.predict(scores[i]) == labels[i];
  return static_cast<double>(correct) / static_cast<double>(scores.size());
}

}  // namespace rs::stats
