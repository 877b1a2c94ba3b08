#include "report/frame.h"

#include <algorithm>
#include <cmath>

#include "report/svg.h"

namespace rs::report::detail {

namespace {

constexpr double kTitleFont = 15, kTickFont = 11, kLegendFont = 12;
constexpr double kLegendRow = 18, kLegendMaxWidth = 260, kNoteRow = 15;
constexpr size_t kMaxCategoryChars = 24;
const double kRotate = 35.0;  // degrees for crowded category labels

double legend_width(const std::vector<LegendItem>& items) {
  if (items.empty()) return 0;
  double w = 0;
  for (const auto& it : items) w = std::max(w, text_width(it.label + it.suffix, kLegendFont));
  return std::min(kLegendMaxWidth, 26 + w) + 16;
}

std::string line(double x1, double y1, double x2, double y2, std::string_view extra) {
  return "<line" + attr("x1", x1) + attr("y1", y1) + attr("x2", x2) + attr("y2", y2) +
         std::string(extra) + "/>";
}

std::string text(double x, double y, std::string_view content, std::string_view extra) {
  return "<text" + attr("x", x) + attr("y", y) + std::string(extra) + ">" +
         escape_xml(content) + "</text>";
}

// The y axis's title, read upwards, at the left edge that layout() keeps for it.
std::string y_axis_title(const Frame& f, std::string_view label) {
  if (label.empty()) return "";
  const double cy = (f.top + f.bottom) / 2;
  return "<text class=\"axis-label\"" + attr("x", 16.0) + attr("y", cy) +
         attr("transform", "rotate(-90 16 " + fmt_px(cy) + ")") +
         " text-anchor=\"middle\" dy=\"0.32em\" font-size=\"12\">" + escape_xml(label) + "</text>";
}

// Show every k-th label so neighbours do not overlap.
size_t label_stride(double band_px, double need_px) {
  if (band_px <= 0) return 1;
  return std::max<size_t>(1, static_cast<size_t>(std::ceil(need_px / band_px)));
}

}  // namespace

Frame layout(const Chart& c, const FrameSpec& spec, const std::vector<LegendItem>& legend,
             size_t n_notes) {
  Frame f;
  f.width = c.width;
  f.height = c.height;
  f.top = c.title.empty() ? 16 : 44;
  f.left = (c.y_label.empty() ? 0 : 24) + 12 +
           static_cast<double>(std::min<size_t>(spec.y_tick_chars, kMaxCategoryChars)) *
               kTickFont * 0.6 +
           8;
  f.right = c.width - 18 - (spec.legend_inside ? 0 : legend_width(legend)) - spec.extra_right;
  f.bottom = c.height - (spec.x_ticks_px + 8 + (c.x_label.empty() ? 0 : 22) +
                         static_cast<double>(n_notes) * kNoteRow + 6);
  // Never collapse the plot area, however small the requested size.
  if (f.right - f.left < 60) f.right = f.left + 60;
  if (f.bottom - f.top < 60) f.bottom = f.top + 60;
  if (spec.square) {
    double side = std::min(f.right - f.left, f.bottom - f.top);
    double below = f.height - f.bottom, beside = f.width - f.right;
    f.right = f.left + side;
    f.bottom = f.top + side;
    f.width = f.right + beside;
    f.height = f.bottom + below;
  }
  return f;
}

std::string begin_svg(const Chart& c, const Frame& f) {
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\"";
  s += attr("class", std::string("rs-chart rs-") + c.kind());
  s += attr("width", f.width) + attr("height", f.height);
  s += attr("viewBox", "0 0 " + fmt_px(f.width) + " " + fmt_px(f.height));
  s += " role=\"img\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, "
       "sans-serif\" font-size=\"12\" fill=\"#222\">";
  s += "<title>" + escape_xml(c.title.empty() ? std::string(c.kind()) + " chart" : c.title) +
       "</title>";
  s += "<rect class=\"background\"" + attr("width", f.width) + attr("height", f.height) +
       " fill=\"#ffffff\"/>";
  if (!c.title.empty()) {
    size_t max_chars = static_cast<size_t>(std::max(8.0, (f.width - 20) / (kTitleFont * 0.6)));
    s += text(f.width / 2, 26, ellipsize(c.title, max_chars),
              " class=\"chart-title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"600\"");
  }
  return s;
}

std::string end_svg(const Frame& f, bool no_data, const std::vector<LegendItem>& legend,
                    const std::vector<std::string>& notes, bool legend_inside) {
  return (no_data ? draw_no_data(f) : "") + draw_legend(f, legend, legend_inside) + draw_notes(f, notes) +
         "</svg>";
}

std::string draw_x_axis(const Frame& f, const Axis& x, std::string_view label) {
  std::string s = "<g class=\"axis x-axis\">";
  for (size_t i = 0; i < x.ticks.size(); ++i) {
    double px = x.map(x.ticks[i]);
    s += "<g class=\"tick\">";
    s += line(px, f.top, px, f.bottom, " class=\"grid\" stroke=\"#e6e6e6\"");
    s += line(px, f.bottom, px, f.bottom + 5, " stroke=\"#555\"");
    s += text(px, f.bottom + 18, x.labels[i],
              " class=\"tick-label\" text-anchor=\"middle\" font-size=\"11\"");
    s += "</g>";
  }
  s += line(f.left, f.bottom, f.right, f.bottom, " class=\"domain\" stroke=\"#555\"");
  if (!label.empty())
    s += text((f.left + f.right) / 2, f.bottom + 18 + 22, label,
              " class=\"axis-label\" text-anchor=\"middle\" font-size=\"12\"");
  return s + "</g>";
}

std::string draw_y_axis(const Frame& f, const Axis& y, std::string_view label) {
  std::string s = "<g class=\"axis y-axis\">";
  for (size_t i = 0; i < y.ticks.size(); ++i) {
    double py = y.map(y.ticks[i]);
    s += "<g class=\"tick\">";
    s += line(f.left, py, f.right, py, " class=\"grid\" stroke=\"#e6e6e6\"");
    s += line(f.left - 5, py, f.left, py, " stroke=\"#555\"");
    s += text(f.left - 8, py, y.labels[i],
              " class=\"tick-label\" text-anchor=\"end\" dy=\"0.32em\" font-size=\"11\"");
    s += "</g>";
  }
  s += line(f.left, f.top, f.left, f.bottom, " class=\"domain\" stroke=\"#555\"");
  s += y_axis_title(f, label);
  return s + "</g>";
}

bool categories_need_rotation(const std::vector<std::string>& labels, double band_px) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, text_width(ellipsize(l, kMaxCategoryChars), kTickFont));
  return w + 6 > band_px;
}

