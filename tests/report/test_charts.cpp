// Each chart type: its SVG parses as strict XML, carries title, axis labels, ticks and legend,
// and draws one mark per data item at the pixel its value maps to on the drawn axes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <cmath>
#include <random>
#include <set>

#include "chart_probe.h"
#include "core/error.h"
#include "report/chart.h"

using namespace rs::report;
using probe::num;

namespace {

TEST(LineChart, AxesLegendAndEveryPointAtItsValue) {
  LineChart c;
  c.title = "ARI over training";
  c.x_label = "step";
  c.y_label = "ARI";
  std::vector<double> x = {0, 100, 200, 300, 400, 500};
  c.add("layer 1", x, {0.0, 0.1, 0.3, 0.5, 0.55, 0.6});
  c.add("layer 2", x, {0.02, 0.2, 0.5, 0.7, 0.8, 0.82}, true);
  c.add("layer 3", x, {0.01, 0.3, 0.6, 0.85, 0.9, 0.93});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 18u);
  EXPECT_TRUE(r.notes.empty());
  auto root = probe::parse_svg(r.svg);
  probe::expect_frame(*root, "ARI over training", "step", "ARI");

  auto legend = probe::texts(*root, "legend-label");
  EXPECT_EQ(legend, (std::vector<std::string>{"layer 1", "layer 2", "layer 3"}));
  auto paths = xmlcheck::by_name(*root, "path", "line");
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_NE(paths[1]->attr("stroke-dasharray"), nullptr);  // the dashed series
  std::set<std::string> strokes;
  for (auto* p : paths) strokes.insert(*p->attr("stroke"));
  EXPECT_EQ(strokes.size(), 3u) << "series must have distinct colours";

  auto xt = probe::ticks(*root, true), yt = probe::ticks(*root, false);
  EXPECT_LE(xt.value.front(), 0);
  EXPECT_GE(xt.value.back(), 500);
  EXPECT_LE(yt.value.front(), 0);
  EXPECT_GE(yt.value.back(), 0.93);
  auto points = xmlcheck::by_name(*root, "circle", "point");
  ASSERT_EQ(points.size(), 18u);  // <= 40 points per series: markers on every point
  size_t k = 0;
  for (const auto& s : c.series)
    for (size_t i = 0; i < s.x.size(); ++i, ++k) {
      EXPECT_NEAR(num(*points[k], "cx"), probe::expected_px(xt, s.x[i], false), 0.02);
      EXPECT_NEAR(num(*points[k], "cy"), probe::expected_px(yt, s.y[i], false), 0.02);
      EXPECT_NE(points[k]->title_text().find(s.name), std::string::npos);
    }
}

TEST(LineChart, LogAxesPlacePointsInLogSpace) {
  LineChart c;
  c.title = "rank per layer";
  c.x_label = "steps";
  c.y_label = "rank";
  c.x_log = c.y_log = true;
  c.add("answer", {1, 10, 100, 1000, 5000}, {40000, 3000, 120, 7, 1});
  auto root = probe::parse_svg(c.svg());
  probe::expect_frame(*root, "rank per layer", "steps", "rank");
  auto xt = probe::ticks(*root, true), yt = probe::ticks(*root, false);
  // Decade ticks: every label a power of ten, spanning the data.
  for (double v : yt.value) {
    double e = std::log10(v);
    EXPECT_NEAR(e, std::round(e), 1e-12) << v;
  }
  EXPECT_LE(yt.value.front(), 1);
  EXPECT_GE(yt.value.back(), 40000);
  auto pts = xmlcheck::by_name(*root, "circle", "point");
  ASSERT_EQ(pts.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(num(*pts[i], "cx"), probe::expected_px(xt, c.series[0].x[i], true), 0.02);
    EXPECT_NEAR(num(*pts[i], "cy"), probe::expected_px(yt, c.series[0].y[i], true), 0.02);
  }
}

