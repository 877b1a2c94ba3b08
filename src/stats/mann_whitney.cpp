#include "stats/mann_whitney.h"

#include <algorithm>
#include <cmath>

#include "stats/checks.h"
#include "stats/distributions.h"
#include "stats/ranks.h"

namespace rs::stats {

MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                                 Alternative alternative, MwuMethod method, bool continuity) {
  const char* fn = "mann_whitney_u";
  detail::require_nonempty(fn, "x", x.size());
  detail::require_nonempty(fn, "y", y.size());
  detail::require_no_nan(fn, "x", x);
  detail::require_no_nan(fn, "y", y);
  const double n1 = static_cast<double>(x.size()), n2 = static_cast<double>(y.size());
  std::vector<double> both(x);
  both.insert(both.end(), y.begin(), y.end());
  const Ranking ranking = rank_with_ties(both);
  double r1 = 0;
  for (size_t i = 0; i < x.size(); ++i) r1 += ranking.ranks[i];
  MannWhitneyResult out;
  out.u1 = r1 - n1 * (n1 + 1) / 2;
  const double u2 = n1 * n2 - out.u1;
  // The statistic whose upper tail is the p-value (scipy's choice: symmetric tails).
  const double u = alternative == Alternative::Greater ? out.u1
                   : alternative == Alternative::Less  ? u2
                                                       : std::max(out.u1, u2);
  const double factor = alternative == Alternative::TwoSided ? 2.0 : 1.0;
  if (method == MwuMethod::Auto)
    method = (std::min(n1, n2) <= 8 && !ranking.has_ties) ? MwuMethod::Exact : MwuMethod::Asymptotic;
  out.method = method;
  double p;
  if (method == MwuMethod::Exact) {
    p = mann_whitney_exact_sf(static_cast<int64_t>(u), static_cast<int64_t>(x.size()),
                              static_cast<int64_t>(y.size()));
  } else {
    const double n = n1 + n2;
    const double sigma =
        std::sqrt(n1 * n2 / 12 * ((n + 1) - ranking.tie_term / (n * (n - 1))));
    double numerator = u - n1 * n2 / 2;
    if (continuity) numerator -= 0.5;
    p = normal_sf(numerator / sigma);  // sigma = 0: +-inf or NaN, as in scipy
  }
  p *= factor;
  out.p = std::isnan(p) ? p : std::clamp(p, 0.0, 1.0);
  return out;
}

}  // namespace rs::stats
