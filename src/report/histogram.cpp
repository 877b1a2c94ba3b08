// Overlaid histograms: every group is counted over the same bin edges (taken from the pooled
// data), so bars line up and groups compare directly; fills are translucent so overlaps show.
#include <algorithm>
#include <cmath>
#include <limits>

#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

Histogram& Histogram::add(std::string name, std::vector<double> values) {
  groups.push_back({std::move(name), std::move(values)});
  return *this;
}

Rendered Histogram::render() const {
  Rendered out;
  double pmin = std::numeric_limits<double>::infinity(), pmax = -pmin;
  size_t pooled = 0;
  for (const auto& g : groups) {
    size_t bad = 0;
    for (double v : g.values) {
      if (!std::isfinite(v)) {
        ++bad;
        continue;
      }
      pmin = std::min(pmin, v), pmax = std::max(pmax, v);
      ++pooled;
    }
    std::string who = "group \"" + g.name + "\"";
    if (g.values.empty()) out.notes.push_back(who + ": no data");
    if (bad) out.notes.push_back(detail::skipped_note(who, bad, "NaN/inf"));
  }
  double lo = range_lo.value_or(pooled ? pmin : 0.0);
  double hi = range_hi.value_or(pooled ? pmax : 1.0);
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {  // constant data: one central bin region instead of a zero-width range
    double pad = lo == 0 ? 0.5 : std::fabs(lo) * 0.05;
    lo -= pad, hi += pad;
  }
  // Sturges (1926): ceil(log2 n) + 1 bins, kept between 5 and 60.
  size_t k = bins;
  if (k == 0) {
    k = pooled > 1 ? static_cast<size_t>(std::ceil(std::log2(static_cast<double>(pooled)))) + 1 : 5;
    k = std::clamp<size_t>(k, 5, 60);
  }
  double w = (hi - lo) / static_cast<double>(k);

  std::vector<std::vector<double>> heights(groups.size(), std::vector<double>(k, 0.0));
  double ymax = 0;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    size_t outside = 0, n = 0;
    for (double v : groups[gi].values) {
      if (!std::isfinite(v)) continue;
      if (v < lo || v > hi) {
        ++outside;
        continue;
      }
      size_t b = std::min(k - 1, static_cast<size_t>((v - lo) / w));
      heights[gi][b] += 1;
      ++n;
    }
    if (outside)
      out.notes.push_back(detail::skipped_note("group \"" + groups[gi].name + "\"", outside,
                                               "outside the bin range"));
    if (density && n > 0)
      for (double& h : heights[gi]) h /= static_cast<double>(n) * w;
    for (double h : heights[gi]) ymax = std::max(ymax, h);
  }

  Axis xa = linear_axis(lo, hi);
  Axis ya = linear_axis(0, ymax > 0 ? ymax : 1, 0.0);
  std::vector<detail::LegendItem> legend;
  if (groups.size() > 1 || (groups.size() == 1 && !groups[0].name.empty()))
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      size_t n = 0;
      for (double v : groups[gi].values) n += std::isfinite(v) ? 1 : 0;
      legend.push_back({groups[gi].name, categorical_color(gi), detail::LegendMark::Box,
                        " (n=" + std::to_string(n) + ")"});
    }
  detail::FrameSpec spec;
  spec.y_tick_chars = ya.max_label_chars();
  detail::Frame f = detail::layout(*this, spec, legend, out.notes.size());
  xa.px_lo = f.left, xa.px_hi = f.right, ya.px_lo = f.bottom, ya.px_hi = f.top;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  s += detail::draw_x_axis(f, xa, x_label);
  s += detail::draw_y_axis(f, ya, y_label.empty() ? (density ? "density" : "count") : y_label);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    std::string color = categorical_color(gi);
    s += "<g class=\"series\"" + attr("data-name", groups[gi].name) + ">";
    for (size_t b = 0; b < k; ++b) {
      double h = heights[gi][b];
      if (h <= 0) continue;
      double e0 = lo + static_cast<double>(b) * w, e1 = e0 + w;
      double x0 = xa.map(e0), x1 = xa.map(e1), y1 = ya.map(h);
      s += "<rect class=\"bar\"" + attr("x", x0) + attr("y", y1) + attr("width", x1 - x0) +
           attr("height", f.bottom - y1) + attr("fill", color) +
           " fill-opacity=\"0.42\"" + attr("stroke", color) + " stroke-width=\"1\"><title>" +
           escape_xml(groups[gi].name + ": [" + fmt_value(e0) + ", " + fmt_value(e1) + "): " +
                      fmt_value(h)) +
           "</title></rect>";
      ++out.marks;
    }
    s += "</g>";
  }
  s += detail::end_svg(f, pooled == 0, legend, out.notes);
  return out;
}

}  // namespace rs::report