TEST(LineChart, BandPolygonFollowsBoundsAndBreaksAtGaps) {
  LineChart c;
  c.title = "ARI with CI";
  c.add("layer 6", {0, 1, 2, 3, 4}, {0.2, 0.4, 0.5, 0.6, 0.7});
  c.band({0.1, 0.3, NAN, 0.5, 0.6}, {0.3, 0.5, 0.6, 0.7, 0.95});
  Rendered r = c.render();
  auto root = probe::parse_svg(r.svg);
  auto bands = xmlcheck::by_name(*root, "path", "band");
  ASSERT_EQ(bands.size(), 1u);
  const std::string& d = *bands[0]->attr("d");
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2);  // [0,1] and [3,4]: NaN bound breaks it
  EXPECT_EQ(std::count(d.begin(), d.end(), 'Z'), 2);
  // The axis grows to hold the band, and the first polygon's first vertex is (x0, hi0).
  auto xt = probe::ticks(*root, true), yt = probe::ticks(*root, false);
  EXPECT_GE(yt.value.back(), 0.95);
  double x0, y0;
  ASSERT_EQ(std::sscanf(d.c_str(), "M%lf %lf", &x0, &y0), 2);
  EXPECT_NEAR(x0, probe::expected_px(xt, 0, false), 0.02);
  EXPECT_NEAR(y0, probe::expected_px(yt, 0.3, false), 0.02);
  EXPECT_THROW(c.band({1}, {2}), rs::Error);
  LineChart empty;
  EXPECT_THROW(empty.band({}, {}), rs::Error);
}

TEST(LineChart, InvertedAxisPutsSmallValuesOnTop) {
  LineChart c;
  c.title = "t";
  c.y_inverted = true;
  c.add("rank", {1, 2, 3}, {1, 5, 9});
  auto root = probe::parse_svg(c.svg());
  auto pts = xmlcheck::by_name(*root, "circle", "point");
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_LT(num(*pts[0], "cy"), num(*pts[1], "cy"));
  EXPECT_LT(num(*pts[1], "cy"), num(*pts[2], "cy"));
}

TEST(LineChart, ManyPointsDrawLinesWithoutMarkersButCountAllMarks) {
  LineChart c;
  c.title = "long";
  std::vector<double> y(500);
  for (size_t i = 0; i < y.size(); ++i) y[i] = std::sin(i * 0.05);
  c.add("sin", y);
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 500u);
  auto root = probe::parse_svg(r.svg);
  EXPECT_TRUE(xmlcheck::by_name(*root, "circle", "point").empty());
  auto paths = xmlcheck::by_name(*root, "path", "line");
  ASSERT_EQ(paths.size(), 1u);
  const std::string& d = *paths[0]->attr("d");
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 1);
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 499);
}

TEST(LineChart, ReferenceLineDrawnAtItsValue) {
  LineChart c;
  c.title = "acc";
  c.add("a", {0, 1, 2}, {0.4, 0.7, 0.9});
  c.ref_lines.push_back({0.5, "chance"});
  auto root = probe::parse_svg(c.svg());
  auto refs = xmlcheck::by_class(*root, "ref-line");
  ASSERT_EQ(refs.size(), 1u);
  auto yt = probe::ticks(*root, false);
  auto line = xmlcheck::by_name(*refs[0], "line");
  ASSERT_EQ(line.size(), 1u);
  EXPECT_NEAR(num(*line[0], "y1"), probe::expected_px(yt, 0.5, false), 0.02);
  EXPECT_EQ(refs[0]->all_text(), "chance");
}

