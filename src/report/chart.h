// The chart module: each chart is a plain object you fill with data and render to one
// self-contained SVG string (no scripts, no ids, no external references), so several can be
// inlined in one HTML page. Every chart carries a title, axis labels and, with more than one
// series or category, a legend; hovering a data mark shows its value (an SVG <title>).
//
// Bad data never throws at render time: non-finite values (and non-positive ones on log axes)
// are skipped and a note saying how many is printed under the chart and returned in `notes`.
// Inconsistent shapes (x and y of different length, a heat map with the wrong cell count) are
// programming errors and throw rs::Error when added.
//
//   rs::report::LineChart c;
//   c.title = "ARI over training"; c.x_label = "step"; c.y_label = "ARI";
//   c.add("layer 3", steps, ari3).add("layer 6", steps, ari6);
//   std::string svg = c.svg();
#pragma once
#include <cstddef>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "report/palette.h"

namespace rs::report {

// What render() produced: the SVG, the notes about skipped data, and how many data marks
// (points, bars, cells, lines) were drawn, so callers and tests can check nothing was lost.
struct Rendered {
  std::string svg;
  std::vector<std::string> notes;
  size_t marks = 0;
};

// A horizontal reference line (chance level, a threshold), drawn dashed with its label.
struct RefLine {
  double value;
  std::string label;
};

class Chart {
 public:
  std::string title, x_label, y_label;
  double width = 620, height = 420;  // pixels of the whole SVG

  virtual ~Chart() = default;
  virtual const char* kind() const = 0;  // "line", "heatmap", ... (used in summaries)
  virtual Rendered render() const = 0;
  std::string svg() const { return render().svg; }
};

// Several named series of (x, y) points joined by lines; linear or log axes.
struct LineSeries {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
  std::vector<double> lo, hi;  // optional shaded band (e.g. a confidence interval), one per x
};
class LineChart : public Chart {
 public:
  std::vector<LineSeries> series;
  bool x_log = false, y_log = false;
  bool y_inverted = false;  // e.g. rank 1 at the top
  // Markers on every point: default when no series has more than 40 points.
  std::optional<bool> markers;
  // The axes cover at least these values (e.g. 0..1 for ARI); data outside extends them.
  std::optional<double> x_include_lo, x_include_hi, y_include_lo, y_include_hi;
  std::vector<RefLine> ref_lines;

  LineChart& add(std::string name, std::vector<double> x, std::vector<double> y,
                 bool dashed = false);
  // y against 0, 1, 2, ... (e.g. one value per layer).
  LineChart& add(std::string name, std::vector<double> y);
  // A shaded band [lo, hi] around the most recently added series (e.g. a bootstrap CI).
  LineChart& band(std::vector<double> lo, std::vector<double> hi);
  const char* kind() const override { return "line"; }
  Rendered render() const override;
};

// A grid of values (rows x cols, row-major) as coloured cells with a colour scale bar.
class HeatMap : public Chart {
 public:
  std::vector<std::string> row_labels, col_labels;  // y and x categories (default 0, 1, ...)
  std::vector<double> values;                       // rows * cols, row-major
  size_t rows = 0, cols = 0;
  ColorMap color_map = ColorMap::Sequential;
  std::optional<double> v_min, v_max;  // colour range (default: data range)
  double center = 0;                   // diverging maps: the value drawn white
  std::string value_label;             // caption of the colour bar (e.g. "accuracy")
  std::optional<bool> show_values;     // print values in cells (default: when cells are large)
  int value_digits = 2;                // significant digits of printed/hovered values
  // Cells to outline, as (row, col), e.g. the selected heads.
  std::vector<std::pair<size_t, size_t>> highlight;

  HeatMap& set(size_t rows, size_t cols, std::vector<double> values);
  const char* kind() const override { return "heatmap"; }
  Rendered render() const override;
};

// Overlaid histograms of several groups over shared bins, drawn translucent.
struct HistogramGroup {
  std::string name;
  std::vector<double> values;
};
class Histogram : public Chart {
 public:
  std::vector<HistogramGroup> groups;
  size_t bins = 0;       // 0: Sturges' rule on the pooled count, between 5 and 60
  bool density = false;  // y = density (each group integrates to 1) instead of counts
  std::optional<double> range_lo, range_hi;  // bin range (default: pooled data range)

  Histogram& add(std::string name, std::vector<double> values);
  const char* kind() const override { return "histogram"; }
  Rendered render() const override;
};

// ROC curves with the chance diagonal; the legend gives each curve's AUC.
struct RocCurve {
  std::string name;
  std::vector<double> fpr, tpr;  // points from (0,0) to (1,1), ascending fpr
  double auc = -1;               // < 0: computed from the points by the trapezoid rule
  std::string note;              // why the curve is empty, when it is

  // Curve from scores and binary labels (label != 0 is positive; higher score = positive).
  // Tied scores form one diagonal step, so the area equals the tie-aware AUROC. Non-finite
  // scores are dropped (noted); one class only gives an empty curve with a note.
  static RocCurve from_scores(std::string name, const std::vector<double>& scores,
                              const std::vector<int>& labels);
};
class RocChart : public Chart {
 public:
  std::vector<RocCurve> curves;
  RocChart();
  RocChart& add(RocCurve curve);
  const char* kind() const override { return "roc"; }
  Rendered render() const override;
};

// Points coloured by a categorical label (legend with counts).
class ScatterChart : public Chart {
 public:
  std::vector<double> x, y;
  std::vector<std::string> labels;  // one per point; empty: all one colour
  bool x_log = false, y_log = false;
  double radius = 3.5;

  ScatterChart& add(double x, double y, std::string label = "");
  const char* kind() const override { return "scatter"; }
  Rendered render() const override;
};

// Bars per category, one bar per series side by side, optional error bars [lo, hi] given as
// absolute bounds (e.g. a bootstrap confidence interval).
struct BarSeries {
  std::string name;
  std::vector<double> values, lo, hi;  // lo/hi empty, or one per category (NaN: no bar)
};
class BarChart : public Chart {
 public:
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  std::vector<RefLine> ref_lines;
  std::optional<double> y_include_lo, y_include_hi;

  BarChart& add(std::string name, std::vector<double> values, std::vector<double> lo = {},
                std::vector<double> hi = {});
  const char* kind() const override { return "bar"; }
  Rendered render() const override;
};

}  // namespace rs::report
