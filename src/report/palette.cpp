#include "report/palette.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace rs::report {

namespace {

// Okabe-Ito: blue, vermillion, bluish green, reddish purple, orange, sky blue, black, yellow.
constexpr const char* kOkabeIto[kCategoricalCount] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                      "#E69F00", "#56B4E9", "#000000", "#F0E442"};

constexpr Rgb kViridis[9] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                             {44, 114, 142}, {33, 144, 140}, {39, 173, 129},
                             {93, 200, 99},  {170, 220, 50}, {253, 231, 37}};

// RdBu reversed: index 0 = low = dark blue, 8 = high = dark red, 4 = near-white centre.
constexpr Rgb kBlueWhiteRed[9] = {{33, 102, 172},  {67, 147, 195},  {146, 197, 222},
                                  {209, 229, 240}, {247, 247, 247}, {253, 219, 199},
                                  {244, 165, 130}, {214, 96, 77},   {178, 24, 43}};

Rgb interpolate(const Rgb* anchors, size_t n, double t) {
  t = std::clamp(t, 0.0, 1.0);
  double pos = t * static_cast<double>(n - 1);
  size_t i = std::min(static_cast<size_t>(pos), n - 2);
  double f = pos - static_cast<double>(i);
  const Rgb& a = anchors[i];
  const Rgb& b = anchors[i + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

double linear_channel(double c) {
  c /= 255.0;
  return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

}  // namespace

std::string categorical_color(size_t i) { return kOkabeIto[i % kCategoricalCount]; }

Rgb map_color(ColorMap map, double t) {
  if (std::isnan(t)) return {170, 170, 170};
  return map == ColorMap::Sequential ? interpolate(kViridis, 9, t)
                                     : interpolate(kBlueWhiteRed, 9, t);
}

std::string to_hex(Rgb c) {
  auto ch = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", ch(c.r), ch(c.g), ch(c.b));
  return buf;
}

std::string contrasting_text(Rgb bg) {
  // WCAG 2.x relative luminance; white text on backgrounds darker than ~0.18.
  double l = 0.2126 * linear_channel(bg.r) + 0.7152 * linear_channel(bg.g) +
             0.0722 * linear_channel(bg.b);
  return l > 0.18 ? "#000000" : "#ffffff";
}

}  // namespace rs::report
