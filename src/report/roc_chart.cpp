// ROC curves (true positive rate against false positive rate) with the chance diagonal; the
// legend carries each curve's area under the curve.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

RocCurve RocCurve::from_scores(std::string name, const std::vector<double>& scores,
                               const std::vector<int>& labels) {
  if (scores.size() != labels.size())
    fail("ROC curve \"", name, "\": ", scores.size(), " scores but ", labels.size(), " labels");
  RocCurve c;
  c.name = std::move(name);
  std::vector<size_t> idx;
  size_t pos = 0, neg = 0, dropped = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      ++dropped;
      continue;
    }
    idx.push_back(i);
    (labels[i] != 0 ? pos : neg) += 1;
  }
  if (dropped) c.note = std::to_string(dropped) + " NaN/inf scores skipped";
  if (pos == 0 || neg == 0) {
    std::string why = "needs both classes (" + std::to_string(pos) + " positives, " +
                      std::to_string(neg) + " negatives)";
    c.note = c.note.empty() ? why : c.note + "; " + why;
    c.auc = std::nan("");
    return c;
  }
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  c.fpr.push_back(0), c.tpr.push_back(0);
  size_t tp = 0, fp = 0;
  for (size_t i = 0; i < idx.size();) {
    // All samples with the same score move together: one (possibly diagonal) step.
    size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) {
      (labels[idx[j]] != 0 ? tp : fp) += 1;
      ++j;
    }
    c.fpr.push_back(static_cast<double>(fp) / static_cast<double>(neg));
    c.tpr.push_back(static_cast<double>(tp) / static_cast<double>(pos));
    i = j;
  }
  c.auc = -1;  // computed from the points (trapezoids), which equals the tie-aware AUROC
  return c;
}

RocChart::RocChart() {
  x_label = "False positive rate";
  y_label = "True positive rate";
  width = 520;
  height = 500;
}

RocChart& RocChart::add(RocCurve curve) {
  if (curve.fpr.size() != curve.tpr.size())
    fail("ROC chart \"", title, "\": curve \"", curve.name, "\" has ", curve.fpr.size(),
         " FPR values but ", curve.tpr.size(), " TPR values");
  curves.push_back(std::move(curve));
  return *this;
}

namespace {

double trapezoid_auc(const std::vector<double>& fpr, const std::vector<double>& tpr,
                     const std::vector<char>& ok) {
  double area = 0;
  bool have_prev = false;
  double px = 0, py = 0;
  for (size_t i = 0; i < fpr.size(); ++i) {
    if (!ok[i]) continue;
    if (have_prev) area += (fpr[i] - px) * (tpr[i] + py) / 2;
    px = fpr[i], py = tpr[i], have_prev = true;
  }
  return area;
}

}  // namespace

Rendered RocChart::render() const {
  Rendered out;
  std::vector<std::vector<char>> ok(curves.size());
  std::vector<detail::LegendItem> legend;
  std::vector<double> aucs(curves.size());
  for (size_t ci = 0; ci < curves.size(); ++ci) {
    const auto& c = curves[ci];
    std::string who = "curve \"" + c.name + "\"";
    if (!c.note.empty()) out.notes.push_back(who + ": " + c.note);
    size_t bad = 0;
    ok[ci].assign(c.fpr.size(), 0);
    for (size_t i = 0; i < c.fpr.size(); ++i) {
      double x = c.fpr[i], y = c.tpr[i];
      bool good = std::isfinite(x) && std::isfinite(y) && x >= 0 && x <= 1 && y >= 0 && y <= 1;
      ok[ci][i] = good;
      bad += good ? 0 : 1;
    }
    if (bad) out.notes.push_back(detail::skipped_note(who, bad, "NaN/inf or outside [0, 1]"));
    aucs[ci] = c.auc >= 0 || std::isnan(c.auc) ? c.auc : trapezoid_auc(c.fpr, c.tpr, ok[ci]);
    legend.push_back({c.name, categorical_color(ci), detail::LegendMark::Line,
                      " (AUC " + (std::isfinite(aucs[ci]) ? fmt_fixed(aucs[ci], 3) : "n/a") + ")"});
  }
  Axis xa = linear_axis(0, 1), ya = linear_axis(0, 1);
  detail::FrameSpec spec;
  spec.y_tick_chars = ya.max_label_chars();
  spec.square = true;
  spec.legend_inside = true;
  detail::Frame f = detail::layout(*this, spec, legend, out.notes.size());
  xa.px_lo = f.left, xa.px_hi = f.right, ya.px_lo = f.bottom, ya.px_hi = f.top;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  s += detail::draw_x_axis(f, xa, x_label);
  s += detail::draw_y_axis(f, ya, y_label);
  s += "<line class=\"diagonal\"" + attr("x1", f.left) + attr("y1", f.bottom) + attr("x2", f.right) +
       attr("y2", f.top) + " stroke=\"#888\" stroke-dasharray=\"5 4\"><title>chance (AUC 0.5)</title></line>";
  bool any = false;
  for (size_t ci = 0; ci < curves.size(); ++ci) {
    const auto& c = curves[ci];
    std::string color = categorical_color(ci);
    std::string d;
    for (size_t i = 0; i < c.fpr.size(); ++i) {
      if (!ok[ci][i]) continue;
      d += (d.empty() ? "M" : "L") + fmt_px(xa.map(c.fpr[i])) + " " + fmt_px(ya.map(c.tpr[i]));
      ++out.marks;
    }
    s += "<g class=\"series\"" + attr("data-name", c.name) + ">";
    if (!d.empty()) {
      any = true;
      s += "<path class=\"line\"" + attr("d", d) + " fill=\"none\"" + attr("stroke", color) +
           " stroke-width=\"2.2\" stroke-linejoin=\"round\"><title>" +
           escape_xml(legend[ci].label + legend[ci].suffix) + "</title></path>";
    }
    s += "</g>";
  }
  s += detail::end_svg(f, !any, legend, out.notes, /*legend_inside=*/true);
  return out;
}

}  // namespace rs::report
