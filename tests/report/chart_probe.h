// Test helpers: parse a chart's SVG strictly and read back what it shows (title, axis labels,
// tick values and their pixel positions, legend labels, data marks), so tests can check the
// drawing against the data independently of how the chart code computed it.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "xml_check.h"

namespace probe {

inline std::unique_ptr<xmlcheck::Node> parse_svg(const std::string& svg) {
  auto root = xmlcheck::parse(svg);
  EXPECT_EQ(root->name, "svg");
  EXPECT_NE(root->attr("xmlns"), nullptr);
  if (root->attr("xmlns")) {
    EXPECT_EQ(*root->attr("xmlns"), "http://www.w3.org/2000/svg");
  }
  EXPECT_NE(root->attr("viewBox"), nullptr);
  return root;
}

// Texts of all elements with the given class (title children excluded).
inline std::vector<std::string> texts(const xmlcheck::Node& root, const std::string& cls) {
  std::vector<std::string> out;
  for (const auto* n : xmlcheck::by_class(root, cls)) out.push_back(n->all_text(true));
  return out;
}

inline const xmlcheck::Node* axis(const xmlcheck::Node& root, const std::string& cls) {
  auto v = xmlcheck::by_class(root, cls);
  return v.empty() ? nullptr : v[0];
}

// Tick values (labels parsed as numbers) and pixel positions (from the tick mark line).
struct Ticks {
  std::vector<double> value, px;
  std::vector<std::string> label;
};
inline Ticks ticks(const xmlcheck::Node& root, bool x_axis) {
  Ticks t;
  const auto* ax = axis(root, x_axis ? "x-axis" : "y-axis");
  if (!ax) return t;
  for (const auto* g : xmlcheck::by_class(*ax, "tick")) {
    auto lbl = xmlcheck::by_class(*g, "tick-label");
    auto lines = xmlcheck::by_name(*g, "line");
    if (lbl.empty() || lines.empty()) continue;
    std::string s = lbl[0]->all_text(true);
    t.label.push_back(s);
    t.value.push_back(std::strtod(s.c_str(), nullptr));
    const std::string* p = lines.back()->attr(x_axis ? "x1" : "y1");
    t.px.push_back(p ? std::strtod(p->c_str(), nullptr) : NAN);
  }
  return t;
}

// Pixel where `v` should appear, interpolated from the first and last tick (log10 if log).
inline double expected_px(const Ticks& t, double v, bool log) {
  auto f = [&](double a) { return log ? std::log10(a) : a; };
  double v0 = f(t.value.front()), v1 = f(t.value.back());
  return t.px.front() + (f(v) - v0) / (v1 - v0) * (t.px.back() - t.px.front());
}

inline double num(const xmlcheck::Node& n, const std::string& a) {
  const std::string* p = n.attr(a);
  EXPECT_NE(p, nullptr) << "missing attribute " << a << " on <" << n.name << ">";
  return p ? std::strtod(p->c_str(), nullptr) : NAN;
}

// Common checks for a chart with numeric axes: title, both axis labels, >= 2 ticks each,
// tick values strictly monotone and evenly placed.
inline void expect_frame(const xmlcheck::Node& root, const std::string& title,
                         const std::string& x_label, const std::string& y_label) {
  EXPECT_EQ(root.title_text(), title);
  auto t = texts(root, "chart-title");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], title);
  auto labels = texts(root, "axis-label");
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0], x_label);
  EXPECT_EQ(labels[1], y_label);
  for (bool x : {true, false}) {
    Ticks tk = ticks(root, x);
    ASSERT_GE(tk.value.size(), 2u) << (x ? "x" : "y") << " axis has fewer than 2 ticks";
    for (size_t i = 1; i < tk.value.size(); ++i) {
      EXPECT_GT(tk.value[i], tk.value[i - 1]) << "tick labels not ascending: " << tk.label[i];
      if (x) EXPECT_GT(tk.px[i], tk.px[i - 1]);
      else EXPECT_NE(tk.px[i], tk.px[i - 1]);
    }
  }
}

}  // namespace probe
