#include "stats/t_test.h"

#include <cmath>

#include "stats/checks.h"
#include "stats/descriptive.h"
#include "stats/distributions.h"

namespace rs::stats {

TTestResult welch_t_test(const std::vector<double>& x, const std::vector<double>& y,
                         Alternative alternative) {
  const char* fn = "welch_t_test";
  detail::require_min_size(fn, "x", x.size(), 2);
  detail::require_min_size(fn, "y", y.size(), 2);
  detail::require_no_nan(fn, "x", x);
  detail::require_no_nan(fn, "y", y);
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double vx = variance(x, 1) / nx, vy = variance(y, 1) / ny;
  TTestResult out;
  out.df = (vx + vy) * (vx + vy) / (vx * vx / (nx - 1) + vy * vy / (ny - 1));
  if (std::isnan(out.df)) out.df = 1;  // both variances zero: df is irrelevant (scipy)
  out.t = (mean(x) - mean(y)) / std::sqrt(vx + vy);
  switch (alternative) {
    case Alternative::Greater: out.p = student_t_sf(out.t, out.df); break;
    case Alternative::Less: out.p = student_t_cdf(out.t, out.df); break;
    case Alternative::TwoSided: out.p = 2 * student_t_sf(std::fabs(out.t), out.df); break;
  }
  return out;
}

}  // namespace rs::stats