TEST(HeatMap, OneCellPerValueWithLabelsScaleAndHoverValues) {
  HeatMap h;
  h.title = "accuracy per head";
  h.x_label = "head";
  h.y_label = "layer";
  h.value_label = "accuracy";
  const size_t rows = 6, cols = 4;
  std::vector<double> v;
  for (size_t i = 0; i < rows * cols; ++i) v.push_back(0.4 + 0.025 * static_cast<double>(i));
  h.set(rows, cols, v);
  Rendered r = h.render();
  EXPECT_EQ(r.marks, rows * cols);
  auto root = probe::parse_svg(r.svg);
  EXPECT_EQ(probe::texts(*root, "chart-title")[0], "accuracy per head");
  auto labels = probe::texts(*root, "axis-label");
  EXPECT_EQ(labels, (std::vector<std::string>{"head", "layer"}));
  EXPECT_EQ(probe::texts(*root, "scale-label"), std::vector<std::string>{"accuracy"});

  auto cells = xmlcheck::by_name(*root, "rect", "cell");
  ASSERT_EQ(cells.size(), rows * cols);
  // Row-major order, hover text names row, column and value; colours increase monotonically
  // along the sequential map, so all 24 distinct values get distinct colours.
  std::set<std::string> fills;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string tip = cells[i]->title_text();
    std::string want = "layer " + std::to_string(i / cols) + ", head " + std::to_string(i % cols) + ": ";
    EXPECT_EQ(tip.substr(0, want.size()), want) << tip;
    EXPECT_NEAR(std::strtod(tip.substr(want.size()).c_str(), nullptr), v[i], 1e-9);
    fills.insert(*cells[i]->attr("fill"));
  }
  EXPECT_EQ(fills.size(), rows * cols);
  // Cells tile the plot: same width, consecutive x within a row.
  EXPECT_NEAR(num(*cells[1], "x") - num(*cells[0], "x"), num(*cells[0], "width"), 1e-2);
  EXPECT_NEAR(num(*cells[cols], "y") - num(*cells[0], "y"), num(*cells[0], "height"), 1e-2);
  // Category labels on both axes.
  auto xa = probe::axis(*root, "x-axis");
  auto ya = probe::axis(*root, "y-axis");
  ASSERT_TRUE(xa && ya);
  EXPECT_EQ(probe::texts(*xa, "tick-label"), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(probe::texts(*ya, "tick-label").size(), rows);
  // Colour scale: steps plus >= 2 ascending ticks inside the value range.
  auto scale = probe::axis(*root, "color-scale");
  ASSERT_TRUE(scale);
  EXPECT_GE(xmlcheck::by_class(*scale, "scale-step").size(), 16u);
  auto st = probe::texts(*scale, "tick-label");
  ASSERT_GE(st.size(), 2u);
  for (size_t i = 0; i < st.size(); ++i) {
    double t = std::strtod(st[i].c_str(), nullptr);
    EXPECT_GE(t, 0.4 - 1e-9);
    EXPECT_LE(t, 0.975 + 1e-9);
    if (i) {
      EXPECT_GT(t, std::strtod(st[i - 1].c_str(), nullptr));
    }
  }
}

TEST(HeatMap, HighlightedCellsOutlinedAndOutOfRangeRejected) {
  HeatMap h;
  h.title = "heads";
  h.set(3, 3, std::vector<double>(9, 0.5));
  h.highlight = {{0, 2}, {2, 1}};
  auto root = probe::parse_svg(h.svg());
  auto cells = xmlcheck::by_name(*root, "rect", "cell");
  auto marks = xmlcheck::by_name(*root, "rect", "highlight");
  ASSERT_EQ(marks.size(), 2u);
  // Each outline sits inside its cell.
  const size_t idx[2] = {0 * 3 + 2, 2 * 3 + 1};
  for (int k = 0; k < 2; ++k) {
    const auto* cell = cells[idx[k]];
    EXPECT_GT(num(*marks[k], "x"), num(*cell, "x"));
    EXPECT_LT(num(*marks[k], "x") + num(*marks[k], "width"), num(*cell, "x") + num(*cell, "width"));
    EXPECT_GT(num(*marks[k], "y"), num(*cell, "y"));
    EXPECT_LT(num(*marks[k], "y") + num(*marks[k], "height"), num(*cell, "y") + num(*cell, "height"));
  }
  h.highlight = {{3, 0}};
  EXPECT_THROW(h.render(), rs::Error);
}

TEST(HeatMap, CustomCategoryLabelsAndDivergingCentre) {
  HeatMap h;
  h.title = "patching";
  h.color_map = ColorMap::Diverging;
  h.row_labels = {"L0", "L1"};
  h.col_labels = {"resid", "attn", "mlp"};
  h.set(2, 3, {-0.5, 0.0, 0.25, 0.5, -0.1, 0.0});
  auto root = probe::parse_svg(h.svg());
  auto cells = xmlcheck::by_name(*root, "rect", "cell");
  ASSERT_EQ(cells.size(), 6u);
  // Zero is the centre: drawn (near) white; -0.5 and +0.5 at the two ends of the map.
  EXPECT_EQ(*cells[1]->attr("fill"), to_hex(map_color(ColorMap::Diverging, 0.5)));
  EXPECT_EQ(*cells[0]->attr("fill"), to_hex(map_color(ColorMap::Diverging, 0.0)));
  EXPECT_EQ(*cells[3]->attr("fill"), to_hex(map_color(ColorMap::Diverging, 1.0)));
  EXPECT_EQ(probe::texts(*probe::axis(*root, "x-axis"), "tick-label"),
            (std::vector<std::string>{"resid", "attn", "mlp"}));
  EXPECT_EQ(probe::texts(*probe::axis(*root, "y-axis"), "tick-label"),
            (std::vector<std::string>{"L0", "L1"}));
  // Large cells: values printed, in a colour readable on the cell.
  EXPECT_EQ(xmlcheck::by_class(*root, "cell-value").size(), 6u);
}

