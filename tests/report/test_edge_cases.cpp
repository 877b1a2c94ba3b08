// Awkward data never breaks a chart: empty input, one point, NaN/inf, constant values, log
// axes given non-positive values, hostile text. The SVG stays well-formed, skipped values are
// counted in a note, and shape errors throw rs::Error naming the chart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "chart_probe.h"
#include "core/error.h"
#include "report/chart.h"
#include "report/svg.h"

using namespace rs::report;
using probe::num;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

TEST(EdgeCases, EmptyChartsSayNoData) {
  LineChart l;
  l.title = "nothing";
  l.x_label = "x";
  l.y_label = "y";
  Histogram h;
  h.title = "nothing";
  ScatterChart s;
  s.title = "nothing";
  RocChart r;
  r.title = "nothing";
  BarChart b;
  b.title = "nothing";
  HeatMap m;
  m.title = "nothing";
  for (const Chart* c : std::vector<const Chart*>{&l, &h, &s, &r, &b, &m}) {
    Rendered out = c->render();
    EXPECT_EQ(out.marks, 0u) << c->kind();
    auto root = probe::parse_svg(out.svg);
    EXPECT_EQ(probe::texts(*root, "no-data"), std::vector<std::string>{"no data"}) << c->kind();
  }
  // Axes are still drawn (0..1 by default) for the numeric charts.
  auto root = probe::parse_svg(l.svg());
  probe::expect_frame(*root, "nothing", "x", "y");
}

TEST(EdgeCases, EmptySeriesIsNotedAndOthersStillDrawn) {
  LineChart c;
  c.title = "t";
  c.add("empty", {}, {});
  c.add("full", {1, 2}, {3, 4});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 2u);
  EXPECT_TRUE(any_contains(r.notes, "series \"empty\": no data"));
  auto root = probe::parse_svg(r.svg);
  EXPECT_EQ(probe::texts(*root, "legend-label").size(), 2u);
  EXPECT_EQ(xmlcheck::by_name(*root, "path", "line").size(), 1u);
  EXPECT_TRUE(any_contains(probe::texts(*root, "note"), "no data"));
}

TEST(EdgeCases, SinglePointGetsMarkerAndPaddedAxes) {
  LineChart c;
  c.title = "one";
  c.markers = false;  // even with markers off, an isolated point must stay visible
  c.add("p", {3.0}, {7.0});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 1u);
  auto root = probe::parse_svg(r.svg);
  auto pts = xmlcheck::by_name(*root, "circle", "point");
  ASSERT_EQ(pts.size(), 1u);
  for (bool x : {true, false}) {
    auto t = probe::ticks(*root, x);
    ASSERT_GE(t.value.size(), 2u);
    double v = x ? 3.0 : 7.0;
    EXPECT_LT(t.value.front(), v);
    EXPECT_GT(t.value.back(), v);
    EXPECT_NEAR(num(*pts[0], x ? "cx" : "cy"), probe::expected_px(t, v, false), 0.02);
  }
}

TEST(EdgeCases, NaNAndInfBreakTheLineAndAreNoted) {
  LineChart c;
  c.title = "gaps";
  c.add("s", {0, 1, 2, 3, 4, 5}, {1, 2, kNaN, 4, kInf, 6});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 4u);
  EXPECT_TRUE(any_contains(r.notes, "series \"s\": 2 values skipped (NaN/inf)"));
  auto root = probe::parse_svg(r.svg);
  auto paths = xmlcheck::by_name(*root, "path", "line");
  ASSERT_EQ(paths.size(), 1u);
  const std::string& d = *paths[0]->attr("d");
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 3);  // [0,1] [3] [5]
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 1);
  EXPECT_EQ(d.find("nan"), std::string::npos);
  EXPECT_EQ(d.find("inf"), std::string::npos);
  // Axis range from the finite values only.
  auto yt = probe::ticks(*root, false);
  EXPECT_LE(yt.value.back(), 10);
}

TEST(EdgeCases, ConstantValuesGetAPaddedRange) {
  LineChart c;
  c.title = "flat";
  c.add("s", {0, 1, 2, 3}, {5, 5, 5, 5});
  auto root = probe::parse_svg(c.svg());
  auto yt = probe::ticks(*root, false);
  ASSERT_GE(yt.value.size(), 3u);
  EXPECT_LT(yt.value.front(), 5);
  EXPECT_GT(yt.value.back(), 5);
  Histogram h;
  h.title = "flat";
  h.add("s", {2, 2, 2});
  Rendered hr = h.render();
  EXPECT_EQ(hr.marks, 1u);  // one non-empty bin holding all three values
  auto hroot = probe::parse_svg(hr.svg);
  ASSERT_EQ(xmlcheck::by_name(*hroot, "rect", "bar").size(), 1u);
  EXPECT_NE(xmlcheck::by_name(*hroot, "rect", "bar")[0]->title_text().find(": 3"), std::string::npos);
}

