// Multi-series line chart. A non-finite point (or a non-positive one on a log axis) breaks
// the line there instead of joining across the gap, and is counted in a note.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

using detail::LegendItem;
using detail::LegendMark;

LineChart& LineChart::add(std::string name, std::vector<double> x, std::vector<double> y,
                          bool dashed) {
  if (x.size() != y.size())
    fail("line chart \"", title, "\": series \"", name, "\" has ", x.size(), " x values but ",
         y.size(), " y values");
  series.push_back({std::move(name), std::move(x), std::move(y), dashed, {}, {}});
  return *this;
}

LineChart& LineChart::add(std::string name, std::vector<double> y) {
  std::vector<double> x(y.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  return add(std::move(name), std::move(x), std::move(y));
}

LineChart& LineChart::band(std::vector<double> lo, std::vector<double> hi) {
  if (series.empty()) fail("line chart \"", title, "\": band() needs a series added first");
  LineSeries& s = series.back();
  if (lo.size() != s.x.size() || hi.size() != s.x.size())
    fail("line chart \"", title, "\": band of series \"", s.name, "\" has ", lo.size(), " lower and ",
         hi.size(), " upper values for ", s.x.size(), " points");
  s.lo = std::move(lo);
  s.hi = std::move(hi);
  return *this;
}

Rendered LineChart::render() const {
  Rendered out;
  const double inf = std::numeric_limits<double>::infinity();
  double xmin = inf, xmax = -inf, ymin = inf, ymax = -inf;
  std::vector<std::vector<char>> ok(series.size());
  size_t most_points = 0;
  for (size_t s = 0; s < series.size(); ++s) {
    const auto& ser = series[s];
    size_t nonfinite = 0, nonpositive = 0;
    ok[s].assign(ser.x.size(), 0);
    for (size_t i = 0; i < ser.x.size(); ++i) {
      double x = ser.x[i], y = ser.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) {
        ++nonfinite;
        continue;
      }
      if ((x_log && x <= 0) || (y_log && y <= 0)) {
        ++nonpositive;
        continue;
      }
      ok[s][i] = 1;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
      if (!ser.lo.empty()) {
        for (double b : {ser.lo[i], ser.hi[i]})
          if (std::isfinite(b) && (!y_log || b > 0)) ymin = std::min(ymin, b), ymax = std::max(ymax, b);
      }
    }
    std::string who = "series \"" + ser.name + "\"";
    if (ser.x.empty()) out.notes.push_back(who + ": no data");
    if (nonfinite) out.notes.push_back(detail::skipped_note(who, nonfinite, "NaN/inf"));
    if (nonpositive)
      out.notes.push_back(detail::skipped_note(who, nonpositive, "<= 0 on a log axis"));
    most_points = std::max(most_points, ser.x.size());
  }
  bool any = xmin <= xmax;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Axis xa = x_log ? log_axis(any ? xmin : nan, any ? xmax : nan, x_include_lo, x_include_hi)
                  : linear_axis(any ? xmin : nan, any ? xmax : nan, x_include_lo, x_include_hi);
  Axis ya = y_log ? log_axis(any ? ymin : nan, any ? ymax : nan, y_include_lo, y_include_hi)
                  : linear_axis(any ? ymin : nan, any ? ymax : nan, y_include_lo, y_include_hi);

  std::vector<LegendItem> legend;
  if (series.size() > 1 || (series.size() == 1 && !series[0].name.empty()))
    for (size_t s = 0; s < series.size(); ++s)
      legend.push_back({series[s].name, categorical_color(s),
                        series[s].dashed ? LegendMark::Dashed : LegendMark::Line, ""});
  detail::FrameSpec spec;
  spec.y_tick_chars = ya.max_label_chars();
  detail::Frame f = detail::layout(*this, spec, legend, out.notes.size());
  xa.px_lo = f.left, xa.px_hi = f.right;
  ya.px_lo = y_inverted ? f.top : f.bottom;
  ya.px_hi = y_inverted ? f.bottom : f.top;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  s += detail::draw_x_axis(f, xa, x_label);
  s += detail::draw_y_axis(f, ya, y_label);
  s += detail::draw_ref_lines(f, ya, ref_lines);
  bool all_markers = markers.value_or(most_points <= 40);
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& ser = series[si];
    std::string color = categorical_color(si);
    s += "<g class=\"series\"" + attr("data-name", ser.name) + ">";
    if (!ser.lo.empty()) {
      // One closed polygon per unbroken run: along hi left to right, back along lo.
      auto band_ok = [&](size_t i) {
        return ok[si][i] && std::isfinite(ser.lo[i]) && std::isfinite(ser.hi[i]) &&
               (!y_log || (ser.lo[i] > 0 && ser.hi[i] > 0));
      };
      std::string bd;
      size_t i = 0;
      while (i < ser.x.size()) {
        if (!band_ok(i)) {
          ++i;
          continue;
        }
        size_t j = i;
        while (j < ser.x.size() && band_ok(j)) ++j;
        for (size_t k = i; k < j; ++k)
          bd += (k == i ? "M" : "L") + fmt_px(xa.map(ser.x[k])) + " " + fmt_px(ya.map(ser.hi[k]));
        for (size_t k = j; k-- > i;)
          bd += "L" + fmt_px(xa.map(ser.x[k])) + " " + fmt_px(ya.map(ser.lo[k]));
        bd += "Z";
        i = j;
      }
      if (!bd.empty())
        s += "<path class=\"band\"" + attr("d", bd) + attr("fill", color) +
             " fill-opacity=\"0.16\" stroke=\"none\"/>";
    }
    std::string d;
    size_t run = 0;  // points in the current unbroken segment
    for (size_t i = 0; i < ser.x.size(); ++i) {
      if (!ok[si][i]) {
        run = 0;
        continue;
      }
      d += (run == 0 ? "M" : "L") + fmt_px(xa.map(ser.x[i])) + " " + fmt_px(ya.map(ser.y[i]));
      ++run;
    }
    if (!d.empty())
      s += "<path class=\"line\"" + attr("d", d) + " fill=\"none\"" + attr("stroke", color) +
           " stroke-width=\"2.2\" stroke-linejoin=\"round\"" +
           (ser.dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>";
    for (size_t i = 0; i < ser.x.size(); ++i) {
      if (!ok[si][i]) continue;
      ++out.marks;
      // Isolated points get a marker even without markers, or they would be invisible.
      bool prev = i > 0 && ok[si][i - 1], next = i + 1 < ser.x.size() && ok[si][i + 1];
      if (!all_markers && (prev || next)) continue;
      s += "<circle class=\"point\"" + attr("cx", xa.map(ser.x[i])) +
           attr("cy", ya.map(ser.y[i])) + " r=\"3.2\"" + attr("fill", color) + "><title>" +
           escape_xml(ser.name + ": (" + fmt_value(ser.x[i]) + ", " + fmt_value(ser.y[i]) + ")") +
           "</title></circle>";
    }
    s += "</g>";
  }
  s += detail::end_svg(f, !any, legend, out.notes);
  return out;
}

}  // namespace rs::report
