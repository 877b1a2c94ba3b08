// Scatter plot coloured by a categorical label (e.g. PCA of hidden states by task). Categories
// keep the order in which they first appear, so colours are stable for a given input order.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

ScatterChart& ScatterChart::add(double px, double py, std::string label) {
  x.push_back(px), y.push_back(py), labels.push_back(std::move(label));
  return *this;
}

Rendered ScatterChart::render() const {
  if (x.size() != y.size() || (!labels.empty() && labels.size() != x.size()))
    fail("scatter chart \"", title, "\": ", x.size(), " x values, ", y.size(), " y values and ",
         labels.size(), " labels (labels must be empty or one per point)");
  Rendered out;
  std::vector<std::string> cats;
  std::vector<size_t> cat_of(x.size(), 0), cat_count;
  for (size_t i = 0; i < x.size(); ++i) {
    const std::string& l = labels.empty() ? std::string() : labels[i];
    auto it = std::find(cats.begin(), cats.end(), l);
    if (it == cats.end()) {
      cats.push_back(l);
      cat_count.push_back(0);
      it = cats.end() - 1;
    }
    cat_of[i] = static_cast<size_t>(it - cats.begin());
  }
  const double inf = std::numeric_limits<double>::infinity();
  double xmin = inf, xmax = -inf, ymin = inf, ymax = -inf;
  std::vector<char> ok(x.size(), 0);
  size_t nonfinite = 0, nonpositive = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      ++nonfinite;
      continue;
    }
    if ((x_log && x[i] <= 0) || (y_log && y[i] <= 0)) {
      ++nonpositive;
      continue;
    }
    ok[i] = 1;
    ++cat_count[cat_of[i]];
    xmin = std::min(xmin, x[i]), xmax = std::max(xmax, x[i]);
    ymin = std::min(ymin, y[i]), ymax = std::max(ymax, y[i]);
  }
  if (x.empty()) out.notes.push_back("no points");
  if (nonfinite) out.notes.push_back(detail::skipped_note("points", nonfinite, "NaN/inf"));
  if (nonpositive)
    out.notes.push_back(detail::skipped_note("points", nonpositive, "<= 0 on a log axis"));
  if (cats.size() > kCategoricalCount)
    out.notes.push_back(std::to_string(cats.size()) + " categories: colours repeat after " +
                        std::to_string(kCategoricalCount));
  bool any = xmin <= xmax;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Axis xa = x_log ? log_axis(any ? xmin : nan, any ? xmax : nan)
                  : linear_axis(any ? xmin : nan, any ? xmax : nan);
  Axis ya = y_log ? log_axis(any ? ymin : nan, any ? ymax : nan)
                  : linear_axis(any ? ymin : nan, any ? ymax : nan);
  std::vector<detail::LegendItem> legend;
  if (cats.size() > 1 || (cats.size() == 1 && !cats[0].empty()))
    for (size_t c = 0; c < cats.size(); ++c)
      legend.push_back({cats[c].empty() ? "(no label)" : cats[c], categorical_color(c),
                        detail::LegendMark::Dot, " (" + std::to_string(cat_count[c]) + ")"});
  detail::FrameSpec spec;
  spec.y_tick_chars = ya.max_label_chars();
  detail::Frame f = detail::layout(*this, spec, legend, out.notes.size());
  xa.px_lo = f.left, xa.px_hi = f.right, ya.px_lo = f.bottom, ya.px_hi = f.top;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  s += detail::draw_x_axis(f, xa, x_label);
  s += detail::draw_y_axis(f, ya, y_label);
  s += "<g class=\"points\">";
  for (size_t i = 0; i < x.size(); ++i) {
    if (!ok[i]) continue;
    const std::string& l = cats[cat_of[i]];
    s += "<circle class=\"point\"" + attr("cx", xa.map(x[i])) + attr("cy", ya.map(y[i])) +
         attr("r", radius) + attr("fill", categorical_color(cat_of[i])) +
         " fill-opacity=\"0.75\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>" +
         escape_xml((l.empty() ? "" : l + ": ") + "(" + fmt_value(x[i]) + ", " + fmt_value(y[i]) + ")") +
         "</title></circle>";
    ++out.marks;
  }
  s += "</g>";
  s += detail::end_svg(f, !any, legend, out.notes);
  return out;
}

}  // namespace rs::report
