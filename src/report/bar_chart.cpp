// Grouped bar chart with optional error bars (absolute [lo, hi] bounds such as a bootstrap
// confidence interval). Bars start at zero, so the y axis always includes 0.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

BarChart& BarChart::add(std::string name, std::vector<double> values, std::vector<double> lo,
                        std::vector<double> hi) {
  size_t n = categories.size();
  if (values.size() != n || (!lo.empty() && lo.size() != n) || (!hi.empty() && hi.size() != n) ||
      lo.empty() != hi.empty())
    fail("bar chart \"", title, "\": series \"", name, "\" has ", values.size(), " values, ",
         lo.size(), " lower and ", hi.size(), " upper bounds for ", n,
         " categories (set categories first; bounds both empty or one per category)");
  series.push_back({std::move(name), std::move(values), std::move(lo), std::move(hi)});
  return *this;
}

Rendered BarChart::render() const {
  const size_t n = categories.size();
  for (const auto& se : series)
    if (se.values.size() != n || (!se.lo.empty() && se.lo.size() != n) ||
        (!se.hi.empty() && se.hi.size() != n) || se.lo.empty() != se.hi.empty())
      fail("bar chart \"", title, "\": series \"", se.name, "\" does not have one value (and bound) per category (", n, ")");
  Rendered out;
  double ymin = 0, ymax = 0;  // bars start at zero
  bool any = false;
  for (const auto& se : series) {
    size_t bad = 0, bad_bounds = 0;
    for (size_t i = 0; i < n; ++i) {
      double v = se.values[i];
      if (!std::isfinite(v)) {
        ++bad;
        continue;
      }
      any = true;
      ymin = std::min(ymin, v), ymax = std::max(ymax, v);
      if (!se.lo.empty()) {
        if (std::isfinite(se.lo[i]) && std::isfinite(se.hi[i])) {
          ymin = std::min(ymin, se.lo[i]), ymax = std::max(ymax, se.hi[i]);
        } else {
          ++bad_bounds;
        }
      }
    }
    std::string who = "series \"" + se.name + "\"";
    if (bad) out.notes.push_back(detail::skipped_note(who, bad, "NaN/inf"));
    if (bad_bounds)
      out.notes.push_back(detail::skipped_note(who + " error bars", bad_bounds, "NaN/inf bounds"));
  }
  if (n == 0 || series.empty()) out.notes.push_back("no bars");
  for (const auto& r : ref_lines)
    if (std::isfinite(r.value)) ymin = std::min(ymin, r.value), ymax = std::max(ymax, r.value);
  Axis ya = linear_axis(ymin, ymax, y_include_lo, y_include_hi);

  std::vector<detail::LegendItem> legend;
  if (series.size() > 1 || (series.size() == 1 && !series[0].name.empty()))
    for (size_t si = 0; si < series.size(); ++si)
      legend.push_back({series[si].name, categorical_color(si), detail::LegendMark::Box, ""});
  detail::FrameSpec spec;
  spec.y_tick_chars = ya.max_label_chars();
  detail::Frame f = detail::layout(*this, spec, legend, out.notes.size());
  double band = n ? (f.right - f.left) / static_cast<double>(n) : 0;
  bool rotate = detail::categories_need_rotation(categories, band);
  if (rotate) {
    spec.x_ticks_px = detail::rotated_labels_height(categories);
    f = detail::layout(*this, spec, legend, out.notes.size());
    band = n ? (f.right - f.left) / static_cast<double>(n) : 0;
  }
  ya.px_lo = f.bottom, ya.px_hi = f.top;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  std::vector<double> centers(n);
  for (size_t i = 0; i < n; ++i) centers[i] = f.left + (static_cast<double>(i) + 0.5) * band;
  s += detail::draw_y_axis(f, ya, y_label);
  s += detail::draw_x_categories(f, categories, centers, rotate, x_label);
  double group = band * 0.78;
  double bw = series.empty() ? 0 : group / static_cast<double>(series.size());
  double y0 = ya.map(0);
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& se = series[si];
    std::string color = categorical_color(si);
    s += "<g class=\"series\"" + attr("data-name", se.name) + ">";
    for (size_t i = 0; i < n; ++i) {
      double v = se.values[i];
      if (!std::isfinite(v)) continue;
      double x0 = centers[i] - group / 2 + static_cast<double>(si) * bw;
      double yv = ya.map(v);
      bool has_ci = !se.lo.empty() && std::isfinite(se.lo[i]) && std::isfinite(se.hi[i]);
      std::string tip = (se.name.empty() ? "" : se.name + ", ") + categories[i] + ": " + fmt_value(v);
      if (has_ci) tip += " [" + fmt_value(se.lo[i]) + ", " + fmt_value(se.hi[i]) + "]";
      s += "<rect class=\"bar\"" + attr("x", x0 + bw * 0.06) + attr("y", std::min(yv, y0)) +
           attr("width", bw * 0.88) + attr("height", std::max(std::fabs(y0 - yv), 0.5)) +
           attr("fill", color) + " fill-opacity=\"0.85\"><title>" + escape_xml(tip) +
           "</title></rect>";
      ++out.marks;
      if (has_ci) {
        double cx = x0 + bw / 2, cap = std::min(6.0, bw * 0.25);
        double plo = ya.map(se.lo[i]), phi = ya.map(se.hi[i]);
        std::string d = "M" + fmt_px(cx) + " " + fmt_px(plo) + "L" + fmt_px(cx) + " " + fmt_px(phi) +
                        "M" + fmt_px(cx - cap) + " " + fmt_px(plo) + "L" + fmt_px(cx + cap) + " " +
                        fmt_px(plo) + "M" + fmt_px(cx - cap) + " " + fmt_px(phi) + "L" +
                        fmt_px(cx + cap) + " " + fmt_px(phi);
        s += "<path class=\"errbar\"" + attr("d", d) + " stroke=\"#222\" stroke-width=\"1.3\" fill=\"none\"><title>" +
             escape_xml(tip) + "</title></path>";
      }
    }
    s += "</g>";
  }
  s += "<line class=\"zero\"" + attr("x1", f.left) + attr("y1", y0) + attr("x2", f.right) +
       attr("y2", y0) + " stroke=\"#555\"/>";
  s += detail::draw_ref_lines(f, ya, ref_lines);
  s += detail::end_svg(f, !any, legend, out.notes);
  return out;
}

}  // namespace rs::report
