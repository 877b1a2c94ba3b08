// Welch's unequal-variances t-test (Welch 1947), as scipy.stats.ttest_ind(equal_var=False):
// t = (mean_x - mean_y) / sqrt(s_x^2/n_x + s_y^2/n_y) with ddof-1 variances, and the
// Welch-Satterthwaite degrees of freedom.
#pragma once
#include <vector>

#include "stats/alternative.h"

namespace rs::stats {

struct TTestResult {
  double t = 0;
  double df = 0;
  double p = 0;
};

// Errors: either sample with fewer than 2 values (scipy returns NaN there), NaN values.
// Both variances zero follows scipy: t = +-inf (p = 0 two-sided) or NaN when the means are
// equal too, and df is reported as 1.
TTestResult welch_t_test(const std::vector<double>& x, const std::vector<double>& y,
                         Alternative alternative = Alternative::TwoSided);

}  // namespace rs::stats
