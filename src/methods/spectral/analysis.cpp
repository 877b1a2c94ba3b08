// Selection, baselines and breakdowns for summary.json: see analysis.h.
#include "methods/spectral/analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "core/error.h"
#include "stats/auroc.h"
#include "stats/effect_size.h"
#include "stats/partial_correlation.h"

namespace rs::spectral {
namespace {

// JSON has no NaN/inf: write null there.
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double oriented_auroc(const std::vector<double>& score, const std::vector<int>& labels,
                      stats::ThresholdDirection dir) {
  size_t n1 = 0;
  for (int v : labels) n1 += v == 1;
  if (n1 == 0 || n1 == labels.size()) return NAN;
  const double a = stats::auroc(score, labels);
  return dir == stats::ThresholdDirection::Greater ? a : 1.0 - a;
}

nlohmann::json baseline(const std::vector<double>& score, const std::vector<int>& labels, int folds, uint64_t seed) {
  const ScoreStats st = score_stats(score, labels);
  const NestedAccuracy na = nested_accuracy({score}, labels, folds, seed);
  return {{"auroc", num(st.auroc)}, {"cohens_d", num(st.cohens_d)}, {"mw_p", num(st.mw_p)},
          {"in_sample_accuracy", st.best.accuracy}, {"threshold", num(st.best.threshold)},
          {"direction", direction_name(st.best.direction)},
          {"nested_cv_accuracy", {{"mean", na.mean}, {"std", na.std}}}};
}

}  // namespace

Analysis analyse_labelled(const AnalysisInput& in) {
  const size_t n = in.features.size(), nl = in.layers.size();
  if (in.labels.size() != n || in.token_count.size() != n || in.mean_logprob.size() != n)
    fail("analyse_labelled: inconsistent row counts");
  const size_t nc = nl * kNumMetrics;
  std::vector<std::vector<double>> cand(nc, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    if (in.features[i].size() != nc) fail("analyse_labelled: row ", i, " has ", in.features[i].size(), " features, expected ", nc);
    for (size_t c = 0; c < nc; ++c) cand[c][i] = in.features[i][c];
  }
  Analysis a;
  nlohmann::json& s = a.summary;

  // per (layer, metric), in-sample (the paper's protocol, for comparison)
  s["per_layer_metric"] = nlohmann::json::array();
  size_t best_in_sample = 0;
  double best_acc = -1, best_auc = -1;
  for (size_t c = 0; c < nc; ++c) {
    const ScoreStats st = score_stats(cand[c], in.labels);
    a.cohens_d.push_back(st.cohens_d);
    s["per_layer_metric"].push_back(
        {{"layer", in.layers[c / kNumMetrics]}, {"metric", metric_name(kAllMetrics[c % kNumMetrics])},
         {"cohens_d", num(st.cohens_d)}, {"auroc", num(st.auroc)}, {"mw_p", num(st.mw_p)},
         {"in_sample_accuracy", st.best.accuracy}, {"threshold", num(st.best.threshold)},
         {"direction", direction_name(st.best.direction)}});
    if (st.best.accuracy > best_acc || (st.best.accuracy == best_acc && st.auroc > best_auc)) {
      best_acc = st.best.accuracy;
      best_auc = st.auroc;
      best_in_sample = c;
    }
  }
  s["in_sample_best"] = s["per_layer_metric"][best_in_sample];

  // the selection procedure on all rows, and its nested CV estimate
  const Selection sel = select_candidate(cand, in.labels, in.folds, in.seed);
  const NestedAccuracy na = nested_accuracy(cand, in.labels, in.folds, in.seed);
  a.layer_index = sel.chosen / kNumMetrics;
  a.metric = kAllMetrics[sel.chosen % kNumMetrics];
  a.detector.layer = in.layers[a.layer_index];
  a.detector.metric = metric_name(a.metric);
  a.detector.direction = sel.fitted.direction;
  a.detector.threshold = sel.fitted.threshold;
  a.score = cand[sel.chosen];
  for (double v : a.score) a.prediction.push_back(a.detector.predict(v));
  const ScoreStats st = score_stats(a.score, in.labels);
  s["selected"] = {{"layer", a.detector.layer}, {"metric", a.detector.metric},
                   {"direction", direction_name(a.detector.direction)},
                   {"threshold", num(a.detector.threshold)},
                   {"cv_accuracy", sel.cv_accuracy}, {"in_sample_accuracy", sel.fitted.accuracy},
                   {"auroc", num(oriented_auroc(a.score, in.labels, a.detector.direction))},
                   {"cohens_d", num(st.cohens_d)}};
  nlohmann::json chosen = nlohmann::json::array();
  for (size_t c : na.fold_chosen)
    chosen.push_back({{"layer", in.layers[c / kNumMetrics]}, {"metric", metric_name(kAllMetrics[c % kNumMetrics])}});
  s["nested_cv_accuracy"] = {{"mean", na.mean}, {"std", na.std}, {"pooled", na.pooled},
                             {"folds", na.fold_accuracy}, {"chosen_per_fold", chosen}};

  s["baselines"] = {{"token_count", baseline(in.token_count, in.labels, in.folds, in.seed)},
                    {"mean_logprob", baseline(in.mean_logprob, in.labels, in.folds, in.seed)}};
  // Frozen beside the detector (their in-sample best rules on these rows, as the detector's
  // threshold is refitted on all of them), so --calibration judges all three alike.
  for (const auto& [name, v] : {std::pair{"token_count", &in.token_count}, std::pair{"mean_logprob", &in.mean_logprob}}) {
    const stats::ThresholdClassifier t = stats::best_threshold(*v, in.labels);
    a.detector.baselines.push_back({name, t.direction, t.threshold});
  }

  // how much of the selected metric's link to the label survives controlling for length (and
  // also for the log-probability)
  std::vector<double> y(in.labels.begin(), in.labels.end());
  auto partial = [&](const std::vector<std::vector<double>>& cov) -> nlohmann::json {
    try {
      const stats::CorrelationResult r = stats::partial_correlation(a.score, y, cov);
      return {{"r", num(r.r)}, {"p", num(r.p)}};
    } catch (const Error& e) {
      return {{"r", nullptr}, {"p", nullptr}, {"error", e.what()}};
    }
  };
  s["partial_correlation_given_length"] = partial({in.token_count});
  s["partial_correlation_given_length_and_logprob"] = partial({in.token_count, in.mean_logprob});

  bool any_group = false;
  for (const auto& g : in.group) any_group |= !g.empty();
  if (any_group)
    s["by_group"] = group_breakdown(a.detector, a.score, in.labels, in.group, in.token_count, in.mean_logprob);
  return a;
}

namespace {
// accuracy, oriented AUROC and Cohen's d of one frozen single-threshold rule
template <class Rule>
nlohmann::json judge_rule(const Rule& r, const std::vector<double>& score, const std::vector<int>& labels) {
  size_t ok = 0, n1 = 0;
  for (size_t i = 0; i < score.size(); ++i) {
    ok += r.predict(score[i]) == labels[i];
    n1 += labels[i] == 1;
  }
  std::vector<double> valid, invalid;
  for (size_t i = 0; i < score.size(); ++i) (labels[i] ? valid : invalid).push_back(score[i]);
  const double d = valid.size() >= 2 && invalid.size() >= 2 ? stats::cohens_d(valid, invalid) : NAN;
  return {{"n", score.size()},
          {"accuracy", score.empty() ? nlohmann::json(nullptr) : nlohmann::json(double(ok) / double(score.size()))},
          {"auroc", score.empty() ? nlohmann::json(nullptr) : num(oriented_auroc(score, labels, r.direction))},
          {"cohens_d", num(d)}};
}
}  // namespace

nlohmann::json evaluate_frozen(const Detector& d, const std::vector<double>& score, const std::vector<int>& labels) {
  return judge_rule(d, score, labels);
}

nlohmann::json evaluate_frozen_baselines(const Detector& d, const std::vector<double>& token_count,
                                         const std::vector<double>& mean_logprob, const std::vector<int>& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, v] : {std::pair{"token_count", &token_count}, std::pair{"mean_logprob", &mean_logprob}}) {
    BaselineRule r;
    std::string source = "calibration";
    auto it = std::find_if(d.baselines.begin(), d.baselines.end(), [&](const BaselineRule& b) { return b.name == name; });
    if (it != d.baselines.end()) {
      r = *it;
    } else {
      // An older calibration file saved no baseline rules: the best rule on these very rows,
      // which flatters the baseline (an upper bound on what a frozen one would score).
      const stats::ThresholdClassifier t = stats::best_threshold(*v, labels);
      r = {name, t.direction, t.threshold};
      source = "in_sample";
    }
    nlohmann::json j = judge_rule(r, *v, labels);
    j["direction"] = direction_name(r.direction);
    j["threshold"] = num(r.threshold);
    j["threshold_source"] = source;
    out[name] = std::move(j);
  }
  return out;
}

