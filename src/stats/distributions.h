// Tail probabilities of the reference distributions the tests need: normal, Student t and the
// symmetric beta used by scipy.stats.pearsonr. Each tail is computed directly (never as 1 - the
// other tail) so small p-values keep their relative precision.
#pragma once

namespace rs::stats {

// Regularized incomplete beta I_x(a, b); y must equal 1 - x (passed separately so callers with
// x close to 1 keep the precision of y). a, b > 0, 0 <= x <= 1.
double regularized_incomplete_beta(double a, double b, double x, double y);

// P(Z > z) for a standard normal Z.
double normal_sf(double z);

// P(T > t) for Student's t with df > 0 degrees of freedom; t may be +-inf, NaN gives NaN.
double student_t_sf(double t, double df);
inline double student_t_cdf(double t, double df) { return student_t_sf(-t, df); }

}  // namespace rs::stats
