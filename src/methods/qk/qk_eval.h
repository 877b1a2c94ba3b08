// QK-score evaluation: accuracies of every judge on the held-out rows (right under both option
// orders), paired bootstrap intervals of the gaps between the QK judges and the model's own
// answer, the breakdown by reasoning depth, and one output row per example.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "methods/qk/qk_data.h"
#include "methods/qk/qk_judge.h"

namespace rs::qk {

struct EvalOptions {
  int64_t n_top_heads = 10;   // rows of summary top_heads
  int n_resamples = 9999;     // bootstrap
  uint64_t seed = 0;
};

struct Evaluation {
  // summary.json numbers (keys in the README): n_calib, n_test, head_accuracy_calib/test,
  // top_heads, top1_test_accuracy, ensemble_test_accuracy, baseline_*_accuracy, by_hops,
  // order_consistency, ci, gaps, ... (null where there are no labels)
  nlohmann::json summary;
  std::vector<nlohmann::json> examples;  // one per input row, in file order
  // For the report: raw scores of the answer vs the other options on the labelled test rows
  // (both orders), for the best few heads.
  struct Distribution {
    HeadRef head;
    std::vector<double> right, wrong;
  };
  std::vector<Distribution> distributions;
};

// calib_rows empty: the judge was loaded (--heads), every row is evaluated ("apply").
Evaluation evaluate(const JudgeScores& js, const std::vector<Example>& examples, const SavedHeads& s,
                    const std::vector<int64_t>& calib_rows, const EvalOptions& o);

}  // namespace rs::qk