TEST(HeatMap, LargeGridThinsLabelsButDrawsEveryCell) {
  HeatMap h;
  h.title = "30 x 9";
  h.set(30, 9, std::vector<double>(270, 0.0));
  for (size_t i = 0; i < 270; ++i) h.values[i] = static_cast<double>(i % 17);
  Rendered r = h.render();
  auto root = probe::parse_svg(r.svg);
  EXPECT_EQ(xmlcheck::by_name(*root, "rect", "cell").size(), 270u);
  size_t ylabels = probe::texts(*probe::axis(*root, "y-axis"), "tick-label").size();
  EXPECT_GE(ylabels, 5u);
  EXPECT_LE(ylabels, 30u);
}

TEST(Histogram, SharedBinsTranslucentAndHeightsProportional) {
  Histogram h;
  h.title = "metric by label";
  h.x_label = "HFER";
  h.bins = 10;
  h.range_lo = 0, h.range_hi = 1;
  h.add("valid", {0.05, 0.15, 0.15, 0.95});
  h.add("invalid", {0.15, 0.55, 0.56, 0.57, 1.0});
  Rendered r = h.render();
  // valid: bins 0, 1, 9; invalid: bins 1, 5, 9 (1.0 lands in the last bin).
  EXPECT_EQ(r.marks, 6u);
  auto root = probe::parse_svg(r.svg);
  probe::expect_frame(*root, "metric by label", "HFER", "count");
  EXPECT_EQ(probe::texts(*root, "legend-label"),
            (std::vector<std::string>{"valid (n=4)", "invalid (n=5)"}));
  auto series = xmlcheck::by_class(*root, "series");
  ASSERT_EQ(series.size(), 2u);
  auto a = xmlcheck::by_name(*series[0], "rect", "bar");
  auto b = xmlcheck::by_name(*series[1], "rect", "bar");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (auto* bar : a) EXPECT_LT(std::strtod(bar->attr("fill-opacity")->c_str(), nullptr), 1.0);
  // Same bin edges across groups: bin 1 of "valid" and of "invalid" start at the same x.
  EXPECT_NEAR(num(*a[1], "x"), num(*b[0], "x"), 1e-6);
  EXPECT_NEAR(num(*a[1], "width"), num(*b[0], "width"), 1e-6);
  EXPECT_NEAR(num(*a[1], "height"), 2 * num(*a[0], "height"), 0.02);  // counts 2 vs 1
  EXPECT_NEAR(num(*b[1], "height"), 3 * num(*b[0], "height"), 0.02);  // counts 3 vs 1
  auto xt = probe::ticks(*root, true);
  EXPECT_NEAR(num(*a[0], "x"), probe::expected_px(xt, 0.0, false), 0.02);
  EXPECT_NEAR(num(*a[2], "x") + num(*a[2], "width"), probe::expected_px(xt, 1.0, false), 0.02);
}

TEST(Histogram, DensityIntegratesToOne) {
  std::mt19937_64 g(3);
  std::normal_distribution<double> n(0, 1);
  std::vector<double> v(500);
  for (double& x : v) x = n(g);
  Histogram h;
  h.title = "density";
  h.density = true;
  h.bins = 20;
  h.add("z", v);
  auto root = probe::parse_svg(h.svg());
  auto yt = probe::ticks(*root, false);
  auto xt = probe::ticks(*root, true);
  double area = 0;
  for (auto* bar : xmlcheck::by_name(*root, "rect", "bar")) {
    double height_units = (num(*bar, "height")) / std::fabs(yt.px.back() - yt.px.front()) *
                          (yt.value.back() - yt.value.front());
    double width_units = num(*bar, "width") / (xt.px.back() - xt.px.front()) *
                         (xt.value.back() - xt.value.front());
    area += height_units * width_units;
  }
  EXPECT_NEAR(area, 1.0, 2e-3);
}

