#include "stats/effect_size.h"

#include <cmath>

#include "stats/checks.h"
#include "stats/descriptive.h"

namespace rs::stats {

double cohens_d(const std::vector<double>& x, const std::vector<double>& y) {
  const char* fn = "cohens_d";
  detail::require_min_size(fn, "x", x.size(), 2);
  detail::require_min_size(fn, "y", y.size(), 2);
  detail::require_no_nan(fn, "x", x);
  detail::require_no_nan(fn, "y", y);
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double ssx = variance(x, 1) * (nx - 1), ssy = variance(y, 1) * (ny - 1);
  const double pooled_sd = std::sqrt((ssx + ssy) / (nx + ny - 2));
  return (mean(x) - mean(y)) / pooled_sd;
}

}  // namespace rs::stats
