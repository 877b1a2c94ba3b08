#include "stats/correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/checks.h"
#include "stats/distributions.h"
#include "stats/ranks.h"

namespace rs::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double a) { return a == v[0]; });
}

void check_pair(const char* fn, const std::vector<double>& x, const std::vector<double>& y) {
  detail::require_same_length(fn, "x", x.size(), "y", y.size());
  detail::require_min_size(fn, "x", x.size(), 2);
  detail::require_no_nan(fn, "x", x);
  detail::require_no_nan(fn, "y", y);
}

}  // namespace

double detail::pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  if (is_constant(x) || is_constant(y)) return kNaN;
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  return std::clamp(sxy / (std::sqrt(sxx) * std::sqrt(syy)), -1.0, 1.0);
}

double correlation_t_p_value(double r, double df, Alternative alternative) {
  if (std::isnan(r) || !(df > 0)) return kNaN;
  // (1+r)(1-r) rather than 1-r^2: no cancellation near |r| = 1; r = +-1 gives t = +-inf.
  const double t = r * std::sqrt(std::max(0.0, df / ((1 + r) * (1 - r))));
  switch (alternative) {
    case Alternative::Greater: return student_t_sf(t, df);
    case Alternative::Less: return student_t_cdf(t, df);
    case Alternative::TwoSided: break;
  }
  return 2 * student_t_sf(std::fabs(t), df);
}

CorrelationResult pearson(const std::vector<double>& x, const std::vector<double>& y,
                          Alternative alternative) {
  check_pair("pearson", x, y);
  CorrelationResult out;
  out.r = detail::pearson_r(x, y);
  if (std::isnan(out.r)) return {kNaN, kNaN};
  if (x.size() == 2) return {std::round(out.r), 1.0};  // scipy's promised special case
  // Under H0, (r + 1)/2 ~ Beta(a, a) with a = n/2 - 1, so P(R >= r) = I_{(1-r)/2}(a, a).
  const double a = static_cast<double>(x.size()) / 2 - 1;
  const double upper = regularized_incomplete_beta(a, a, (1 - out.r) / 2, (1 + out.r) / 2);
  const double lower = regularized_incomplete_beta(a, a, (1 + out.r) / 2, (1 - out.r) / 2);
  switch (alternative) {
    case Alternative::Greater: out.p = upper; break;
    case Alternative::Less: out.p = lower; break;
    case Alternative::TwoSided: out.p = 2 * std::min(upper, lower); break;
  }
  return out;
}

CorrelationResult spearman(const std::vector<double>& x, const std::vector<double>& y,
                           Alternative alternative) {
  check_pair("spearman", x, y);
  CorrelationResult out;
  out.r = detail::pearson_r(midranks(x), midranks(y));
  out.p = correlation_t_p_value(out.r, static_cast<double>(x.size()) - 2, alternative);
  return out;
}

}  // namespace rs::stats
