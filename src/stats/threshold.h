// Best single-threshold classifier of binary labels from one score, in either direction: the
// rule METHODS.md section 1 applies per (layer, metric) (e.g. "valid if HFER < t").
#pragma once
#include <cstddef>
#include <vector>

namespace rs::stats {

enum class ThresholdDirection {
  Greater,  // predict 1 when score > threshold
  Less,     // predict 1 when score < threshold
};

struct ThresholdClassifier {
  double threshold = 0;  // -inf (everything on one side) or a midpoint between two scores
  ThresholdDirection direction = ThresholdDirection::Greater;
  size_t correct = 0;    // training rows classified correctly
  double accuracy = 0;   // correct / n
  int predict(double score) const {
    return direction == ThresholdDirection::Greater ? score > threshold : score < threshold;
  }
};

// Candidate thresholds: -inf and the midpoints (a + b) / 2 between consecutive distinct scores;
// with both directions these reach every split of the sorted scores (+inf is the same rule as
// -inf in the other direction). Tie-breaking, deterministic: most correct, then Greater before
// Less, then the smaller threshold. O(n log n).
// Errors: empty, lengths differ, NaN, labels not 0/1. One class is allowed (accuracy 1 by
// predicting it everywhere).
ThresholdClassifier best_threshold(const std::vector<double>& scores,
                                   const std::vector<int>& labels);

// Accuracy of a fitted classifier on (scores, labels).
double threshold_accuracy(const ThresholdClassifier& c, const std::vector<double>& scores,
                          const std::vector<int>& labels);

}  // namespace rs::stats