double rotated_labels_height(const std::vector<std::string>& labels) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, text_width(ellipsize(l, kMaxCategoryChars), kTickFont));
  const double rad = kRotate * M_PI / 180.0;
  return 14 + w * std::sin(rad) + kTickFont * std::cos(rad);
}

std::string draw_x_categories(const Frame& f, const std::vector<std::string>& labels,
                              const std::vector<double>& centers, bool rotate,
                              std::string_view label) {
  std::string s = "<g class=\"axis x-axis\">";
  double band = centers.size() > 1 ? std::fabs(centers[1] - centers[0]) : f.right - f.left;
  double need = 14;
  if (!rotate)
    for (const auto& l : labels)
      need = std::max(need, text_width(ellipsize(l, kMaxCategoryChars), kTickFont) + 6);
  size_t stride = label_stride(band, need);
  double label_bottom = f.bottom + 18;
  for (size_t i = 0; i < labels.size() && i < centers.size(); i += stride) {
    double px = centers[i];
    s += "<g class=\"tick\">";
    s += line(px, f.bottom, px, f.bottom + 5, " stroke=\"#555\"");
    std::string shown = ellipsize(labels[i], kMaxCategoryChars);
    if (rotate) {
      double y = f.bottom + 12;
      s += "<text class=\"tick-label\"" + attr("x", px) + attr("y", y) +
           attr("transform", "rotate(-35 " + fmt_px(px) + " " + fmt_px(y) + ")") +
           " text-anchor=\"end\" dy=\"0.32em\" font-size=\"11\">" + escape_xml(shown) +
           "</text>";
    } else {
      s += text(px, f.bottom + 18, shown,
                " class=\"tick-label\" text-anchor=\"middle\" font-size=\"11\"");
    }
    s += "</g>";
  }
  if (rotate) label_bottom = f.bottom + rotated_labels_height(labels);
  s += line(f.left, f.bottom, f.right, f.bottom, " class=\"domain\" stroke=\"#555\"");
  if (!label.empty())
    s += text((f.left + f.right) / 2, label_bottom + 22, label,
              " class=\"axis-label\" text-anchor=\"middle\" font-size=\"12\"");
  return s + "</g>";
}

std::string draw_y_categories(const Frame& f, const std::vector<std::string>& labels,
                              const std::vector<double>& centers, std::string_view label) {
  std::string s = "<g class=\"axis y-axis\">";
  double band = centers.size() > 1 ? std::fabs(centers[1] - centers[0]) : f.bottom - f.top;
  size_t stride = label_stride(band, 13);
  for (size_t i = 0; i < labels.size() && i < centers.size(); i += stride) {
    double py = centers[i];
    s += "<g class=\"tick\">";
    s += line(f.left - 5, py, f.left, py, " stroke=\"#555\"");
    s += text(f.left - 8, py, ellipsize(labels[i], kMaxCategoryChars),
              " class=\"tick-label\" text-anchor=\"end\" dy=\"0.32em\" font-size=\"11\"");
    s += "</g>";
  }
  s += y_axis_title(f, label);
  return s + "</g>";
}

