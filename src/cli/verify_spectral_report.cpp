// report.html of `verify spectral`: effect size per layer for each metric, ROC of the selected
// metric against both baselines, mean eigenvalue spectrum of valid vs invalid rows at the
// selected layer, histograms by class, and a plain-language verdict.
#include "cli/verify_spectral_report.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "report/chart.h"
#include "report/svg.h"
#include "report/report.h"
#include "report/table.h"

namespace rs::cli {
namespace {

using report::fmt_percent;

// A missing summary key reads as NaN (jd) and shows as "n/a", like fmt_percent.
std::string fixed_or_na(double v, int decimals = 3) {
  return std::isfinite(v) ? report::fmt_fixed(v, decimals) : "n/a";
}
double jd(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

// Scores oriented so that higher means "valid" (for ROC curves).
std::vector<double> oriented(const std::vector<double>& v, const std::string& direction) {
  std::vector<double> o = v;
  if (direction == "less")
    for (double& x : o) x = -x;
  return o;
}

}  // namespace

void write_spectral_report(const SpectralReportData& d, const std::string& path) {
  const nlohmann::json& s = d.summary;
  report::Report r("Spectral signatures of valid reasoning: " + s.value("data", std::string()));
  r.meta("model", s.value("model", std::string()));
  r.meta("laplacian", s.value("laplacian", std::string()));
  r.meta("rows", std::to_string(s.value("n", 0)) + " (" + std::to_string(s.value("n_truncated", 0)) +
                     " truncated to " + std::to_string(s.value("max_tokens", 0)) + " tokens)");
  const std::vector<int> labels = d.labels;
  const bool labelled = !labels.empty();

  if (d.analysis) {
    const nlohmann::json& sel = s["selected"];
    const nlohmann::json& b = s["baselines"];
    const double acc = jd(s["nested_cv_accuracy"]["mean"]);
    const double acc_len = jd(b["token_count"]["nested_cv_accuracy"]["mean"]);
    const double acc_lp = jd(b["mean_logprob"]["nested_cv_accuracy"]["mean"]);
    const double pr = jd(s["partial_correlation_given_length"]["r"]);
    const double pr2 = jd(s["partial_correlation_given_length_and_logprob"]["r"]);
    const double best_base = std::max(acc_len, acc_lp);
    std::string v = "Selected detector: " + sel["metric"].get<std::string>() + " at layer " +
                    std::to_string(sel["layer"].get<int>()) + " (valid if " + sel["direction"].get<std::string>() +
                    " than " + fixed_or_na(jd(sel["threshold"]), 4) + "). Nested cross-validated accuracy " + fmt_percent(acc) +
                    " (in-sample " + fmt_percent(jd(sel["in_sample_accuracy"])) + ", AUROC " + fixed_or_na(jd(sel["auroc"])) +
                    "); token count alone reaches " + fmt_percent(acc_len) + ", the model's mean log-probability " +
                    fmt_percent(acc_lp) + ". Controlling for length the selected metric's correlation with validity is " +
                    fixed_or_na(pr) + ", and " + fixed_or_na(pr2) + " controlling for length and log-probability. ";
    report::Tone tone = report::Tone::Neutral;
    // chance level: always predicting the larger class
    const double nv = jd(s["n_valid"]), ni = jd(s["n_invalid"]);
    const double majority = std::max(nv, ni) / (nv + ni);
    if (std::max(acc, best_base) < majority + 0.02) {
      v += "Nothing here beats chance (always answering the larger class scores " + fmt_percent(majority) +
           "): neither the spectral metrics nor length or log-probability separate valid from invalid rows.";
      tone = report::Tone::Negative;
    } else if (acc > best_base + 0.02 && std::fabs(pr2) > 0.1) {
      v += "The spectral signal adds to what length and log-probability already tell.";
      tone = report::Tone::Positive;
    } else if (acc + 0.02 < best_base) {
      v += "The spectral signal does not beat the simplest baseline on this data: most of what it "
           "sees is explained by length or log-probability.";
      tone = report::Tone::Warning;
    } else {
      v += "The spectral signal is about as good as the baselines: little is added beyond them.";
      tone = report::Tone::Warning;
    }
    r.verdict(v, tone);
  } else if (s.contains("frozen")) {
    const nlohmann::json& f = s["frozen"];
    std::string v = "Frozen detector (" + s["selected"]["metric"].get<std::string>() + " at layer " +
                    std::to_string(s["selected"]["layer"].get<int>()) + ") applied to " + std::to_string(s.value("n", 0)) + " rows";
    if (labelled) {
      v += ": accuracy " + fmt_percent(jd(f["accuracy"])) + ", AUROC " + fixed_or_na(jd(f["auroc"])) +
           ", Cohen's d " + fixed_or_na(jd(f["cohens_d"]), 2) + ".";
      if (f.contains("baselines")) {
        const nlohmann::json& b = f["baselines"];
        for (const char* k : {"token_count", "mean_logprob"}) {
          const nlohmann::json& x = b[k];
          v += std::string(" ") + (std::string(k) == "token_count" ? "Token count" : "Mean log-probability") +
               " on the same rows: accuracy " + fmt_percent(jd(x["accuracy"])) +
               ", AUROC " + fixed_or_na(jd(x["auroc"])) + ", d " + fixed_or_na(jd(x["cohens_d"]), 2) + ".";
        }
        v += b["token_count"].value("threshold_source", "") == "calibration"
                 ? " All three thresholds are frozen from the calibration file."
                 : " The calibration file holds no baseline thresholds (written by an older version): the baselines use "
                   "their best threshold on these rows, which flatters them.";
      }
    } else {
      v += " (no labels: predictions only).";
    }
    r.verdict(v);
  }

  if (d.analysis) {
    const spectral::Analysis& a = *d.analysis;
    r.section("Effect size per layer");
    report::LineChart lc;
    lc.title = "Cohen's d (valid - invalid) per layer";
    lc.x_label = "layer";
    lc.y_label = "Cohen's d";
    std::vector<double> xs(d.layers.begin(), d.layers.end());
    for (spectral::Metric m : spectral::kAllMetrics) {
      std::vector<double> ys;
      for (size_t li = 0; li < d.layers.size(); ++li)
        ys.push_back(a.cohens_d[li * spectral::kNumMetrics + static_cast<size_t>(m)]);
      lc.add(spectral::metric_name(m), xs, ys);
    }
    lc.ref_lines.push_back({0.0, "no effect"});
    r.chart(lc, "Negative d: valid rows have the lower value (the paper finds this for HFER).");

    report::Table top({"layer", "metric", "Cohen's d", "AUROC", "Mann-Whitney p", "in-sample acc.", "direction"});
    top.caption = "The 10 (layer, metric) pairs with the highest in-sample accuracy";
    std::vector<nlohmann::json> rows(s["per_layer_metric"].begin(), s["per_layer_metric"].end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
      return jd(x["in_sample_accuracy"]) > jd(y["in_sample_accuracy"]);
    });
    for (size_t i = 0; i < rows.size() && i < 10; ++i)
      top.row({rows[i]["layer"].get<int>(), rows[i]["metric"].get<std::string>(), jd(rows[i]["cohens_d"]),
               jd(rows[i]["auroc"]), jd(rows[i]["mw_p"]), jd(rows[i]["in_sample_accuracy"]),
               rows[i]["direction"].get<std::string>()});
    r.table(top);
  }

