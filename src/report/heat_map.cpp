// Heat map: rows x cols cells coloured on a sequential (viridis) or diverging (RdBu) map, with
// category labels on both axes, a colour scale bar with ticks, and the value of every cell on
// hover. Typical use: layer x head accuracy, layer x component patching effect.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "report/chart.h"
#include "report/frame.h"
#include "report/svg.h"

namespace rs::report {

HeatMap& HeatMap::set(size_t r, size_t c, std::vector<double> v) {
  if (v.size() != r * c)
    fail("heat map \"", title, "\": ", r, " x ", c, " cells need ", r * c, " values, got ",
         v.size());
  rows = r, cols = c, values = std::move(v);
  return *this;
}

namespace {

std::vector<std::string> labels_or_indices(const std::vector<std::string>& given, size_t n,
                                           const std::string& title, const char* which) {
  if (given.empty()) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
  }
  if (given.size() != n)
    fail("heat map \"", title, "\": ", given.size(), " ", which, " labels for ", n, " ", which,
         "s");
  return given;
}

}  // namespace

Rendered HeatMap::render() const {
  if (values.size() != rows * cols)
    fail("heat map \"", title, "\": ", rows, " x ", cols, " cells need ", rows * cols,
         " values, got ", values.size());
  std::vector<std::string> rl = labels_or_indices(row_labels, rows, title, "row");
  std::vector<std::string> cl = labels_or_indices(col_labels, cols, title, "column");
  Rendered out;

  // Colour range: the data range unless fixed; diverging maps are symmetric about `center`.
  double dmin = std::numeric_limits<double>::infinity(), dmax = -dmin;
  size_t nonfinite = 0;
  for (double v : values) {
    if (!std::isfinite(v)) {
      ++nonfinite;
      continue;
    }
    dmin = std::min(dmin, v), dmax = std::max(dmax, v);
  }
  if (values.empty()) out.notes.push_back("no cells");
  if (nonfinite)
    out.notes.push_back(std::to_string(nonfinite) + (nonfinite == 1 ? " cell is" : " cells are") +
                        " NaN/inf (drawn grey)");
  bool any = dmin <= dmax;
  double lo = v_min.value_or(any ? dmin : 0.0), hi = v_max.value_or(any ? dmax : 1.0);
  if (color_map == ColorMap::Diverging && !(v_min && v_max)) {
    double m = std::max(std::fabs(lo - center), std::fabs(hi - center));
    if (m == 0) m = 1;
    lo = center - m, hi = center + m;
  }
  if (hi <= lo) {  // constant values: pad so they sit mid-scale
    double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  auto color_of = [&](double v) {
    return map_color(color_map, std::isfinite(v) ? (v - lo) / (hi - lo) : std::nan(""));
  };

  // Colour bar ticks: nice values inside [lo, hi]; the bar spans exactly [lo, hi].
  Axis bar = linear_axis(lo, hi, {}, {}, 5);
  {
    std::vector<double> t;
    std::vector<std::string> l;
    double eps = (hi - lo) * 1e-9;
    for (size_t i = 0; i < bar.ticks.size(); ++i)
      if (bar.ticks[i] >= lo - eps && bar.ticks[i] <= hi + eps)
        t.push_back(bar.ticks[i]), l.push_back(bar.labels[i]);
    bar.ticks = t, bar.labels = l, bar.lo = lo, bar.hi = hi;
  }
  double bar_space = 20 + 14 + 8 + static_cast<double>(bar.max_label_chars()) * 11 * 0.6 +
                     (value_label.empty() ? 0 : 22);

  detail::FrameSpec spec;
  size_t ychars = 0;
  for (const auto& l : rl) ychars = std::max(ychars, utf8_length(l));
  spec.y_tick_chars = ychars;
  spec.extra_right = bar_space;
  detail::Frame f = detail::layout(*this, spec, {}, out.notes.size());
  double cw = cols ? (f.right - f.left) / static_cast<double>(cols) : 0;
  bool rotate = detail::categories_need_rotation(cl, cw);
  if (rotate) {
    spec.x_ticks_px = detail::rotated_labels_height(cl);
    f = detail::layout(*this, spec, {}, out.notes.size());
    cw = cols ? (f.right - f.left) / static_cast<double>(cols) : 0;
  }
  double ch = rows ? (f.bottom - f.top) / static_cast<double>(rows) : 0;

  std::string& s = out.svg;
  s = detail::begin_svg(*this, f);
  std::vector<double> xc(cols), yc(rows);
  for (size_t c = 0; c < cols; ++c) xc[c] = f.left + (static_cast<double>(c) + 0.5) * cw;
  for (size_t r = 0; r < rows; ++r) yc[r] = f.top + (static_cast<double>(r) + 0.5) * ch;
  s += detail::draw_x_categories(f, cl, xc, rotate, x_label);
  s += detail::draw_y_categories(f, rl, yc, y_label);

  bool values_in_cells = show_values.value_or(cw >= 34 && ch >= 16 && rows * cols <= 400);
  bool gaps = cw >= 6 && ch >= 6;
  s += "<g class=\"cells\">";
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      double v = values[r * cols + c];
      Rgb col = color_of(v);
      s += "<rect class=\"cell\"" + attr("x", f.left + static_cast<double>(c) * cw) +
           attr("y", f.top + static_cast<double>(r) * ch) + attr("width", cw) +
           attr("height", ch) + attr("fill", to_hex(col)) +
           (gaps ? " stroke=\"#ffffff\" stroke-width=\"0.6\"" : "") + "><title>" +
           escape_xml((y_label.empty() ? "" : y_label + " ") + rl[r] + ", " +
                      (x_label.empty() ? "" : x_label + " ") + cl[c] + ": " +
                      (std::isfinite(v) ? fmt_value(v, value_digits + 2) : "missing")) +
           "</title></rect>";
      ++out.marks;
      if (values_in_cells && std::isfinite(v))
        s += "<text class=\"cell-value\"" + attr("x", f.left + (static_cast<double>(c) + 0.5) * cw) +
             attr("y", f.top + (static_cast<double>(r) + 0.5) * ch) +
             " text-anchor=\"middle\" dy=\"0.32em\" font-size=\"10\"" +
             attr("fill", contrasting_text(col)) + ">" + escape_xml(fmt_value(v, value_digits)) +
             "</text>";
    }
  }
  s += "</g>";
  for (const auto& [r, c] : highlight) {
    if (r >= rows || c >= cols)
      fail("heat map \"", title, "\": highlighted cell (", r, ", ", c, ") outside the ", rows,
           " x ", cols, " grid");
    s += "<rect class=\"highlight\"" + attr("x", f.left + static_cast<double>(c) * cw + 1) +
         attr("y", f.top + static_cast<double>(r) * ch + 1) + attr("width", std::max(cw - 2, 1.0)) +
         attr("height", std::max(ch - 2, 1.0)) +
         " fill=\"none\" stroke=\"#000000\" stroke-width=\"2\"/>";
  }
  if (rows * cols == 0) s += detail::draw_no_data(f);

  // Colour scale: 64 stacked steps (no gradient ids, so many charts can share one page).
  double bx = f.right + 20, bw = 14, by0 = f.bottom, by1 = f.top;
  s += "<g class=\"color-scale\">";
  const int steps = 64;
  for (int i = 0; i < steps; ++i) {
    double t0 = static_cast<double>(i) / steps;
    double y = by0 + (by1 - by0) * (static_cast<double>(i + 1) / steps);
    s += "<rect class=\"scale-step\"" + attr("x", bx) + attr("y", y) + attr("width", bw) +
         attr("height", (by0 - by1) / steps + 1) + " shape-rendering=\"crispEdges\"" +
         attr("fill", to_hex(map_color(color_map, t0 + 0.5 / steps))) + "/>";
  }
  s += "<rect" + attr("x", bx) + attr("y", by1) + attr("width", bw) + attr("height", by0 - by1) +
       " fill=\"none\" stroke=\"#555\" stroke-width=\"0.6\"/>";
  bar.px_lo = by0, bar.px_hi = by1;
  for (size_t i = 0; i < bar.ticks.size(); ++i) {
    double py = bar.map(bar.ticks[i]);
    s += "<g class=\"tick\"><line" + attr("x1", bx + bw) + attr("y1", py) + attr("x2", bx + bw + 4) +
         attr("y2", py) + " stroke=\"#555\"/><text class=\"tick-label\"" + attr("x", bx + bw + 7) +
         attr("y", py) + " dy=\"0.32em\" font-size=\"11\">" + escape_xml(bar.labels[i]) +
         "</text></g>";
  }
  if (!value_label.empty()) {
    double lx = f.right + bar_space - 6, cy = (by0 + by1) / 2;
    s += "<text class=\"scale-label\"" + attr("x", lx) + attr("y", cy) +
         attr("transform", "rotate(-90 " + fmt_px(lx) + " " + fmt_px(cy) + ")") +
         " text-anchor=\"middle\" font-size=\"12\">" + escape_xml(value_label) + "</text>";
  }
  s += "</g>";
  s += detail::end_svg(f, /*no_data=*/false, {}, out.notes);  // its "no data" went in before the colour scale
  return out;
}

}  // namespace rs::report