nlohmann::json group_breakdown(const Detector& d, const std::vector<double>& score,
                               const std::vector<int>& labels, const std::vector<std::string>& group,
                               const std::vector<double>& token_count, const std::vector<double>& mean_logprob) {
  std::map<std::string, std::vector<size_t>> invalid_by;
  std::vector<size_t> valid;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == 1) valid.push_back(i);
    else invalid_by[group[i].empty() ? "(none)" : group[i]].push_back(i);
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [g, inv] : invalid_by) {
    std::vector<size_t> rows = valid;
    rows.insert(rows.end(), inv.begin(), inv.end());
    std::vector<double> s, tc, lp;
    std::vector<int> y;
    for (size_t i : rows) {
      s.push_back(score[i]);
      tc.push_back(token_count[i]);
      lp.push_back(mean_logprob[i]);
      y.push_back(labels[i]);
    }
    size_t ok_invalid = 0;
    for (size_t i : inv) ok_invalid += d.predict(score[i]) == 0;
    const nlohmann::json fr = evaluate_frozen(d, s, y);
    // baselines oriented by their own in-sample direction on this subset
    auto base_auc = [&](const std::vector<double>& v) {
      const double a = valid.empty() || inv.empty() ? NAN : stats::auroc(v, y);
      return num(std::isfinite(a) ? std::max(a, 1.0 - a) : a);
    };
    out[g] = {{"n_valid", valid.size()}, {"n_invalid", inv.size()}, {"accuracy", fr["accuracy"]},
              {"invalid_detected", inv.empty() ? nlohmann::json(nullptr) : nlohmann::json(double(ok_invalid) / double(inv.size()))},
              {"auroc", fr["auroc"]}, {"token_count_auroc", base_auc(tc)}, {"mean_logprob_auroc", base_auc(lp)}};
  }
  return out;
}

}  // namespace rs::spectral
