#include "stats/descriptive.h"

#include <algorithm>
#include <cmath>

#include "stats/checks.h"

namespace rs::stats {

double mean(const std::vector<double>& v) {
  detail::require_nonempty("mean", "v", v.size());
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double variance(const std::vector<double>& v, int ddof) {
  detail::require_min_size("variance", "v", v.size(), static_cast<size_t>(ddof) + 1);
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / static_cast<double>(v.size() - static_cast<size_t>(ddof));
}

double quantile_linear(std::vector<double> v, double q) {
  detail::require_nonempty("quantile_linear", "v", v.size());
  detail::require_no_nan("quantile_linear", "v", v);
  if (!(q >= 0 && q <= 1)) fail("stats::quantile_linear: q=", q, "; expected 0 <= q <= 1");
  const double h = static_cast<double>(v.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size() || frac == 0) return a;
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  // numpy's lerp: from the nearer end, so q = 1 returns the maximum exactly.
  return frac < 0.5 ? a + (b - a) * frac : b - (b - a) * (1 - frac);
}

}  // namespace rs::stats
