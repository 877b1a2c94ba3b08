// Selection, nested CV and the frozen detector: see detector.h.
#include "methods/spectral/detector.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "methods/spectral/features.h"
#include "stats/auroc.h"
#include "stats/cross_validation.h"
#include "stats/effect_size.h"
#include "stats/mann_whitney.h"

namespace rs::spectral {
namespace {

template <typename T>
std::vector<T> subset(const std::vector<T>& v, const std::vector<size_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (size_t i : rows) out.push_back(v[i]);
  return out;
}

// Selection on `rows` only: inner stratified k-fold (k capped by the smaller class, >= 2).
Selection select_on_rows(const std::vector<std::vector<double>>& cand, const std::vector<int>& labels,
                         const std::vector<size_t>& rows, int folds, uint64_t seed) {
  const std::vector<int> y = subset(labels, rows);
  size_t n1 = 0;
  for (int v : y) n1 += v == 1;
  const size_t n_min = std::min(n1, y.size() - n1);
  if (n_min < 2) fail("selection needs at least 2 rows of each class, got ", n1, " valid and ", y.size() - n1, " invalid");
  const int k = static_cast<int>(std::min<size_t>(static_cast<size_t>(folds), n_min));
  const std::vector<stats::Fold> split = stats::stratified_k_fold(y, k, true, seed);
  Selection best;
  double best_acc = -1;
  for (size_t c = 0; c < cand.size(); ++c) {
    const std::vector<double> s = subset(cand[c], rows);
    double acc = 0;
    for (const stats::Fold& f : split) {
      const stats::ThresholdClassifier fit = stats::best_threshold(subset(s, f.train), subset(y, f.train));
      acc += stats::threshold_accuracy(fit, subset(s, f.test), subset(y, f.test));
    }
    acc /= static_cast<double>(split.size());
    if (acc > best_acc) {  // strict: ties keep the lower index
      best_acc = acc;
      best.chosen = c;
    }
  }
  best.cv_accuracy = best_acc;
  best.fitted = stats::best_threshold(subset(cand[best.chosen], rows), y);
  return best;
}

void check_candidates(const std::vector<std::vector<double>>& cand, const std::vector<int>& labels) {
  if (cand.empty()) fail("no candidate scores");
  for (const auto& c : cand) {
    if (c.size() != labels.size()) fail("candidate scores: ", c.size(), " values for ", labels.size(), " labels");
    for (double v : c)
      if (!std::isfinite(v)) fail("candidate scores: a non-finite value");
  }
  for (int v : labels)
    if (v != 0 && v != 1) fail("labels must be 0 or 1, got ", v);
}

}  // namespace

ScoreStats score_stats(const std::vector<double>& score, const std::vector<int>& labels) {
  check_candidates({score}, labels);
  std::vector<double> valid, invalid;
  for (size_t i = 0; i < score.size(); ++i) (labels[i] ? valid : invalid).push_back(score[i]);
  if (valid.size() < 2 || invalid.size() < 2)
    fail("need at least 2 valid and 2 invalid rows, got ", valid.size(), " and ", invalid.size());
  ScoreStats s;
  s.cohens_d = stats::cohens_d(valid, invalid);
  s.auroc_raw = stats::auroc(score, labels);
  s.mw_p = stats::mann_whitney_u(valid, invalid, stats::Alternative::TwoSided,
                                 stats::MwuMethod::Auto, true).p;
  s.best = stats::best_threshold(score, labels);
  s.auroc = s.best.direction == stats::ThresholdDirection::Greater ? s.auroc_raw : 1.0 - s.auroc_raw;
  return s;
}

Selection select_candidate(const std::vector<std::vector<double>>& cand, const std::vector<int>& labels,
                           int folds, uint64_t seed) {
  check_candidates(cand, labels);
  std::vector<size_t> all(labels.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return select_on_rows(cand, labels, all, folds, seed);
}

NestedAccuracy nested_accuracy(const std::vector<std::vector<double>>& cand, const std::vector<int>& labels,
                               int folds, uint64_t seed) {
  check_candidates(cand, labels);
  if (folds < 2) fail("--folds: expected at least 2, got ", folds);
  const std::vector<stats::Fold> outer = stats::stratified_k_fold(labels, folds, true, seed);
  NestedAccuracy out;
  size_t correct = 0;
  for (size_t f = 0; f < outer.size(); ++f) {
    const Selection sel = select_on_rows(cand, labels, outer[f].train, folds, seed + 1 + f);
    size_t ok = 0;
    for (size_t i : outer[f].test) ok += sel.fitted.predict(cand[sel.chosen][i]) == labels[i];
    correct += ok;
    out.fold_accuracy.push_back(static_cast<double>(ok) / static_cast<double>(outer[f].test.size()));
    out.fold_chosen.push_back(sel.chosen);
  }
  double sum = 0;
  for (double a : out.fold_accuracy) sum += a;
  out.mean = sum / static_cast<double>(out.fold_accuracy.size());
  double ss = 0;
  for (double a : out.fold_accuracy) ss += (a - out.mean) * (a - out.mean);
  out.std = out.fold_accuracy.size() > 1 ? std::sqrt(ss / static_cast<double>(out.fold_accuracy.size() - 1)) : 0.0;
  out.pooled = static_cast<double>(correct) / static_cast<double>(labels.size());
  return out;
}

}  // namespace rs::spectral
