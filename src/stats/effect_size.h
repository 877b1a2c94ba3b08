// Cohen's d with the pooled standard deviation (Cohen 1988, eq. 2.5.2):
//   d = (mean_x - mean_y) / sqrt(((n_x - 1) s_x^2 + (n_y - 1) s_y^2) / (n_x + n_y - 2)),
// s^2 with ddof 1. Positive when x is larger.
#pragma once
#include <vector>

namespace rs::stats {

// Errors: a sample with fewer than 2 values (its SD is undefined; pingouin.compute_effsize
// returns NaN there), NaN values. Zero pooled SD gives +-inf, or NaN when the means
// are equal too (IEEE division; documented rather than an error, like scipy's t).
double cohens_d(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace rs::stats
