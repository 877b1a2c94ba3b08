// report.html of `steer eval`, built from its summary.json (so the page shows exactly the
// numbers the JSON holds): accuracy vs alpha per layer, KL and entropy vs alpha, the test result
// with its interval, and the per-layer separation curve from training when VEC.summary.json is
// beside the vector.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/chart.h"
#include "report/report.h"
#include "report/table.h"

namespace rs::cli {

inline report::Report build_steer_eval_report(const nlohmann::json& s) {
  using nlohmann::json;
  const std::string method = s["method"].is_string() ? s["method"].get<std::string>() : "?";
  report::Report r("Control-vector steering (" + method + ") on " + s["data"].get<std::string>());
  r.meta("model", s["model"].get<std::string>())
      .meta("vector", s["vector"].get<std::string>())
      .meta("rows", std::to_string(s["n_items"].get<int64_t>()) + " (" + std::to_string(s["n_calib"].get<int64_t>()) +
                        " calibration, " + std::to_string(s["n_test"].get<int64_t>()) + " test)");
  const json& t = s["test"];
  const double delta = t["delta"].get<double>(), lo = t["ci95"][0].get<double>(), hi = t["ci95"][1].get<double>();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Test split (%s accuracy): baseline %.3f, steered %.3f at layer %lld, alpha %g; delta %+.3f "
                "(95%% bootstrap CI [%+.3f, %+.3f]).",
                t["metric"].get<std::string>().c_str(), t["baseline_accuracy"].get<double>(),
                t["steered_accuracy"].get<double>(), static_cast<long long>(s["selected"]["layer"].get<int64_t>()),
                s["selected"]["alpha"].get<double>(), delta, lo, hi);
  const bool helps = lo > 0, hurts = hi < 0;
  r.verdict(std::string(buf) + (helps ? " Steering helps." : hurts ? " Steering hurts." : " No significant change."),
            helps ? report::Tone::Positive : hurts ? report::Tone::Negative : report::Tone::Neutral);

  // Sweep curves, one series per layer.
  std::map<int64_t, std::vector<const json*>> by_layer;
  for (const json& row : s["rows"]) by_layer[row["layer"].get<int64_t>()].push_back(&row);
  auto curve = [&](const char* key, const std::string& title, const std::string& ylab) {
    report::LineChart c;
    c.title = title;
    c.x_label = "alpha";
    c.y_label = ylab;
    for (const auto& [layer, rows] : by_layer) {
      std::vector<double> x, y;
      for (const json* row : rows) {
        x.push_back((*row)["alpha"].get<double>());
        y.push_back((*row)[key].is_number() ? (*row)[key].get<double>() : NAN);
      }
      c.add("layer " + std::to_string(layer), x, y);
    }
    return c;
  };
  r.section("Calibration sweep");
  r.text("Every (layer, alpha) on the calibration split. alpha = 0 is the unsteered model.");
  report::LineChart acc = curve("accuracy_first_token", "First-token accuracy vs alpha", "accuracy");
  acc.y_include_lo = 0;
  acc.y_include_hi = 1;
  r.chart(acc);
  report::LineChart seq = curve("accuracy_sequence", "Sequence log-likelihood accuracy vs alpha", "accuracy");
  seq.y_include_lo = 0;
  seq.y_include_hi = 1;
  r.chart(seq);
  r.chart(curve("mean_kl", "KL(unsteered || steered) of the next token vs alpha", "mean KL (nats)"));
  r.chart(curve("mean_entropy_bits", "Next-token entropy vs alpha", "mean entropy (bits)"));

  r.section("Test split");
  report::Table tab({"", "accuracy", "95% CI low", "95% CI high"});
  tab.decimals(1, 3).decimals(2, 3).decimals(3, 3);
  tab.row({"baseline", t["baseline_accuracy"].get<double>(), t["baseline_ci95"][0].get<double>(), t["baseline_ci95"][1].get<double>()});
  tab.row({"steered", t["steered_accuracy"].get<double>(), t["steered_ci95"][0].get<double>(), t["steered_ci95"][1].get<double>()});
  tab.row({"delta", delta, lo, hi});
  r.table(tab);

  if (s["training_separation"].is_array()) {
    r.section("Separation from training");
    r.text("AUROC of the projections of positive vs negative training prompts on each layer's vector "
           "(held out: the vector refitted without a seeded random subset of the pairs, scored on them).");
    report::LineChart c;
    c.title = "Per-layer separation";
    c.x_label = "layer";
    c.y_label = "AUROC";
    std::vector<double> x, tr, ho;
    for (const json& l : s["training_separation"]) {
      x.push_back(l["layer"].get<double>());
      tr.push_back(l["auroc_train"].get<double>());
      ho.push_back(l["auroc_heldout"].is_number() ? l["auroc_heldout"].get<double>() : NAN);
    }
    c.add("held out", x, ho).add("train", x, tr, true);
    c.y_include_lo = 0.4;
    c.y_include_hi = 1;
    c.ref_lines.push_back({0.5, "chance"});
    r.chart(c);
  }
  return r;
}

}  // namespace rs::cli
