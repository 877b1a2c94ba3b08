#include "report/demo.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace rs::report {

namespace {

// std::mt19937_64 is fully specified by the standard; the distributions are not, so uniform and
// normal draws are done here to give the same page on every platform.
class DemoRng {
 public:
  explicit DemoRng(uint64_t seed) : g_(seed) {}
  double uniform() { return static_cast<double>(g_() >> 11) * (1.0 / 9007199254740992.0); }
  double normal(double mean, double sd) {  // Box-Muller
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  std::mt19937_64 g_;
};

LineChart ari_over_training(DemoRng& rng) {
  LineChart c;
  c.title = "Task clustering (ARI) over training";
  c.x_label = "training step";
  c.y_label = "adjusted Rand index";
  c.y_include_lo = 0, c.y_include_hi = 1;
  std::vector<double> steps;
  for (int s = 0; s <= 2000; s += 100) steps.push_back(s);
  for (int layer : {0, 2, 4, 6}) {
    std::vector<double> ari, lo, hi;
    for (double s : steps) {
      double ceiling = layer == 0 ? 0.03 : std::pow(layer / 6.0, 0.6) * 0.92;
      double v = ceiling * (1 - std::exp(-s / (300.0 + 60.0 * layer))) + rng.normal(0, 0.02);
      ari.push_back(std::clamp(v, 0.0, 1.0));
      double half = 0.03 + 0.05 * rng.uniform();
      lo.push_back(std::clamp(v - half, 0.0, 1.0)), hi.push_back(std::clamp(v + half, 0.0, 1.0));
    }
    c.add("layer " + std::to_string(layer), steps, ari, layer == 0);
    if (layer == 6) c.band(lo, hi);  // e.g. the spread over training seeds
  }
  return c;
}

LineChart logit_lens_ranks(DemoRng& rng) {
  LineChart c;
  c.title = "Logit lens: rank of the answers per layer";
  c.x_label = "layer";
  c.y_label = "rank (log scale, 1 = top)";
  c.y_log = true;
  c.y_inverted = true;
  std::vector<double> bridge, final_answer;
  for (int l = 0; l < 30; ++l) {
    double b = l < 12 ? 20000.0 * std::exp(-l * 0.55) : 3.0 + (l - 12) * 4.0;
    double f = l < 20 ? 30000.0 * std::exp(-l * 0.12) : std::max(1.0, 300.0 * std::exp(-(l - 20) * 0.9));
    bridge.push_back(std::max(1.0, std::round(b * std::exp(rng.normal(0, 0.25)))));
    final_answer.push_back(std::max(1.0, std::round(f * std::exp(rng.normal(0, 0.25)))));
  }
  c.add("bridge entity (implicit)", bridge);
  c.add("final answer (explicit)", final_answer);
  return c;
}

LineChart loss_curve(DemoRng& rng) {
  LineChart c;
  c.title = "Training loss (log-log)";
  c.x_label = "step";
  c.y_label = "cross-entropy (nats)";
  c.x_log = c.y_log = true;
  std::vector<double> steps, train, val;
  for (int i = 0; i <= 60; ++i) {
    double s = std::round(std::pow(10.0, 4.0 * i / 60.0));
    if (!steps.empty() && s == steps.back()) continue;  // early steps round to the same integer
    steps.push_back(s);
    train.push_back(0.05 + 4.5 * std::pow(s, -0.45) * std::exp(rng.normal(0, 0.04)));
    val.push_back(0.09 + 4.6 * std::pow(s, -0.42) * std::exp(rng.normal(0, 0.04)));
  }
  c.add("train", steps, train).add("validation", steps, val, true);
  return c;
}

HeatMap head_accuracy(DemoRng& rng) {
  const size_t layers = 30, heads = 9;
  HeatMap h;
  h.title = "QK-score accuracy per head (calibration split)";
  h.x_label = "head";
  h.y_label = "layer";
  h.value_label = "accuracy";
  h.v_min = 0.3, h.v_max = 1.0;
  std::vector<double> v;
  for (size_t l = 0; l < layers; ++l)
    for (size_t hd = 0; hd < heads; ++hd) {
      double a = 0.5 + rng.normal(0, 0.05);
      if (l >= 14 && l <= 20 && (hd == 2 || hd == 7)) a += 0.28 + rng.normal(0, 0.04);
      v.push_back(std::clamp(a, 0.3, 1.0));
    }
  h.set(layers, heads, v);
  h.highlight = {{17, 7}, {15, 2}, {19, 7}, {16, 2}, {18, 2}};  // the table's top heads
  return h;
}

HeatMap patching_effect(DemoRng& rng) {
  HeatMap h;
  h.title = "Causal tracing: change of p(answer) when patched";
  h.x_label = "component";
  h.y_label = "layer";
  h.value_label = "delta p(answer)";
  h.color_map = ColorMap::Diverging;
  h.col_labels = {"residual", "attention (window 6)", "MLP (window 6)"};
  std::vector<double> v;
  const size_t layers = 12;
  for (size_t l = 0; l < layers; ++l) {
    double peak = std::exp(-std::pow((static_cast<double>(l) - 7.0) / 2.0, 2));
    v.push_back(0.55 * (l < 8 ? 1.0 : peak) + rng.normal(0, 0.02));
    v.push_back(0.35 * peak + rng.normal(0, 0.03));
    v.push_back(-0.12 * std::exp(-std::pow((static_cast<double>(l) - 3.0) / 1.5, 2)) + 0.1 * peak +
                rng.normal(0, 0.02));
  }
  for (size_t l = 0; l < layers; ++l) h.row_labels.push_back(std::to_string(l));
  h.set(layers, 3, v);
  return h;
}

Histogram metric_by_label(DemoRng& rng, std::vector<double>* valid, std::vector<double>* invalid) {
  for (int i = 0; i < 100; ++i) valid->push_back(rng.normal(0.30, 0.045));
  for (int i = 0; i < 200; ++i) invalid->push_back(rng.normal(0.37, 0.055));
  Histogram h;
  h.title = "HFER at layer 24 by label";
  h.x_label = "high-frequency energy ratio";
  h.add("valid proofs", *valid).add("invalid proofs", *invalid);
  return h;
}

RocChart spectral_roc(DemoRng& rng, const std::vector<double>& valid,
                      const std::vector<double>& invalid) {
  std::vector<double> hfer, smooth, length;
  std::vector<int> labels;
  for (double v : valid) {
    labels.push_back(1);
    hfer.push_back(-v);  // lower HFER = valid, so the score is its negation
    smooth.push_back(rng.normal(0.6, 0.15));
    length.push_back(-rng.normal(180, 60));
  }
  for (double v : invalid) {
    labels.push_back(0);
    hfer.push_back(-v);
    smooth.push_back(rng.normal(0.45, 0.15));
    length.push_back(-rng.normal(260, 70));
  }
  RocChart c;
  c.title = "Valid vs invalid: ROC of single metrics";
  c.add(RocCurve::from_scores("-HFER, layer 24", hfer, labels));
  c.add(RocCurve::from_scores("smoothness, layer 24", smooth, labels));
  c.add(RocCurve::from_scores("-length (tokens)", length, labels));
  return c;
}

ScatterChart task_clusters(DemoRng& rng) {
  ScatterChart c;
  c.title = "Hidden states at layer 5, first two principal components";
  c.x_label = "PC 1";
  c.y_label = "PC 2";
  const char* tasks[] = {"reverse", "copy", "successor", "capital-of", "plural", "antonym"};
  for (int t = 0; t < 6; ++t) {
    double a = 2 * M_PI * t / 6.0;
    for (int i = 0; i < 40; ++i)
      c.add(6 * std::cos(a) + rng.normal(0, 1.1), 4 * std::sin(a) + rng.normal(0, 1.0), tasks[t]);
  }
  return c;
}

BarChart method_accuracy(DemoRng& rng) {
  BarChart b;
  b.title = "Accuracy by method (95% bootstrap CI)";
  b.x_label = "method";
  b.y_label = "accuracy";
  b.categories = {"model probability", "option log-likelihood", "best QK head", "top-5 QK ensemble"};
  b.y_include_hi = 1.0;
  std::vector<double> base = {0.58, 0.62, 0.74, 0.79};
  for (const char* split : {"calibration", "held-out"}) {
    std::vector<double> v, lo, hi;
    for (double m : base) {
      double x = m + rng.normal(0, 0.02) - (split[0] == 'h' ? 0.03 : 0.0);
      double half = 0.035 + rng.uniform() * 0.02;
      v.push_back(x), lo.push_back(x - half), hi.push_back(std::min(1.0, x + half));
    }
    b.add(split, v, lo, hi);
  }
  b.ref_lines.push_back({0.5, "chance"});
  return b;
}

}  // namespace

Report make_demo_report(uint64_t seed) {
  DemoRng rng(seed);
  Report r("reasonscope report demo: every chart type");
  r.meta("data", "made up, seed " + std::to_string(seed) + " (nothing here is a measurement)");
  r.meta("command", "reasonscope report demo --seed " + std::to_string(seed));
  r.verdict(
      "This page shows every chart the report layer draws, filled with synthetic data shaped like "
      "the analyses' results: line charts (linear and log axes), heat maps (sequential and "
      "diverging), overlaid histograms, ROC curves, a labelled scatter plot, bars with error bars "
      "and a table. Hover over any mark for its exact value.",
      Tone::Positive);

  r.section("Line charts");
  r.text("Several series per chart with a legend; a dashed series and a shaded band (layer 6: "
         "spread over seeds); linear and log axes. The logit-lens "
         "chart uses a log y axis turned upside down so that rank 1 is at the top.");
  r.chart(ari_over_training(rng), "ARI of k-means clusters against the task label (METHODS.md section 5).");
  r.chart(logit_lens_ranks(rng), "Rank of the bridge entity and of the final answer per layer (section 4).");
  r.chart(loss_curve(rng), "Both axes logarithmic.");

  r.section("Heat maps");
  r.text("Layer x head (sequential viridis scale) and layer x component (diverging blue-white-red, "
         "white at zero, values printed in the cells when they fit).");
  r.chart(head_accuracy(rng), "Accuracy of every (layer, head) on the calibration split (section 2); outlined: the "
          "five best heads of the table below.");
  r.chart(patching_effect(rng), "Effect of patching the guide run into the compositional run (section 4).");

  std::vector<double> valid, invalid;
  r.section("Distributions and classification");
  r.chart(metric_by_label(rng, &valid, &invalid),
          "Shared bins, translucent fills: the overlap is where a threshold errs.");
  r.chart(spectral_roc(rng, valid, invalid), "Dashed diagonal: chance. AUC in the legend.");

  r.section("Clusters and comparisons");
  r.chart(task_clusters(rng), "Points coloured by task label (Okabe-Ito colour-blind-safe palette).");
  r.chart(method_accuracy(rng), "Error bars: percentile bootstrap 95% intervals; dashed line: chance.");

  r.section("Tables");
  Table t({"rank", "layer", "head", "accuracy", "95% CI low", "95% CI high", "note"});
  t.caption = "Top heads on the calibration split";
  for (int c = 3; c <= 5; ++c) t.decimals(static_cast<size_t>(c), 3);
  const int layer_of[] = {17, 15, 19, 16, 18};
  const int head_of[] = {7, 2, 7, 2, 2};
  for (int i = 0; i < 5; ++i) {
    double acc = 0.84 - 0.025 * i + rng.normal(0, 0.005);
    t.row({i + 1, layer_of[i], head_of[i], acc, acc - 0.04, acc + 0.035,
           i == 0 ? "selected <best>" : ""});
  }
  r.table(t);

  r.section("Edge cases");
  r.text("What the charts do with awkward data: an empty series, a single point, NaN values and a "
         "log axis given non-positive values. Each skip is noted under the chart.");
  LineChart edge;
  edge.title = "Awkward data & <escaped> \"text\"";
  edge.x_label = "x";
  edge.y_label = "y (log)";
  edge.y_log = true;
  edge.add("empty", {}, {});
  edge.add("single point", {3.0}, {20.0});
  edge.add("with NaN and 0", {0, 1, 2, 3, 4, 5}, {1, 2, std::nan(""), 8, 0, 30});
  r.chart(edge, "Notes under the chart list every skipped value.");
  HeatMap constant;
  constant.title = "Constant values with one missing cell";
  constant.x_label = "head";
  constant.y_label = "layer";
  constant.value_label = "value";
  constant.set(3, 4, {0.5, 0.5, 0.5, 0.5, 0.5, std::nan(""), 0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
  r.chart(constant, "A constant map gets a padded colour range; the missing cell is grey.");
  return r;
}

nlohmann::json demo_summary(const Report& report, uint64_t seed) {
  return {{"command", "report demo"},
          {"seed", seed},
          {"files", {"report.html", "summary.json"}},
          {"report", report.outline()}};
}

}  // namespace rs::report