  if (labelled) {
    r.section("Selected metric against the baselines");
    const std::string dir = s["selected"]["direction"].get<std::string>();
    report::RocChart roc;
    roc.title = "ROC (valid = positive)";
    roc.add(report::RocCurve::from_scores(s["selected"]["metric"].get<std::string>() + " L" +
                                              std::to_string(s["selected"]["layer"].get<int>()),
                                          oriented(d.score, dir), labels));
    std::string dl = "greater", dp = "greater";
    const nlohmann::json* base = s.contains("baselines") ? &s["baselines"]
                                 : s.contains("frozen") && s["frozen"].contains("baselines") ? &s["frozen"]["baselines"]
                                                                                              : nullptr;
    if (base) {
      dl = (*base)["token_count"]["direction"].get<std::string>();
      dp = (*base)["mean_logprob"]["direction"].get<std::string>();
    }
    roc.add(report::RocCurve::from_scores("token count", oriented(d.token_count, dl), labels));
    roc.add(report::RocCurve::from_scores("mean log-prob", oriented(d.mean_logprob, dp), labels));
    r.chart(roc);
    if (!d.analysis && s.contains("frozen") && s["frozen"].contains("baselines")) {
      const nlohmann::json& f = s["frozen"];
      report::Table t({"rule", "threshold from", "direction", "threshold", "accuracy", "AUROC", "Cohen's d"});
      t.caption = "Frozen detector and the two baselines on the same rows";
      t.row({s["selected"]["metric"].get<std::string>() + " L" + std::to_string(s["selected"]["layer"].get<int>()),
             std::string("calibration"), dir, jd(s["selected"]["threshold"]), jd(f["accuracy"]), jd(f["auroc"]),
             jd(f["cohens_d"])});
      for (const char* k : {"token_count", "mean_logprob"}) {
        const nlohmann::json& x = f["baselines"][k];
        t.row({std::string(k), x["threshold_source"].get<std::string>(), x["direction"].get<std::string>(),
               jd(x["threshold"]), jd(x["accuracy"]), jd(x["auroc"]), jd(x["cohens_d"])});
      }
      r.table(t);
    }

    report::Histogram h;
    h.title = "Selected metric by class";
    h.x_label = s["selected"]["metric"].get<std::string>();
    h.y_label = "rows";
    std::vector<double> v1, v0;
    for (size_t i = 0; i < labels.size(); ++i) (labels[i] ? v1 : v0).push_back(d.score[i]);
    h.add("valid", v1).add("invalid", v0);
    r.chart(h);

    if (!d.spectrum.empty() && !d.spectrum[0].empty()) {
      r.section("Eigenvalue spectrum at the selected layer");
      const size_t p = d.spectrum[0].size();
      std::vector<double> m1(p, 0), m0(p, 0), q(p);
      size_t c1 = 0, c0 = 0;
      for (size_t i = 0; i < labels.size(); ++i) {
        std::vector<double>& m = labels[i] ? m1 : m0;
        (labels[i] ? c1 : c0)++;
        for (size_t k = 0; k < p; ++k) m[k] += d.spectrum[i][k];
      }
      for (size_t k = 0; k < p; ++k) {
        q[k] = p > 1 ? double(k) / double(p - 1) : 0.0;
        m1[k] /= std::max<size_t>(c1, 1);
        m0[k] /= std::max<size_t>(c0, 1);
      }
      report::LineChart sp;
      sp.title = "Mean eigenvalue quantiles (Laplacian spectrum, ascending)";
      sp.x_label = "quantile of the spectrum (k / (N - 1))";
      sp.y_label = "eigenvalue";
      sp.add("valid", q, m1).add("invalid", q, m0, true);
      r.chart(sp, "Texts have different lengths, so each spectrum is resampled at fixed quantiles before averaging.");
    }
  }

