// From per-row features to the numbers of summary.json (METHODS.md section 1, fixed protocol):
// per (layer, metric) Cohen's d, AUROC, Mann-Whitney p, in-sample best threshold; the selected
// detector and the nested cross-validated accuracy of the whole selection procedure; the same for
// the two baselines (token count, mean token log-probability); the partial correlation of the
// selected metric with the label given length; a breakdown by group (e.g. corruption kind).
// No model, no files: the command feeds it and writes what it returns.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "methods/spectral/detector.h"
#include "methods/spectral/features.h"

namespace rs::spectral {

struct AnalysisInput {
  std::vector<int> layers;                     // model layer of each feature block
  std::vector<std::vector<double>> features;   // [row][layer_index * kNumMetrics + metric]
  std::vector<double> token_count, mean_logprob;
  std::vector<int> labels;                     // 1 valid, 0 invalid (one per row)
  std::vector<std::string> group;              // per row, "" = none (optional; e.g. corruption)
  int folds = 5;
  uint64_t seed = 0;
};

struct Analysis {
  nlohmann::json summary;       // per_layer_metric, selected, in_sample_best, nested_cv_accuracy,
                                // baselines, partial_correlation_given_length[_and_logprob],
                                // by_group (when groups are given)
  Detector detector;            // layer, metric, direction, threshold (the rest: the caller's)
  size_t layer_index = 0;       // index into AnalysisInput::layers
  Metric metric = Metric::Hfer;
  std::vector<double> score;    // the selected feature of every row
  std::vector<int> prediction;  // detector applied to every row
  std::vector<double> cohens_d; // [layer_index * kNumMetrics + metric] (for the report)
};

// Throws rs::Error when a class has fewer than 2 rows (nothing to select on) or folds < 2.
Analysis analyse_labelled(const AnalysisInput& in);

// A frozen detector on labelled rows: {n, accuracy, auroc, cohens_d} (auroc of the score oriented
// by the detector's direction; null with one class; cohens_d null with fewer than 2 of a class).
nlohmann::json evaluate_frozen(const Detector& d, const std::vector<double>& score,
                               const std::vector<int>& labels);

// The calibration's baseline rules (Detector::baselines) on the same labelled rows:
// {token_count, mean_logprob} each {n, accuracy, auroc (oriented by its direction), cohens_d,
// direction, threshold, threshold_source}. threshold_source "calibration": frozen from the file;
// "in_sample": the file has none (older files), so the best rule on these rows is used.
nlohmann::json evaluate_frozen_baselines(const Detector& d, const std::vector<double>& token_count,
                                         const std::vector<double>& mean_logprob,
                                         const std::vector<int>& labels);

// Per group g: the valid rows against the invalid rows of group g (n_valid, n_invalid,
// accuracy of `predict`, oriented AUROC of score and of the two baselines).
nlohmann::json group_breakdown(const Detector& d, const std::vector<double>& score,
                               const std::vector<int>& labels, const std::vector<std::string>& group,
                               const std::vector<double>& token_count,
                               const std::vector<double>& mean_logprob);

}  // namespace rs::spectral
