// report.html for the cluster commands: ARI / NMI per layer over training (train and
// validation), accuracy and loss curves, and 2-D PCA scatters of an early and a late layer
// coloured by task; for analyze, the per-layer metrics beside the shuffled-label baseline.
#include "cli/cluster_report.h"

#include <map>

#include "core/error.h"
#include "core/layers.h"
#include "report/report.h"
#include "report/svg.h"
#include "stats/pca.h"

namespace rs::cli {
namespace {
using nlohmann::json;

using report::fmt_fixed;
using report::fmt_percent;

// PCA of one layer's states [N, D] to 2-D, points labelled by class name.
report::ScatterChart pca_scatter(const at::Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<std::string>& names, const std::string& title) {
  report::ScatterChart s;
  s.title = title;
  s.x_label = "PC 1";
  s.y_label = "PC 2";
  const auto fit = stats::pca(x, 2);
  const at::Tensor p = stats::pca_transform(fit, x).contiguous();
  const double* d = p.data_ptr<double>();
  for (int64_t i = 0; i < p.size(0); ++i)
    s.add(d[2 * i], d[2 * i + 1], names.at(static_cast<size_t>(labels[static_cast<size_t>(i)])));
  return s;
}

// "embed" or "block l" (core/layers.h).
std::string label(int64_t layer) {
  return layer == kEmbedLayer ? "embed" : "block " + std::to_string(layer);
}

// One line per layer of `metric` over steps for one split.
report::LineChart metric_over_steps(const json& curves, const std::string& split,
                                    const std::string& metric, const std::string& title) {
  std::map<int64_t, std::pair<std::vector<double>, std::vector<double>>> by_layer;
  for (const auto& p : curves)
    if (p["split"] == split) {
      auto& [x, y] = by_layer[p["layer"] == "embed" ? kEmbedLayer : p["layer"].get<int64_t>()];
      x.push_back(p["step"].get<double>());
      y.push_back(p[metric].get<double>());
    }
  report::LineChart c;
  c.title = title;
  c.x_label = "training step";
  c.y_label = metric;
  c.y_include_lo = 0;
  c.y_include_hi = 1;
  for (auto& [layer, xy] : by_layer)
    c.add(label(layer), xy.first, xy.second);
  return c;
}

}  // namespace

void write_cluster_train_report(const cluster::TrainResult& r, const json& summary,
                                const std::string& path) {
  report::Report rep("Task clustering while a small causal LM learns instruction tasks");
  const auto& c = r.config;
  rep.meta("setup", str(c.tasks, " tasks x ", c.distributions, " instruction distributions; ", c.layers,
                        " layers, d_model ", c.d_model, ", ", c.heads, " heads; ", r.n_params, " parameters"))
      .meta("training", str(r.steps, " steps of batch ", c.batch, ", AdamW lr ", c.lr, ", seed ", c.seed))
      .meta("hidden state", c.position == cluster::TrainPosition::Input       ? "the input token"
                              : c.position == cluster::TrainPosition::Separator ? "the separator token"
                                                                                 : "mean over the instruction")
      .meta("paper", "Wu & Varshney, Transformer-based Causal Language Models Perform Clustering, arXiv 2402.12151");
  const size_t last = r.ari_by_layer.size() - 1;
  rep.verdict(str("Validation accuracy ", fmt_percent(r.val_accuracy), " (train ", fmt_percent(r.train_accuracy),
                  "). Final validation ARI: ", label(r.layers[0]), " ", fmt_fixed(r.ari_by_layer[0], 3), ", ",
                  label(r.layers[last]), " ", fmt_fixed(r.ari_by_layer[last], 3), "."),
              r.val_accuracy >= 0.95 ? report::Tone::Positive : report::Tone::Warning);
  rep.section("Clustering over training")
      .text("k-means (k = number of tasks, k-means++, 10 restarts) on the hidden state of every layer; "
            "ARI and NMI of the clusters against the task label. Validation instances use instructions "
            "never seen in training.");
  rep.chart(metric_over_steps(r.clustering, "train", "ari", "ARI per layer, training instances"));
  rep.chart(metric_over_steps(r.clustering, "val", "ari", "ARI per layer, validation instances"));
  rep.chart(metric_over_steps(r.clustering, "train", "nmi", "NMI per layer, training instances"));
  rep.chart(metric_over_steps(r.clustering, "val", "nmi", "NMI per layer, validation instances"));
  rep.chart(metric_over_steps(r.clustering, "val", "silhouette", "Silhouette of the task labels, validation"));
  rep.section("Accuracy and loss");
  for (const std::string metric : {"accuracy", "loss"}) {
    report::LineChart ch;
    ch.title = metric == "accuracy" ? "Task accuracy (output token, argmax over the vocabulary)" : "Output-token loss";
    ch.x_label = "training step";
    ch.y_label = metric;
    if (metric == "accuracy") ch.y_include_lo = 0, ch.y_include_hi = 1;
    for (const std::string split : {"train", "val"}) {
      std::vector<double> x, y;
      for (const auto& p : r.accuracy)
        if (p["split"] == split) x.push_back(p["step"].get<double>()), y.push_back(p[metric].get<double>());
      ch.add(split == "val" ? "validation" : "train", x, y);
    }
    rep.chart(ch);
  }
  rep.section("Hidden states, first two principal components (validation, coloured by task)");
  const size_t early = std::min<size_t>(1, last);
  if (!r.first_val_states.empty())
    rep.chart(pca_scatter(r.first_val_states[last], r.val_labels, r.task_names,
                          str(label(r.layers[last]), " at step ", r.first_eval_step, " (untrained)")));
  rep.chart(pca_scatter(r.final_val_states[early], r.val_labels, r.task_names, str(label(r.layers[early]), " at step ", r.steps)));
  rep.chart(pca_scatter(r.final_val_states[last], r.val_labels, r.task_names, str(label(r.layers[last]), " at step ", r.steps)));
  rep.section("Command").code(summary.value("command_line", std::string("reasonscope cluster train")));
  rep.write(path);
}

void write_cluster_analyze_report(const cluster::AnalyzeResult& r, const json& summary,
                                  const std::string& path) {
  report::Report rep("Task clustering of hidden states");
  rep.meta("model", summary.value("model", std::string()))
      .meta("data", summary.value("data", std::string()))
      .meta("label field", str(summary.value("label_field", std::string()), " (", r.labels.n_classes(), " classes, ",
                               r.labels.ids.size(), " rows)"))
      .meta("position", summary.value("position", std::string()));
  size_t best = 0;
  for (size_t i = 0; i < r.scores.size(); ++i)
    if (r.scores[i].ari > r.scores[best].ari) best = i;
  rep.verdict(str("Best layer: ", label(r.layers[best]), ": ARI ", fmt_fixed(r.scores[best].ari, 3),
                  ", NMI ", fmt_fixed(r.scores[best].nmi, 3), " (shuffled labels: ARI ",
                  fmt_fixed(r.shuffled[best].ari, 3), ", NMI ", fmt_fixed(r.shuffled[best].nmi, 3), ")."));
  std::vector<double> x, ari, nmi, sil, ari0, nmi0, sil0;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    x.push_back(static_cast<double>(r.layers[i]));
    ari.push_back(r.scores[i].ari), nmi.push_back(r.scores[i].nmi), sil.push_back(r.scores[i].silhouette);
    ari0.push_back(r.shuffled[i].ari), nmi0.push_back(r.shuffled[i].nmi), sil0.push_back(r.shuffled[i].silhouette);
  }
  report::LineChart c;
  c.title = "Agreement of k-means clusters with the label, per layer";
  c.x_label = "block (embed plotted at -1)";
  c.y_label = "score";
  c.y_include_lo = 0;
  c.y_include_hi = 1;
  c.add("ARI", x, ari).add("NMI", x, nmi).add("ARI, shuffled labels", x, ari0, true).add("NMI, shuffled labels", x, nmi0, true);
  rep.section("Per layer").chart(c);
  report::LineChart s;
  s.title = "Silhouette of the label groups, per layer";
  s.x_label = "block (embed plotted at -1)";
  s.y_label = "silhouette";
  s.add("labels", x, sil).add("shuffled labels", x, sil0, true);
  rep.chart(s);
  rep.section("Hidden states, first two principal components");
  const size_t early = std::min<size_t>(1, r.layers.size() - 1), late = r.layers.size() - 1;
  for (size_t i : {early, late})
    rep.chart(pca_scatter(r.states[i], r.labels.ids, r.labels.names, label(r.layers[i])));
  rep.write(path);
}

}  // namespace rs::cli
