// Turning per-row spectral features into a verdict (METHODS.md section 1, step 6 and the fixes):
// per candidate score (one (layer, metric) column) the effect size, AUROC, Mann-Whitney p and
// the in-sample best single threshold (the paper's number); the selection procedure (k-fold
// CV accuracy of a threshold fitted on the training folds, best candidate wins, threshold then
// refitted on all rows); and its nested cross-validated accuracy (Varma & Simon 2006), the
// number we headline. Labels: 1 = valid, 0 = invalid. Built on rs::stats only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/threshold.h"

namespace rs::spectral {

struct ScoreStats {
  double cohens_d = 0;   // (mean valid - mean invalid) / pooled SD
  double auroc = 0;      // AUROC of the score oriented by `direction` (>= 0.5 unless they disagree)
  double auroc_raw = 0;  // P(score of a valid row > score of an invalid row), ties 1/2
  double mw_p = 0;       // two-sided Mann-Whitney U p-value (tie-corrected, continuity)
  stats::ThresholdClassifier best;  // in-sample best threshold and direction
};
// Errors (rs::Error): lengths differ, NaN, labels not 0/1, fewer than 2 rows of either class.
ScoreStats score_stats(const std::vector<double>& score, const std::vector<int>& labels);

const char* direction_name(stats::ThresholdDirection d);          // "greater" | "less"
stats::ThresholdDirection parse_direction(const std::string& s);  // throws rs::Error

struct Selection {
  size_t chosen = 0;                    // candidate index
  double cv_accuracy = 0;               // its mean k-fold accuracy on the rows given
  stats::ThresholdClassifier fitted;    // threshold refitted on all rows given
};
// candidates[c][i]: candidate c's score of row i. Ties go to the lower candidate index.
Selection select_candidate(const std::vector<std::vector<double>>& candidates,
                           const std::vector<int>& labels, int folds, uint64_t seed);

struct NestedAccuracy {
  double mean = 0;                   // mean of the outer folds' accuracies
  double std = 0;                    // their sample standard deviation (ddof 1)
  double pooled = 0;                 // held-out rows correct / all rows
  std::vector<double> fold_accuracy;
  std::vector<size_t> fold_chosen;   // candidate picked in each outer fold
};
// Outer stratified k-fold for scoring; on each training part the inner k-fold selection of
// select_candidate picks the candidate and its threshold. `folds` for both levels.
NestedAccuracy nested_accuracy(const std::vector<std::vector<double>>& candidates,
                               const std::vector<int>& labels, int folds, uint64_t seed);

// A baseline's single-threshold rule frozen with the detector, so applying the calibration
// judges token count and log-prob with thresholds fitted on the same calibration rows.
struct BaselineRule {
  std::string name;                   // "token_count" | "mean_logprob"
  stats::ThresholdDirection direction = stats::ThresholdDirection::Greater;
  double threshold = 0;
  int predict(double score) const {
    return direction == stats::ThresholdDirection::Greater ? score > threshold : score < threshold;
  }
};

// The frozen detector saved by --save-calibration and applied by --calibration.
struct Detector {
  int layer = 0;
  std::string metric;                 // features.h metric_name
  stats::ThresholdDirection direction = stats::ThresholdDirection::Greater;
  double threshold = 0;
  std::string laplacian = "rw";
  double hfer_band = 0.1;
  int64_t max_tokens = 512;
  std::string maths_dtype = "f64";    // precision the features were computed in
  nlohmann::json model;               // identity of the model it was calibrated on
  std::vector<BaselineRule> baselines;  // empty in files written before they were saved
  int predict(double score) const {
    return direction == stats::ThresholdDirection::Greater ? score > threshold : score < threshold;
  }
};
nlohmann::json detector_to_json(const Detector& d);
// Throws rs::Error naming `where` and the field when something is missing or of the wrong type.
Detector detector_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace rs::spectral