// AUROC by counting pairs (ties count 1/2): an independent check of the ROC curve's area.
double pairwise_auc(const std::vector<double>& s, const std::vector<int>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (y[i] && !y[j]) {
        pairs += 1;
        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
      }
  return wins / pairs;
}

TEST(RocCurve, AreaMatchesPairCountingWithTies) {
  std::mt19937_64 g(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> s;
    std::vector<int> y;
    size_t n = 5 + g() % 60;
    for (size_t i = 0; i < n; ++i) {
      y.push_back(static_cast<int>(g() % 2));
      s.push_back(static_cast<double>(g() % 7) + 0.5 * y.back());  // many ties
    }
    if (std::count(y.begin(), y.end(), 1) == 0) y[0] = 1;
    if (std::count(y.begin(), y.end(), 0) == 0) y[1] = 0;
    RocCurve c = RocCurve::from_scores("m", s, y);
    ASSERT_EQ(c.fpr.front(), 0);
    ASSERT_EQ(c.tpr.front(), 0);
    ASSERT_EQ(c.fpr.back(), 1);
    ASSERT_EQ(c.tpr.back(), 1);
    double area = 0;
    for (size_t i = 1; i < c.fpr.size(); ++i) {
      ASSERT_GE(c.fpr[i], c.fpr[i - 1]);
      ASSERT_GE(c.tpr[i], c.tpr[i - 1]);
      area += (c.fpr[i] - c.fpr[i - 1]) * (c.tpr[i] + c.tpr[i - 1]) / 2;
    }
    EXPECT_NEAR(area, pairwise_auc(s, y), 1e-12);
  }
}

TEST(RocChart, DiagonalCurvesAndAucInLegend) {
  RocChart c;
  c.title = "ROC";
  c.add(RocCurve::from_scores("good", {0.9, 0.8, 0.7, 0.6}, {1, 0, 1, 0}));  // AUC 0.75
  c.add(RocCurve::from_scores("tied", {1, 1, 1, 1}, {1, 0, 1, 0}));          // AUC 0.5
  RocCurve manual;
  manual.name = "given";
  manual.fpr = {0, 0, 1};
  manual.tpr = {0, 1, 1};
  manual.auc = 0.987654;
  c.add(manual);
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 5u + 2u + 3u);
  auto root = probe::parse_svg(r.svg);
  probe::expect_frame(*root, "ROC", "False positive rate", "True positive rate");
  EXPECT_EQ(probe::texts(*root, "legend-label"),
            (std::vector<std::string>{"good (AUC 0.750)", "tied (AUC 0.500)", "given (AUC 0.988)"}));
  ASSERT_EQ(xmlcheck::by_name(*root, "line", "diagonal").size(), 1u);
  EXPECT_EQ(xmlcheck::by_name(*root, "path", "line").size(), 3u);
  auto xt = probe::ticks(*root, true), yt = probe::ticks(*root, false);
  EXPECT_EQ(xt.value.front(), 0);
  EXPECT_EQ(xt.value.back(), 1);
  EXPECT_EQ(yt.value.back(), 1);
  // Square plot: x extent equals y extent.
  EXPECT_NEAR(xt.px.back() - xt.px.front(), yt.px.front() - yt.px.back(), 0.02);
  // The tied curve is the diagonal itself: "M x0 y0 L x1 y1" with the diagonal's end points.
  auto diag = xmlcheck::by_name(*root, "line", "diagonal")[0];
  std::string expect_d = "M" + *diag->attr("x1") + " " + *diag->attr("y1") + "L" +
                         *diag->attr("x2") + " " + *diag->attr("y2");
  EXPECT_EQ(*xmlcheck::by_name(*root, "path", "line")[1]->attr("d"), expect_d);
}