std::string draw_ref_lines(const Frame& f, const Axis& y, const std::vector<RefLine>& lines) {
  std::string s;
  for (const auto& r : lines) {
    if (!std::isfinite(r.value) || (y.log && r.value <= 0)) continue;
    double py = y.map(r.value);
    s += "<g class=\"ref-line\">";
    s += line(f.left, py, f.right, py, " stroke=\"#666\" stroke-dasharray=\"5 4\"");
    if (!r.label.empty())
      s += text(f.right - 4, py - 4, r.label,
                " text-anchor=\"end\" font-size=\"11\" fill=\"#444\" stroke=\"#ffffff\" "
                "stroke-width=\"3\" paint-order=\"stroke\"");
    s += "</g>";
  }
  return s;
}

std::string draw_legend(const Frame& f, const std::vector<LegendItem>& items, bool inside) {
  if (items.empty()) return "";
  std::string s = "<g class=\"legend\">";
  double x = f.right + 16, y = f.top + 6;
  if (inside) {
    // Lower right corner on a translucent white box, where ROC curves rarely go.
    double w = legend_width(items) - 16 + 12;
    double h = static_cast<double>(items.size()) * kLegendRow + 8;
    x = f.right - w - 2;
    y = f.bottom - h - 2;
    s += "<rect class=\"legend-box\"" + attr("x", x - 6) + attr("y", y - 2) + attr("width", w + 4) +
         attr("height", h) + " fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>";
    y += 2;
  }
  size_t max_chars = static_cast<size_t>((kLegendMaxWidth - 26) / (kLegendFont * 0.6));
  // Rows that fit beside the plot (a little past its bottom edge); the rest become "+ k more".
  size_t fit = static_cast<size_t>(std::max(2.0, (f.bottom + 12 - y) / kLegendRow));
  size_t shown = items.size() <= fit ? items.size() : fit - 1;
  for (size_t i = 0; i < shown; ++i) {
    const auto& it = items[i];
    double cy = y + static_cast<double>(i) * kLegendRow + 6;
    s += "<g class=\"legend-item\"><title>" + escape_xml(it.label + it.suffix) + "</title>";
    switch (it.mark) {
      case LegendMark::Line:
      case LegendMark::Dashed:
        s += line(x, cy, x + 18, cy,
                  attr("stroke", it.color) + " stroke-width=\"2.5\"" +
                      (it.mark == LegendMark::Dashed ? " stroke-dasharray=\"6 3\"" : ""));
        break;
      case LegendMark::Box:
        s += "<rect" + attr("x", x + 3) + attr("y", cy - 6) + " width=\"12\" height=\"12\"" +
             attr("fill", it.color) + " fill-opacity=\"0.55\"" + attr("stroke", it.color) + "/>";
        break;
      case LegendMark::Dot:
        s += "<circle" + attr("cx", x + 9) + attr("cy", cy) + " r=\"4.5\"" +
             attr("fill", it.color) + "/>";
        break;
    }
    size_t suffix_chars = utf8_length(it.suffix);
    std::string shown = ellipsize(it.label, max_chars > suffix_chars + 6 ? max_chars - suffix_chars : 6);
    s += text(x + 26, cy, shown + it.suffix,
              " class=\"legend-label\" dy=\"0.32em\" font-size=\"12\"");
    s += "</g>";
  }
  if (shown < items.size())
    s += text(x, y + static_cast<double>(shown) * kLegendRow + 6,
              "+ " + std::to_string(items.size() - shown) + " more",
              " class=\"legend-more\" dy=\"0.32em\" font-size=\"12\" fill=\"#555\"");
  return s + "</g>";
}

std::string draw_notes(const Frame& f, const std::vector<std::string>& notes) {
  std::string s;
  size_t max_chars = static_cast<size_t>(std::max(10.0, (f.width - 20) / (11 * 0.6)));
  for (size_t i = 0; i < notes.size(); ++i) {
    double y = f.height - 8 - static_cast<double>(notes.size() - 1 - i) * kNoteRow;
    s += "<text class=\"note\"" + attr("x", 10.0) + attr("y", y) +
         " font-size=\"11\" font-style=\"italic\" fill=\"#8a4b00\"><title>" +
         escape_xml(notes[i]) + "</title>" + escape_xml(ellipsize("Note: " + notes[i], max_chars)) +
         "</text>";
  }
  return s;
}

std::string draw_no_data(const Frame& f) {
  return text((f.left + f.right) / 2, (f.top + f.bottom) / 2, "no data",
              " class=\"no-data\" text-anchor=\"middle\" font-size=\"14\" fill=\"#888\"");
}

std::string skipped_note(std::string_view what, size_t count, std::string_view reason) {
  if (count == 0) return "";
  return std::string(what) + ": " + std::to_string(count) + (count == 1 ? " value" : " values") +
         " skipped (" + std::string(reason) + ")";
}

}  // namespace rs::report::detail
