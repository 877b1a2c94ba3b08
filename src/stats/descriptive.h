// Descriptive statistics used by the tests and effect sizes.
#pragma once
#include <vector>

namespace rs::stats {

double mean(const std::vector<double>& v);                  // errors on empty input
double variance(const std::vector<double>& v, int ddof);    // two-pass; needs size > ddof

// Quantile with linear interpolation between order statistics at h = (n-1) q (numpy's default
// method 'linear', Hyndman & Fan 1996 type 7). q in [0, 1]; errors on empty input or NaN.
double quantile_linear(std::vector<double> v, double q);

}  // namespace rs::stats
