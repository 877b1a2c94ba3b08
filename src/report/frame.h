// Internal to the chart module: the parts every chart shares (outer SVG, title, plot area
// layout, numeric and categorical axes, legend, notes), so each chart file only draws its data.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "report/axis.h"
#include "report/chart.h"

namespace rs::report::detail {

enum class LegendMark { Line, Dashed, Box, Dot };
struct LegendItem {
  std::string label;
  std::string color;
  LegendMark mark = LegendMark::Line;
  std::string suffix;  // kept whole when the label is shortened, e.g. " (AUC 0.912)"
};

// Plot area [left, right] x [top, bottom] inside a width x height SVG.
struct Frame {
  double width = 0, height = 0;
  double left = 0, top = 0, right = 0, bottom = 0;
};

struct FrameSpec {
  size_t y_tick_chars = 4;  // longest y tick label
  double x_ticks_px = 18;   // height used below the plot by x tick labels
  double extra_right = 0;   // space for a colour bar
  bool square = false;      // equal plot width and height (ROC); the SVG shrinks to fit
  bool legend_inside = false;  // legend in the plot's lower right corner (ROC), not beside it
};

Frame layout(const Chart& c, const FrameSpec& spec, const std::vector<LegendItem>& legend,
             size_t n_notes);

// <svg> root (f.width x f.height), accessible title, background, visible title.
std::string begin_svg(const Chart& c, const Frame& f);
// What every chart draws last, over its marks: "no data" when it has no marks, the legend, the
// notes, and </svg>.
std::string end_svg(const Frame& f, bool no_data, const std::vector<LegendItem>& legend,
                    const std::vector<std::string>& notes, bool legend_inside = false);
std::string draw_x_axis(const Frame& f, const Axis& x, std::string_view label);
std::string draw_y_axis(const Frame& f, const Axis& y, std::string_view label);
// Category axes: labels centred at the given pixel positions; every k-th shown if crowded.
std::string draw_x_categories(const Frame& f, const std::vector<std::string>& labels,
                              const std::vector<double>& centers, bool rotate,
                              std::string_view label);
std::string draw_y_categories(const Frame& f, const std::vector<std::string>& labels,
                              const std::vector<double>& centers, std::string_view label);
std::string draw_ref_lines(const Frame& f, const Axis& y, const std::vector<RefLine>& lines);
std::string draw_legend(const Frame& f, const std::vector<LegendItem>& items,
                        bool inside = false);
std::string draw_notes(const Frame& f, const std::vector<std::string>& notes);
std::string draw_no_data(const Frame& f);

// Height x tick labels need when rotated 35 degrees; and whether they must rotate.
bool categories_need_rotation(const std::vector<std::string>& labels, double band_px);
double rotated_labels_height(const std::vector<std::string>& labels);

// "series \"a\": 2 values skipped (NaN/inf)", or "" when count is 0.
std::string skipped_note(std::string_view what, size_t count, std::string_view reason);

}  // namespace rs::report::detail
