#include "stats/partial_correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/checks.h"
#include "stats/ranks.h"

namespace rs::stats {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Removes from v its projection on each orthonormal basis vector (modified Gram-Schmidt, run
// twice: "twice is enough", Giraud et al. 2005, keeps the residual orthogonal to working precision).
void project_out(std::vector<double>& v, const std::vector<std::vector<double>>& basis) {
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& q : basis) {
      const double c = dot(v, q);
      for (size_t i = 0; i < v.size(); ++i) v[i] -= c * q[i];
    }
}

}  // namespace

CorrelationResult partial_correlation(const std::vector<double>& x_in,
                                      const std::vector<double>& y_in,
                                      const std::vector<std::vector<double>>& covariates,
                                      CorrelationKind kind, Alternative alternative) {
  const char* fn = "partial_correlation";
  const size_t n = x_in.size();
  detail::require_same_length(fn, "x", n, "y", y_in.size());
  if (covariates.empty())
    fail("stats::partial_correlation: no covariates given; expected at least 1 (use pearson)");
  for (const auto& z : covariates) {
    detail::require_same_length(fn, "x", n, "covariate", z.size());
    detail::require_no_nan(fn, "covariate", z);
  }
  detail::require_no_nan(fn, "x", x_in);
  detail::require_no_nan(fn, "y", y_in);
  const double k = static_cast<double>(covariates.size());
  const double dof = static_cast<double>(n) - 2 - k;
  if (dof < 1)
    fail("stats::partial_correlation: n=", n, " with ", covariates.size(),
         " covariates leaves dof=", dof, "; expected n - 2 - k >= 1");
  auto prepare = [&](const std::vector<double>& v) {
    return kind == CorrelationKind::Spearman ? midranks(v) : v;
  };

  // Orthonormal basis of span{1, z_1..z_k}; near-dependent columns are skipped.
  std::vector<std::vector<double>> basis;
  basis.emplace_back(n, 1.0 / std::sqrt(static_cast<double>(n)));
  for (const auto& z_raw : covariates) {
    std::vector<double> z = prepare(z_raw);
    const double norm_before = std::sqrt(dot(z, z));
    project_out(z, basis);
    const double norm_after = std::sqrt(dot(z, z));
    if (norm_after <= 1e-10 * norm_before || norm_after == 0) continue;
    for (double& v : z) v /= norm_after;
    basis.push_back(std::move(z));
  }
  std::vector<double> rx = prepare(x_in), ry = prepare(y_in);
  const double scale_x = std::sqrt(dot(rx, rx)), scale_y = std::sqrt(dot(ry, ry));
  project_out(rx, basis);
  project_out(ry, basis);
  const double nx = std::sqrt(dot(rx, rx)), ny = std::sqrt(dot(ry, ry));
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Residual at rounding level: x (or y) is explained exactly; the correlation is undefined.
  if (nx <= 1e-12 * scale_x || ny <= 1e-12 * scale_y) return {kNaN, kNaN};
  CorrelationResult out;
  out.r = std::clamp(dot(rx, ry) / (nx * ny), -1.0, 1.0);
  out.p = correlation_t_p_value(out.r, dof, alternative);
  return out;
}

}  // namespace rs::stats
