// Colours that colour-blind readers can tell apart.
// - Categorical: Okabe & Ito, "Color Universal Design" (2008), reordered so the first colours
//   contrast well on white (yellow last).
// - Sequential: viridis (van der Walt & Smith, matplotlib 2015), perceptually uniform, as linear
//   interpolation between its 9 anchor colours at 0, 1/8, ..., 1.
// - Diverging: ColorBrewer RdBu, 9 classes (Brewer, colorbrewer2.org), blue for low, red for high.
#pragma once
#include <string>

namespace rs::report {

enum class ColorMap { Sequential, Diverging };

struct Rgb {
  double r, g, b;  // 0..255
};

// The i-th categorical colour ("#0072B2", ...); cycles after kCategoricalCount.
inline constexpr size_t kCategoricalCount = 8;
std::string categorical_color(size_t i);

// Colour of t in [0, 1] (clamped; NaN -> mid grey) on the given map.
Rgb map_color(ColorMap map, double t);
std::string to_hex(Rgb c);
// Black or white, whichever reads better on top of `background` (WCAG relative luminance).
std::string contrasting_text(Rgb background);

}  // namespace rs::report
