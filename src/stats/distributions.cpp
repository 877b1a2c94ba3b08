// Incomplete beta by its continued fraction (DLMF 8.17.22), evaluated with the modified Lentz
// algorithm (Lentz 1976; Thompson & Barnett 1986), on the side where it converges quickly
// (x < (a+1)/(a+b+2)); the other side through the symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
// (DLMF 8.17.4). Student t tail: P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 for t > 0
// (DLMF 8.17.2 with the t-distribution's definition).
#include "stats/distributions.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace rs::stats {
namespace {

// Continued fraction of DLMF 8.17.22 for I_x(a,b) * a * B(a,b) / (x^a (1-x)^b).
double beta_continued_fraction(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-16;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 10000; ++m) {
    // Even step d_{2m}, then odd step d_{2m+1} of DLMF 8.17.23.
    const double even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    d = 1.0 + even * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + even / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    f *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 + odd * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + odd / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    f *= delta;
    if (std::fabs(delta - 1.0) < eps) return f;
  }
  fail("stats::regularized_incomplete_beta: continued fraction did not converge for a=", a,
       " b=", b, " x=", x);
}

// x^a y^b / (a B(a,b)) with y = 1 - x, in logs to avoid overflow.
double beta_prefactor(double a, double b, double x, double y) {
  const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  return std::exp(a * std::log(x) + b * std::log(y) - log_beta) / a;
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x, double y) {
  if (!(a > 0) || !(b > 0))
    fail("stats::regularized_incomplete_beta: a=", a, " b=", b, "; expected both > 0");
  if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
  if (x <= 0) return 0.0;
  if (y <= 0) return 1.0;
  if (x < (a + 1.0) / (a + b + 2.0)) return beta_prefactor(a, b, x, y) * beta_continued_fraction(a, b, x);
  return 1.0 - beta_prefactor(b, a, y, x) * beta_continued_fraction(b, a, y);
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double student_t_sf(double t, double df) {
  if (std::isnan(t) || std::isnan(df)) return std::numeric_limits<double>::quiet_NaN();
  if (!(df > 0)) fail("stats::student_t_sf: df=", df, "; expected df > 0");
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  if (std::isinf(df)) return normal_sf(t);
  const double t2 = t * t;
  // x = df/(df+t^2) and its complement t^2/(df+t^2), each formed without cancellation.
  const double x = df / (df + t2), y = t2 / (df + t2);
  const double half_tail = 0.5 * regularized_incomplete_beta(0.5 * df, 0.5, x, y);
  return t > 0 ? half_tail : 1.0 - half_tail;
}

}  // namespace rs::stats
