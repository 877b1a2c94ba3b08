#include "stats/cross_validation.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

#include "stats/checks.h"
#include "stats/rng.h"

namespace rs::stats {
namespace {

std::vector<int> subset(const std::vector<int>& v, const std::vector<size_t>& rows) {
  std::vector<int> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i] = v[rows[i]];
  return out;
}

std::vector<double> subset(const std::vector<double>& v, const std::vector<size_t>& rows) {
  std::vector<double> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i] = v[rows[i]];
  return out;
}

}  // namespace

std::vector<int> stratified_fold_of_rows(const std::vector<int>& labels, int k, bool shuffle,
                                         uint64_t seed) {
  const size_t n = labels.size();
  if (k < 2) fail("stats::stratified_k_fold: k=", k, "; expected k >= 2");
  if (static_cast<size_t>(k) > n)
    fail("stats::stratified_k_fold: k=", k, " folds for ", n, " rows; expected k <= rows");
  // Classes numbered by first appearance.
  std::map<int, int> class_of_label;
  std::vector<int> cls(n);
  std::vector<size_t> class_count;
  for (size_t i = 0; i < n; ++i) {
    auto it = class_of_label.emplace(labels[i], static_cast<int>(class_count.size())).first;
    if (static_cast<size_t>(it->second) == class_count.size()) class_count.push_back(0);
    cls[i] = it->second;
    ++class_count[static_cast<size_t>(cls[i])];
  }
  const size_t n_classes = class_count.size();
  if (*std::max_element(class_count.begin(), class_count.end()) < static_cast<size_t>(k))
    fail("stats::stratified_k_fold: k=", k, " exceeds the size of every class (largest has ",
         *std::max_element(class_count.begin(), class_count.end()), " rows)");
  // Round robin over class-sorted rows: position p goes to fold p mod k, so fold f gets, of
  // class c, the number of positions p in [start_c, start_c + count_c) with p mod k == f.
  std::vector<std::vector<size_t>> allocation(n_classes, std::vector<size_t>(static_cast<size_t>(k), 0));
  size_t position = 0;
  for (size_t c = 0; c < n_classes; ++c)
    for (size_t j = 0; j < class_count[c]; ++j, ++position)
      ++allocation[c][position % static_cast<size_t>(k)];
  SplitMix64 rng(seed);
  std::vector<int> fold_of_row(n);
  for (size_t c = 0; c < n_classes; ++c) {
    std::vector<int> sequence;  // folds for this class's rows, in row order
    for (int f = 0; f < k; ++f) sequence.insert(sequence.end(), allocation[c][static_cast<size_t>(f)], f);
    if (shuffle)
      for (size_t i = sequence.size(); i > 1; --i) std::swap(sequence[i - 1], sequence[rng.below(i)]);
    size_t next = 0;
    for (size_t i = 0; i < n; ++i)
      if (static_cast<size_t>(cls[i]) == c) fold_of_row[i] = sequence[next++];
  }
  return fold_of_row;
}

std::vector<Fold> stratified_k_fold(const std::vector<int>& labels, int k, bool shuffle,
                                    uint64_t seed) {
  const std::vector<int> fold_of_row = stratified_fold_of_rows(labels, k, shuffle, seed);
  std::vector<Fold> folds(static_cast<size_t>(k));
  for (size_t i = 0; i < labels.size(); ++i)
    for (int f = 0; f < k; ++f)
      (fold_of_row[i] == f ? folds[static_cast<size_t>(f)].test : folds[static_cast<size_t>(f)].train).push_back(i);
  return folds;
}

NestedCvResult nested_cross_validate(const std::vector<int>& labels, size_t n_candidates,
                                     const CandidateEvaluator& evaluate,
                                     const NestedCvOptions& options) {
  if (n_candidates == 0) fail("stats::nested_cross_validate: no candidates; expected at least 1");
  NestedCvResult result;
  const std::vector<Fold> outer =
      stratified_k_fold(labels, options.outer_folds, options.shuffle, options.seed);
  for (size_t f = 0; f < outer.size(); ++f) {
    const std::vector<size_t>& train = outer[f].train;
    // Inner folds index into `train`; map them back to rows of the full data.
    const std::vector<Fold> inner = stratified_k_fold(subset(labels, train), options.inner_folds,
                                                      options.shuffle, options.seed + 1 + f);
    std::vector<Fold> inner_rows(inner.size());
    for (size_t g = 0; g < inner.size(); ++g) {
      for (size_t i : inner[g].train) inner_rows[g].train.push_back(train[i]);
      for (size_t i : inner[g].test) inner_rows[g].test.push_back(train[i]);
    }
    NestedCvFold fold;
    fold.inner_score = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < n_candidates; ++c) {
      double total = 0;
      for (const Fold& g : inner_rows) total += evaluate(c, g.train, g.test);
      const double score = total / static_cast<double>(inner_rows.size());
      if (score > fold.inner_score) fold.inner_score = score, fold.chosen = c;
    }
    fold.outer_score = evaluate(fold.chosen, train, outer[f].test);
    fold.test = outer[f].test;
    result.mean_outer_score += fold.outer_score / static_cast<double>(outer.size());
    result.folds.push_back(std::move(fold));
  }
  return result;
}

NestedThresholdResult nested_cv_threshold(const std::vector<std::vector<double>>& features,
                                          const std::vector<int>& labels,
                                          const NestedCvOptions& options) {
  const char* fn = "nested_cv_threshold";
  detail::require_nonempty(fn, "features", features.size());
  for (const auto& row : features) {
    detail::require_same_length(fn, "features[c]", row.size(), "labels", labels.size());
    detail::require_no_nan(fn, "features[c]", row);
  }
  detail::require_binary_labels(fn, "labels", labels);
  auto evaluate = [&](size_t c, const std::vector<size_t>& train, const std::vector<size_t>& test) {
    const ThresholdClassifier fit =
        best_threshold(subset(features[c], train), subset(labels, train));
    return threshold_accuracy(fit, subset(features[c], test), subset(labels, test));
  };
  NestedThresholdResult out;
  out.cv = nested_cross_validate(labels, features.size(), evaluate, options);
  size_t correct = 0;
  for (const NestedCvFold& fold : out.cv.folds) {
    std::vector<size_t> train;
    std::vector<bool> is_test(labels.size(), false);
    for (size_t i : fold.test) is_test[i] = true;
    for (size_t i = 0; i < labels.size(); ++i)
      if (!is_test[i]) train.push_back(i);
    const std::vector<double>& feature = features[fold.chosen];
    out.fitted.push_back(best_threshold(subset(feature, train), subset(labels, train)));
    for (size_t i : fold.test) correct += out.fitted.back().predict(feature[i]) == labels[i];
  }
  out.pooled_accuracy = static_cast<double>(correct) / static_cast<double>(labels.size());
  return out;
}

}  // namespace rs::stats
