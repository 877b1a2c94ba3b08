// Pearson and Spearman correlation with p-values, as scipy.stats.pearsonr / spearmanr.
// Pearson's p-value uses the exact null distribution of r for normal data, a beta(n/2-1, n/2-1)
// on [-1, 1] (scipy's formulation); Spearman's uses t = r sqrt((n-2) / ((1+r)(1-r))) with n-2
// degrees of freedom (scipy's formulation; Spearman rho is Pearson r of the midranks).
#pragma once
#include <vector>

#include "stats/alternative.h"

namespace rs::stats {

struct CorrelationResult {
  double r = 0;
  double p = 0;
};

// Errors: lengths differ, fewer than 2 values, NaN. A constant input gives r = p = NaN (scipy
// warns and returns NaN). n == 2: r = +-1 and p = 1 (pearsonr); spearman p is NaN there (0 df).
CorrelationResult pearson(const std::vector<double>& x, const std::vector<double>& y,
                          Alternative alternative = Alternative::TwoSided);
CorrelationResult spearman(const std::vector<double>& x, const std::vector<double>& y,
                           Alternative alternative = Alternative::TwoSided);

// p-value of a correlation r tested with a t statistic on df degrees of freedom
// (t = r sqrt(df / (1 - r^2))), shared by Spearman and partial correlation.
double correlation_t_p_value(double r, double df, Alternative alternative);

namespace detail {
// Pearson r without the input checks (x, y centred internally); NaN when either is constant.
double pearson_r(const std::vector<double>& x, const std::vector<double>& y);
}  // namespace detail

}  // namespace rs::stats