TEST(EdgeCases, LogAxisSkipsNonPositiveWithNote) {
  LineChart c;
  c.title = "log";
  c.y_log = true;
  c.add("s", {1, 2, 3, 4}, {10, 0, -5, 1000});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 2u);
  EXPECT_TRUE(any_contains(r.notes, "2 values skipped (<= 0 on a log axis)"));
  auto root = probe::parse_svg(r.svg);
  auto yt = probe::ticks(*root, false);
  for (double v : yt.value) EXPECT_GT(v, 0);
  ScatterChart s;
  s.title = "log scatter";
  s.x_log = true;
  s.add(-1, 1, "a").add(0, 2, "a").add(10, 3, "b").add(kNaN, 1, "b");
  Rendered sr = s.render();
  EXPECT_EQ(sr.marks, 1u);
  EXPECT_TRUE(any_contains(sr.notes, "2 values skipped (<= 0 on a log axis)"));
  EXPECT_TRUE(any_contains(sr.notes, "1 value skipped (NaN/inf)"));
  probe::parse_svg(sr.svg);
}

TEST(EdgeCases, HeatMapMissingCellsAndConstantValues) {
  HeatMap h;
  h.title = "holes";
  h.set(2, 2, {0.5, kNaN, 0.5, 0.5});
  Rendered r = h.render();
  EXPECT_EQ(r.marks, 4u);
  EXPECT_TRUE(any_contains(r.notes, "1 cell is NaN/inf"));
  auto root = probe::parse_svg(r.svg);
  auto cells = xmlcheck::by_name(*root, "rect", "cell");
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(*cells[1]->attr("fill"), to_hex(map_color(ColorMap::Sequential, kNaN)));
  EXPECT_NE(cells[1]->title_text().find("missing"), std::string::npos);
  // Constant data sits mid-scale, not at an end.
  EXPECT_EQ(*cells[0]->attr("fill"), to_hex(map_color(ColorMap::Sequential, 0.5)));
}

TEST(EdgeCases, ShapeErrorsThrowNamingTheChart) {
  HeatMap h;
  h.title = "layer x head";
  try {
    h.set(3, 4, std::vector<double>(11));
    FAIL();
  } catch (const rs::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("layer x head"), std::string::npos);
    EXPECT_NE(m.find("12"), std::string::npos);
    EXPECT_NE(m.find("11"), std::string::npos);
  }
  h.set(2, 2, {1, 2, 3, 4});
  h.row_labels = {"only one"};
  EXPECT_THROW(h.render(), rs::Error);
  LineChart l;
  l.title = "lines";
  EXPECT_THROW(l.add("s", {1, 2}, {1}), rs::Error);
  ScatterChart s;
  s.x = {1, 2};
  s.y = {1};
  EXPECT_THROW(s.render(), rs::Error);
  RocChart r;
  RocCurve bad;
  bad.fpr = {0, 1};
  bad.tpr = {0};
  EXPECT_THROW(r.add(bad), rs::Error);
  EXPECT_THROW(RocCurve::from_scores("x", {1, 2}, {1}), rs::Error);
}

TEST(EdgeCases, RocWithOneClassOrNaNScores) {
  RocCurve one = RocCurve::from_scores("one class", {0.1, 0.2, 0.3}, {1, 1, 1});
  EXPECT_TRUE(one.fpr.empty());
  EXPECT_NE(one.note.find("needs both classes (3 positives, 0 negatives)"), std::string::npos);
  RocCurve nan = RocCurve::from_scores("nan", {0.9, kNaN, 0.1}, {1, 0, 0});
  EXPECT_NE(nan.note.find("1 NaN/inf scores skipped"), std::string::npos);
  RocChart c;
  c.title = "degenerate";
  c.add(one).add(nan);
  Rendered r = c.render();
  EXPECT_TRUE(any_contains(r.notes, "curve \"one class\": needs both classes"));
  auto root = probe::parse_svg(r.svg);
  auto legend = probe::texts(*root, "legend-label");
  ASSERT_EQ(legend.size(), 2u);
  EXPECT_EQ(legend[0], "one class (AUC n/a)");
  EXPECT_EQ(legend[1], "nan (AUC 1.000)");
}