  std::string group_key;
  for (const auto& [k, v] : s.items())
    if (k.rfind("by_", 0) == 0 && v.is_object()) group_key = k;
  if (!group_key.empty()) {
    r.section("Breakdown by " + group_key.substr(3) + " (valid rows against each kind of invalid row)");
    report::Table t({"kind", "valid rows", "invalid rows", "accuracy", "invalid detected", "AUROC",
                     "token count AUROC", "log-prob AUROC"});
    for (const auto& [g, v] : s[group_key].items())
      t.row({g, v["n_valid"].get<int>(), v["n_invalid"].get<int>(), jd(v["accuracy"]), jd(v["invalid_detected"]),
             jd(v["auroc"]), jd(v["token_count_auroc"]), jd(v["mean_logprob_auroc"])});
    r.table(t);
  }

  r.section("Method");
  r.text("For each layer the attention patterns of all heads are symmetrised and averaged into a "
         "weighted graph over the tokens; the residual stream after the layer is a signal on that "
         "graph. Fiedler value, Dirichlet energy, smoothness, spectral entropy and the high-frequency "
         "energy ratio come from the full eigendecomposition of the Laplacian (Noël, arXiv 2601.00791, "
         "with the fixes of METHODS.md: the random-walk Laplacian is diagonalised through its symmetric "
         "twin, all eigenpairs are used, and accuracies are nested cross-validated).");
  r.write(path);
}

}  // namespace rs::cli
