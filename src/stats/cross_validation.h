// Stratified k-fold splits and nested cross-validation (Varma & Simon 2006: selecting a model on
// the same data that scores it is optimistically biased; METHODS.md section 1 headlines the
// nested estimate).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "stats/threshold.h"

namespace rs::stats {

struct Fold {
  std::vector<size_t> train;  // ascending row indices
  std::vector<size_t> test;   // ascending row indices
};

// Fold assignment with sklearn.model_selection.StratifiedKFold's allocation: classes are
// numbered by first appearance; fold f receives, of each class, the count that a round robin
// over the class-sorted labels deals it; without shuffling each class's rows fill folds
// 0, 1, ... in row order (so shuffle=false matches sklearn exactly). With shuffle the per-class
// fold sequence is permuted by a seeded Fisher-Yates (SplitMix64), not sklearn's RNG.
// Errors: k < 2, k > n, k larger than every class's count (as sklearn). k larger than the
// smallest class is allowed (sklearn warns): some test folds then lack that class.
std::vector<int> stratified_fold_of_rows(const std::vector<int>& labels, int k, bool shuffle,
                                         uint64_t seed);
std::vector<Fold> stratified_k_fold(const std::vector<int>& labels, int k, bool shuffle = true,
                                    uint64_t seed = 0);

struct NestedCvOptions {
  int outer_folds = 5;
  int inner_folds = 5;
  bool shuffle = true;
  uint64_t seed = 0;  // outer split uses seed; inner split of outer fold f uses seed + 1 + f
};

struct NestedCvFold {
  size_t chosen = 0;         // candidate picked on this fold's training rows
  double inner_score = 0;    // its mean score over the inner folds
  double outer_score = 0;    // its score on this fold's held-out rows
  std::vector<size_t> test;  // the held-out rows
};

struct NestedCvResult {
  std::vector<NestedCvFold> folds;
  double mean_outer_score = 0;  // mean over outer folds
};

// evaluate(candidate, train_rows, test_rows): fit `candidate` on train_rows, return its score
// on test_rows (higher is better). Inner selection: mean score over the inner folds of the outer
// training rows; ties go to the lower candidate index. The chosen candidate is then evaluated on
// (all outer training rows, outer test rows).
using CandidateEvaluator = std::function<double(
    size_t candidate, const std::vector<size_t>& train, const std::vector<size_t>& test)>;
NestedCvResult nested_cross_validate(const std::vector<int>& labels, size_t n_candidates,
                                     const CandidateEvaluator& evaluate,
                                     const NestedCvOptions& options);

// METHODS.md section 1: candidates are feature rows (e.g. one per (layer, metric)); each is
// fitted by best_threshold (threshold and direction) on training rows and scored by accuracy.
struct NestedThresholdResult {
  NestedCvResult cv;
  std::vector<ThresholdClassifier> fitted;  // per outer fold, fitted on its training rows
  double pooled_accuracy = 0;               // held-out rows correct / all rows
};
NestedThresholdResult nested_cv_threshold(const std::vector<std::vector<double>>& features,
                                          const std::vector<int>& labels,
                                          const NestedCvOptions& options);

}  // namespace rs::stats
