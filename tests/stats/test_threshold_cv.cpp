// Best single-threshold classifier (against a brute-force reference over the documented
// candidates and tie-breaking), stratified k-fold (against sklearn's StratifiedKFold without
// shuffling), and nested cross-validation behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "golden_cases.h"
#include "stats/cross_validation.h"
#include "stats/rng.h"
#include "stats/threshold.h"

namespace rs::stats {
namespace {

TEST(BestThreshold, MatchesBruteForceGolden) {
  for (const auto& c : golden::cases("best_threshold")) {
    golden::count_case("best_threshold");
    const auto scores = golden::doubles(c["scores"]);
    const auto labels = golden::ints(c["labels"]);
    const ThresholdClassifier fit = best_threshold(scores, labels);
    EXPECT_EQ(fit.correct, c["correct"].get<size_t>()) << c.dump();
    EXPECT_TRUE(golden::close("best_threshold", golden::num(c["accuracy"]), fit.accuracy));
    EXPECT_EQ(fit.direction == ThresholdDirection::Greater ? "greater" : "less",
              c["direction"].get<std::string>())
        << c.dump();
    EXPECT_TRUE(golden::close("best_threshold", golden::num(c["threshold"]), fit.threshold))
        << c.dump();
    EXPECT_DOUBLE_EQ(threshold_accuracy(fit, scores, labels), fit.accuracy);
  }
}

TEST(BestThreshold, DirectionAndErrors) {
  const ThresholdClassifier lower_is_positive = best_threshold({0.1, 0.2, 0.8, 0.9}, {1, 1, 0, 0});
  EXPECT_EQ(lower_is_positive.direction, ThresholdDirection::Less);
  EXPECT_DOUBLE_EQ(lower_is_positive.threshold, 0.5);
  EXPECT_EQ(lower_is_positive.correct, 4u);
  EXPECT_THROW(best_threshold({}, {}), rs::Error);
  EXPECT_THROW(best_threshold({1.0}, {2}), rs::Error);
  EXPECT_THROW(best_threshold({1.0, 2.0}, {1}), rs::Error);
}

TEST(StratifiedKFold, MatchesSklearnUnshuffled) {
  for (const auto& c : golden::cases("stratified_k_fold")) {
    golden::count_case("stratified_k_fold");
    const auto labels = golden::ints(c["labels"]);
    const int k = c["k"];
    if (golden::expects_error(c)) {
      EXPECT_THROW(stratified_fold_of_rows(labels, k, false, 0), rs::Error) << c.dump();
      continue;
    }
    EXPECT_EQ(stratified_fold_of_rows(labels, k, false, 0), golden::ints(c["fold_of_row"]))
        << c.dump();
  }
}

TEST(StratifiedKFold, ShuffledFoldsAreStratifiedPartitionsAndSeeded) {
  std::vector<int> labels(103);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = (i * 7) % 3 == 0;
  const auto folds = stratified_k_fold(labels, 5, true, 11);
  std::multiset<size_t> seen;
  for (const Fold& f : folds) {
    EXPECT_EQ(f.train.size() + f.test.size(), labels.size());
    seen.insert(f.test.begin(), f.test.end());
    size_t pos = 0;
    for (size_t i : f.test) pos += static_cast<size_t>(labels[i]);
    // Each fold holds 1/5 of each class, to within one.
    const size_t total_pos = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
    EXPECT_LE(std::abs(static_cast<double>(pos) - total_pos / 5.0), 1.0);
  }
  EXPECT_EQ(seen.size(), labels.size());
  EXPECT_EQ(std::set<size_t>(seen.begin(), seen.end()).size(), labels.size());
  EXPECT_EQ(stratified_fold_of_rows(labels, 5, true, 11), stratified_fold_of_rows(labels, 5, true, 11));
  EXPECT_NE(stratified_fold_of_rows(labels, 5, true, 11), stratified_fold_of_rows(labels, 5, true, 12));
}

// Labels and features: candidate 0 is informative, the others noise.
struct Synthetic {
  std::vector<int> labels;
  std::vector<std::vector<double>> features;
};

Synthetic make_synthetic(size_t n, size_t n_noise, double signal, uint64_t seed) {
  SplitMix64 g(seed);
  Synthetic s;
  s.features.assign(n_noise + 1, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    s.labels.push_back(static_cast<int>(g.below(2)));
    s.features[0][i] = g.uniform() - signal * s.labels[i];  // lower for positives
    for (size_t c = 1; c <= n_noise; ++c) s.features[c][i] = g.uniform();
  }
  return s;
}

TEST(NestedCv, PicksTheInformativeCandidate) {
  const Synthetic s = make_synthetic(120, 20, 0.8, 3);
  NestedCvOptions opt;
  opt.seed = 5;
  const NestedThresholdResult r = nested_cv_threshold(s.features, s.labels, opt);
  ASSERT_EQ(r.cv.folds.size(), 5u);
  for (size_t f = 0; f < r.cv.folds.size(); ++f) {
    EXPECT_EQ(r.cv.folds[f].chosen, 0u);
    EXPECT_EQ(r.fitted[f].direction, ThresholdDirection::Less);
  }
  EXPECT_GT(r.pooled_accuracy, 0.85);
  // Same seed, same answer.
  const NestedThresholdResult again = nested_cv_threshold(s.features, s.labels, opt);
  EXPECT_EQ(again.pooled_accuracy, r.pooled_accuracy);
  EXPECT_EQ(again.cv.mean_outer_score, r.cv.mean_outer_score);
}

TEST(NestedCv, NoSignalGivesChanceWhileInSampleSelectionIsOptimistic) {
  // 60 pure-noise candidates: the best in-sample threshold looks good, nested CV does not.
  const Synthetic s = make_synthetic(80, 60, 0.0, 9);
  double best_in_sample = 0;
  for (const auto& f : s.features) best_in_sample = std::max(best_in_sample, best_threshold(f, s.labels).accuracy);
  NestedCvOptions opt;
  const NestedThresholdResult r = nested_cv_threshold(s.features, s.labels, opt);
  EXPECT_GT(best_in_sample, 0.65);
  EXPECT_LT(r.pooled_accuracy, best_in_sample - 0.1);
}

TEST(NestedCv, CallbackSeesOnlyTrainingRowsDuringSelection) {
  std::vector<int> labels(40);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i % 2;
  NestedCvOptions opt;
  opt.outer_folds = 4;
  opt.inner_folds = 3;
  std::vector<std::set<size_t>> outer_tests;
  for (const Fold& f : stratified_k_fold(labels, 4, true, opt.seed))
    outer_tests.emplace_back(f.test.begin(), f.test.end());
  int calls = 0;
  const NestedCvResult r = nested_cross_validate(
      labels, 3,
      [&](size_t c, const std::vector<size_t>& train, const std::vector<size_t>& test) {
        ++calls;
        std::set<size_t> tr(train.begin(), train.end());
        for (size_t i : test) EXPECT_EQ(tr.count(i), 0u);
        return c == 2 ? 1.0 : 0.5;  // candidate 2 always best
      },
      opt);
  EXPECT_EQ(calls, 4 * (3 * 3 + 1));
  for (const NestedCvFold& f : r.folds) EXPECT_EQ(f.chosen, 2u);
  EXPECT_DOUBLE_EQ(r.mean_outer_score, 1.0);
  EXPECT_THROW(nested_cross_validate(labels, 0, nullptr, opt), rs::Error);
}

}  // namespace
}  // namespace rs::stats
