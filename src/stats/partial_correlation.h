// Partial correlation of x and y controlling for one or more covariates z_1..z_k.
// Definition: pingouin.partial_corr (Vallat 2018) -- r is the (x, y) entry of the partial
// correlation matrix -P_ij / sqrt(P_ii P_jj), P the inverse covariance of [x, y, z]. We compute
// the same number by the residual method (they are identical, e.g. Whittaker 1990, sec. 5.7):
// least-squares residuals of x and of y on [1, z_1..z_k], then the Pearson r of the residuals.
// p-value as pingouin: t = r sqrt(dof / (1 - r^2)) with dof = n - 2 - k, two-sided 2 P(T > |t|).
// Spearman variant: every variable replaced by its midranks first (pingouin method='spearman').
#pragma once
#include <vector>

#include "stats/alternative.h"
#include "stats/correlation.h"

namespace rs::stats {

enum class CorrelationKind { Pearson, Spearman };

// covariates[j][i]: covariate j of sample i. Errors: lengths differ, no covariates, NaN,
// dof = n - 2 - k < 1. A covariate that is a linear combination of the others (or constant)
// is dropped from the regression (as pingouin's pseudo-inverse does), k still counts it.
// Residuals that are all zero (x or y explained exactly) give r = p = NaN.
CorrelationResult partial_correlation(const std::vector<double>& x, const std::vector<double>& y,
                                      const std::vector<std::vector<double>>& covariates,
                                      CorrelationKind kind = CorrelationKind::Pearson,
                                      Alternative alternative = Alternative::TwoSided);

}  // namespace rs::stats