TEST(ScatterChart, PointsColouredByLabelWithCountsInLegend) {
  ScatterChart c;
  c.title = "PCA by task";
  c.x_label = "PC 1";
  c.y_label = "PC 2";
  std::mt19937_64 g(5);
  const char* tasks[] = {"copy", "reverse", "successor"};
  for (int i = 0; i < 30; ++i) c.add(static_cast<double>(g() % 100) / 10, static_cast<double>(g() % 50), tasks[i % 3 == 2 ? 2 : i % 2]);
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 30u);
  auto root = probe::parse_svg(r.svg);
  probe::expect_frame(*root, "PCA by task", "PC 1", "PC 2");
  std::map<std::string, size_t> count;
  for (const auto& l : c.labels) ++count[l];
  auto legend = probe::texts(*root, "legend-label");
  ASSERT_EQ(legend.size(), 3u);
  EXPECT_EQ(legend[0], "copy (" + std::to_string(count["copy"]) + ")");
  auto pts = xmlcheck::by_name(*root, "circle", "point");
  ASSERT_EQ(pts.size(), 30u);
  std::map<std::string, std::set<std::string>> colour_of;
  auto xt = probe::ticks(*root, true), yt = probe::ticks(*root, false);
  for (size_t i = 0; i < 30; ++i) {
    colour_of[c.labels[i]].insert(*pts[i]->attr("fill"));
    EXPECT_NEAR(num(*pts[i], "cx"), probe::expected_px(xt, c.x[i], false), 0.02);
    EXPECT_NEAR(num(*pts[i], "cy"), probe::expected_px(yt, c.y[i], false), 0.02);
  }
  std::set<std::string> all;
  for (auto& [label, cols] : colour_of) {
    EXPECT_EQ(cols.size(), 1u) << label;
    all.insert(*cols.begin());
  }
  EXPECT_EQ(all.size(), 3u);
}

TEST(BarChart, BarsFromZeroWithErrorBarsAtTheirBounds) {
  BarChart b;
  b.title = "accuracy by method";
  b.x_label = "method";
  b.y_label = "accuracy";
  b.categories = {"prob", "QK head", "ensemble"};
  b.add("calibration", {0.6, 0.75, -0.1}, {0.55, 0.7, -0.2}, {0.65, 0.8, 0.0});
  b.add("held-out", {0.58, 0.71, 0.2});
  Rendered r = b.render();
  EXPECT_EQ(r.marks, 6u);
  auto root = probe::parse_svg(r.svg);
  EXPECT_EQ(probe::texts(*root, "axis-label"), (std::vector<std::string>{"accuracy", "method"}));
  EXPECT_EQ(probe::texts(*probe::axis(*root, "x-axis"), "tick-label"),
            (std::vector<std::string>{"prob", "QK head", "ensemble"}));
  EXPECT_EQ(probe::texts(*root, "legend-label"),
            (std::vector<std::string>{"calibration", "held-out"}));
  auto yt = probe::ticks(*root, false);
  ASSERT_GE(yt.value.size(), 2u);
  auto bars = xmlcheck::by_name(*root, "rect", "bar");
  ASSERT_EQ(bars.size(), 6u);
  double zero = probe::expected_px(yt, 0, false);
  for (size_t k = 0; k < 6; ++k) {
    double v = b.series[k / 3].values[k % 3];
    double top = num(*bars[k], "y"), bottom = top + num(*bars[k], "height");
    double want_top = probe::expected_px(yt, std::max(v, 0.0), false);
    double want_bottom = probe::expected_px(yt, std::min(v, 0.0), false);
    EXPECT_NEAR(top, want_top, 0.02) << k;
    EXPECT_NEAR(bottom, want_bottom, 0.02) << k;
    EXPECT_TRUE(std::fabs(top - zero) < 0.02 || std::fabs(bottom - zero) < 0.02);
  }
  auto err = xmlcheck::by_name(*root, "path", "errbar");
  ASSERT_EQ(err.size(), 3u);  // only the calibration series has bounds
  // First error bar: vertical stroke from lo to hi.
  std::string d = *err[0]->attr("d");
  double x0, ylo, x1, yhi;
  ASSERT_EQ(std::sscanf(d.c_str(), "M%lf %lfL%lf %lf", &x0, &ylo, &x1, &yhi), 4);
  EXPECT_NEAR(ylo, probe::expected_px(yt, 0.55, false), 0.02);
  EXPECT_NEAR(yhi, probe::expected_px(yt, 0.65, false), 0.02);
}

TEST(BarChart, MismatchedSeriesThrowsNamingChart) {
  BarChart b;
  b.title = "acc";
  b.categories = {"a", "b"};
  try {
    b.add("s", {1, 2, 3});
    FAIL() << "expected rs::Error";
  } catch (const rs::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("acc"), std::string::npos) << m;
    EXPECT_NE(m.find("3 values"), std::string::npos) << m;
  }
  EXPECT_THROW(b.add("s", {1, 2}, {0.5}, {1.5, 2.5}), rs::Error);
}

}  // namespace