TEST(EdgeCases, BarsWithNaNValuesAndBounds) {
  BarChart b;
  b.title = "bars";
  b.categories = {"a", "b", "c"};
  b.add("s", {1, kNaN, 2}, {0.5, 0.5, kNaN}, {1.5, 1.5, 2.5});
  Rendered r = b.render();
  EXPECT_EQ(r.marks, 2u);
  EXPECT_TRUE(any_contains(r.notes, "series \"s\": 1 value skipped (NaN/inf)"));
  EXPECT_TRUE(any_contains(r.notes, "error bars: 1 value skipped"));
  auto root = probe::parse_svg(r.svg);
  EXPECT_EQ(xmlcheck::by_name(*root, "rect", "bar").size(), 2u);
  EXPECT_EQ(xmlcheck::by_name(*root, "path", "errbar").size(), 1u);
}

TEST(EdgeCases, HostileTextIsEscapedEverywhere) {
  const std::string evil = "<script>alert(\"x\")</script> & 'q' \xFF";
  const std::string clean = "<script>alert(\"x\")</script> & 'q' \xEF\xBF\xBD";
  LineChart c;
  c.title = evil;
  c.x_label = evil;
  c.y_label = evil;
  c.add(evil, {1, 2}, {3, 4});
  c.ref_lines.push_back({3.5, evil});
  std::string svg = c.svg();
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  auto root = probe::parse_svg(svg);  // strict parse: would throw on any unescaped text
  EXPECT_EQ(root->title_text(), clean);
  EXPECT_EQ(probe::texts(*root, "axis-label"), (std::vector<std::string>{clean, clean}));
  auto legend = xmlcheck::by_class(*root, "legend-item");
  ASSERT_EQ(legend.size(), 1u);
  EXPECT_EQ(legend[0]->title_text(), clean);  // full label on hover even when shortened
  HeatMap h;
  h.title = evil;
  h.row_labels = {evil};
  h.col_labels = {evil, "b&b"};
  h.value_label = evil;
  h.set(1, 2, {1, 2});
  auto hroot = probe::parse_svg(h.svg());
  EXPECT_EQ(probe::texts(*hroot, "scale-label")[0], clean);
  EXPECT_EQ(probe::texts(*probe::axis(*hroot, "x-axis"), "tick-label")[1], "b&b");
}

TEST(EdgeCases, LegendTooLongForThePlotEndsWithMoreCount) {
  LineChart c;
  c.title = "30 layers";
  for (int l = 0; l < 30; ++l) c.add("layer " + std::to_string(l), {0, 1}, {0.0 + l, 1.0 + l});
  Rendered r = c.render();
  EXPECT_EQ(r.marks, 60u);  // every series drawn even when the legend is cut short
  auto root = probe::parse_svg(r.svg);
  size_t shown = xmlcheck::by_class(*root, "legend-item").size();
  EXPECT_GE(shown, 5u);
  EXPECT_LT(shown, 30u);
  EXPECT_EQ(probe::texts(*root, "legend-more"),
            std::vector<std::string>{"+ " + std::to_string(30 - shown) + " more"});
  EXPECT_EQ(xmlcheck::by_name(*root, "path", "line").size(), 30u);
}

TEST(EdgeCases, ManyCategoriesAndLongLabelsStayInsideTheChart) {
  ScatterChart s;
  s.title = std::string(300, 'T');
  for (int i = 0; i < 12; ++i) s.add(i, i, "category number " + std::to_string(i) + " with a very long name");
  Rendered r = s.render();
  EXPECT_TRUE(any_contains(r.notes, "12 categories: colours repeat"));
  auto root = probe::parse_svg(r.svg);
  double width = num(*root, "width");
  // Title shortened to fit; legend entries shortened (full text in their <title>).
  std::string title = probe::texts(*root, "chart-title")[0];
  EXPECT_LT(title.size(), 300u);
  EXPECT_LE(rs::report::text_width(title, 15), width);
  for (const auto* item : xmlcheck::by_class(*root, "legend-item"))
    EXPECT_NE(item->title_text().find("with a very long name"), std::string::npos);
  BarChart b;
  b.title = "rotated";
  for (int i = 0; i < 10; ++i) b.categories.push_back("a long category label " + std::to_string(i));
  b.add("", std::vector<double>(10, 1.0));
  auto broot = probe::parse_svg(b.svg());
  auto labels = xmlcheck::by_class(*probe::axis(*broot, "x-axis"), "tick-label");
  ASSERT_FALSE(labels.empty());
  EXPECT_NE(labels[0]->attr("transform"), nullptr);  // crowded: rotated
}

}  // namespace
