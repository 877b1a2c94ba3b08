// report.html of `verify qk` (verify_qk_report.h). Reads only the evaluation and the summary.
#include "cli/verify_qk_report.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "report/chart.h"
#include "report/svg.h"
#include "report/table.h"

namespace rs::cli {

namespace {

using report::fmt_percent;

double num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::numeric_limits<double>::quiet_NaN();
}

std::string head_name(const nlohmann::json& h) {
  return "L" + std::to_string(h.value("layer", 0)) + ".H" + std::to_string(h.value("head", 0));
}

report::HeatMap accuracy_map(const nlohmann::json& grid, const std::string& title, const nlohmann::json& top) {
  report::HeatMap m;
  m.title = title;
  m.x_label = "head";
  m.y_label = "layer";
  m.value_label = "accuracy (right under both orders)";
  m.v_min = 0.0;
  m.v_max = 1.0;
  std::vector<double> v;
  for (const auto& row : grid)
    for (const auto& x : row) v.push_back(x.get<double>());
  m.set(grid.size(), grid.empty() ? 0 : grid[0].size(), v);
  for (size_t i = 0; i < top.size() && i < 5; ++i)
    m.highlight.push_back({top[i].value("layer", size_t{0}), top[i].value("head", size_t{0})});
  return m;
}

}  // namespace

report::Report build_qk_report(const qk::Evaluation& ev, const nlohmann::json& s) {
  report::Report r("QK-score heads: which attention heads judge logical consistency");
  r.meta("model", s.value("model", "")).meta("data", s.value("data", ""));
  r.meta("mode", s.value("mode", "")).meta("rope", s.value("rope", ""));
  r.meta("calibration / test rows", std::to_string(s.value("n_calib", 0)) + " / " + std::to_string(s.value("n_test", 0)));
  const bool labels = s.value("n_test_labelled", 0) > 0;
  const double top1 = num(s, "top1_test_accuracy"), ens = num(s, "ensemble_test_accuracy");
  const double first = num(s, "baseline_first_token_accuracy"), seq = num(s, "baseline_sequence_accuracy");
  if (labels) {
    std::string v = "Best head " + head_name(s["top1"]) + ": " + fmt_percent(top1) + " of held-out questions right under both option orders; top-" +
                    std::to_string(s["ensemble_heads"].size()) + " ensemble " + fmt_percent(ens) + "; the model's own answer " +
                    fmt_percent(first) + " (first-token probability), " + fmt_percent(seq) + " (option log-likelihood)";
    if (s.contains("baseline_majority_accuracy") && s["baseline_majority_accuracy"].is_number())
      v += "; always answering the calibration majority " + fmt_percent(s["baseline_majority_accuracy"].get<double>());
    v += ".";
    // Where options share their first token, the first-token answer is no answer: the gap is
    // taken against the option log-likelihood instead.
    const int64_t tied = s.value("first_token_tied_rows", int64_t{0});
    if (tied > 0)
      v += " On " + std::to_string(tied) + " of " + std::to_string(s.value("n_test", 0)) +
           " test questions the options begin with the same token, so the first-token answer cannot tell them apart"
           " (counted wrong); the gap below is against the option log-likelihood.";
    const char* base = tied > 0 ? "sequence" : "first_token";
    report::Tone tone = report::Tone::Neutral;
    if (s.contains("gaps") && s["gaps"].contains(std::string("top1_minus_") + base)) {
      const auto& g = s["gaps"][std::string("top1_minus_") + base];
      const double lo = num(g, "low"), hi = num(g, "high");
      char b[160];
      std::snprintf(b, sizeof b, " Gap best head - %s baseline: %+.1f points (95%% CI %+.1f to %+.1f).",
                    tied > 0 ? "option log-likelihood" : "first-token", 100 * num(g, "estimate"), 100 * lo, 100 * hi);
      v += b;
      tone = lo > 0 ? report::Tone::Positive : hi < 0 ? report::Tone::Negative : report::Tone::Warning;
    }
    r.verdict(v, tone);
  } else {
    r.verdict("Unlabelled data: the saved heads' predictions are in examples.jsonl (no accuracy to report).");
  }

  r.section("Per-head accuracy");
  r.text("Each cell is one (layer, query head): the share of questions where the raw query-key score at the last "
         "prompt token ranks the right option strictly first with the options in the given order and again in "
         "reversed order. Outlined: the five best heads on the calibration split.");
  if (s["head_accuracy_calib"].is_array())
    r.chart(accuracy_map(s["head_accuracy_calib"], "Head accuracy, calibration split", s["top_heads"]));
  if (s["head_accuracy_test"].is_array())
    r.chart(accuracy_map(s["head_accuracy_test"], "Head accuracy, held-out split", s["top_heads"]));
  report::Table t({"layer", "head", "calibration balanced accuracy", "calibration accuracy", "held-out accuracy",
                   "held-out balanced accuracy"});
  t.caption = "Best heads (ranked by balanced accuracy on the calibration split)";
  auto cell = [](const nlohmann::json& h, const char* k) {
    return h.contains(k) && h[k].is_number() ? report::Cell(h[k].get<double>()) : report::Cell("n/a");
  };
  for (const auto& h : s["top_heads"])
    t.row({h.value("layer", 0), h.value("head", 0), cell(h, "calib_balanced_accuracy"), cell(h, "calib_accuracy"),
           cell(h, "test_accuracy"), cell(h, "test_balanced_accuracy")});
  for (size_t c = 2; c < 6; ++c) t.decimals(c, 3);
  r.table(t);

  if (labels && s["by_hops"].is_object() && !s["by_hops"].empty()) {
    r.section("Accuracy by reasoning depth");
    report::BarChart b;
    b.title = "Held-out accuracy by hops";
    b.x_label = "hops";
    b.y_label = "accuracy (both orders)";
    b.y_include_lo = 0.0;
    b.y_include_hi = 1.0;
    std::vector<double> v_top, v_ens, v_first, v_seq;
    for (const auto& [hops, row] : s["by_hops"].items()) {
      b.categories.push_back(hops + " (n=" + std::to_string(row.value("n", 0)) + ")");
      v_top.push_back(num(row, "top1"));
      v_ens.push_back(num(row, "ensemble"));
      v_first.push_back(num(row, "baseline_first_token"));
      v_seq.push_back(num(row, "baseline_sequence"));
    }
    b.add("best QK head", v_top).add("QK ensemble", v_ens);
    if (!std::isnan(first)) b.add("model: first-token probability", v_first).add("model: option log-likelihood", v_seq);
    r.chart(b);
  }

  if (!ev.distributions.empty()) {
    r.section("Score distributions of the best heads");
    r.text("Raw q . k scores on the held-out questions (both orders): the right option against the other options. "
           "A good judge separates the two.");
    for (const auto& d : ev.distributions) {
      report::Histogram h;
      h.title = "Head L" + std::to_string(d.head.layer) + ".H" + std::to_string(d.head.head);
      h.x_label = "q . k";
      h.add("right option", d.right).add("other options", d.wrong);
      r.chart(h);
    }
  }
  r.section("Prompt template");
  r.code(s.value("template", ""));
  return r;
}

}  // namespace rs::cli
