// Numeric axes: a data range -> a padded domain with "nice" tick values and their labels, and the
// mapping from data values to pixels. Linear ticks follow Heckbert, "Nice numbers for graph
// labels" (Graphics Gems, 1990): steps of 1, 2 or 5 times a power of ten.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace rs::report {

struct Axis {
  bool log = false;                 // log10 scale; domain and ticks are then positive
  double lo = 0, hi = 1;            // domain in data units
  std::vector<double> ticks;        // tick positions in data units, ascending
  std::vector<std::string> labels;  // one label per tick
  double px_lo = 0, px_hi = 1;      // pixel positions of lo and hi (px_hi < px_lo for y axes)

  // Data value -> pixel. For a log axis the value must be positive.
  double map(double v) const;
  // Longest tick label in characters (for reserving margin space).
  size_t max_label_chars() const;
};

// Nice number near x (Heckbert): round=true picks the nearest of {1,2,5,10}*10^k, otherwise
// the smallest one >= x.
double nice_number(double x, bool round);

// Linear axis covering [data_min, data_max] (both finite, or an empty range when there is no
// data: pass NaN for both), extended to include `include_lo`/`include_hi` when given and to the
// nearest tick outside. A constant range is padded (by 10% of |v|, or 1 around zero) so the
// value sits mid-axis instead of collapsing the scale. `target` is the wanted tick count.
Axis linear_axis(double data_min, double data_max, std::optional<double> include_lo = {},
                 std::optional<double> include_hi = {}, int target = 6);

// Log10 axis covering the positive range [data_min, data_max] extended to whole decades; ticks
// at powers of ten (every k-th decade for wide ranges; 2x and 5x ticks added when the range
// spans at most two decades). Non-positive data must be filtered out by the caller.
Axis log_axis(double data_min, double data_max, std::optional<double> include_lo = {},
              std::optional<double> include_hi = {});

// Tick labels for the given values, all with the precision the step needs ("0.25", "1e6").
std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step);

}  // namespace rs::report
