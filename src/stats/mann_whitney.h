// Mann-Whitney U test (Mann & Whitney 1947), with scipy.stats.mannwhitneyu's conventions:
// the statistic is U1 = R1 - n1(n1+1)/2 for the first sample; Greater tests "x stochastically
// larger than y"; the normal approximation uses the tie-corrected variance
//   sigma^2 = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1)))
// and optionally the continuity correction 0.5; the exact p-value uses the null distribution of
// U without ties (all C(n1+n2, n1) arrangements equally likely).
#pragma once
#include <cstdint>
#include <vector>

#include "stats/alternative.h"

namespace rs::stats {

enum class MwuMethod {
  Auto,        // Exact when min(n1, n2) <= 8 and there are no ties, else Asymptotic (as scipy)
  Exact,       // exact null distribution; ties are ignored (U is truncated to an integer, as scipy)
  Asymptotic,  // tie-corrected normal approximation
};

struct MannWhitneyResult {
  double u1 = 0;                        // U statistic of x
  double p = 0;                         // p-value for the requested alternative, clipped to <= 1
  MwuMethod method = MwuMethod::Auto;   // Exact or Asymptotic, whichever was used
};

// Errors: x or y empty, NaN. All values tied (sigma = 0) follows scipy: with the continuity
// correction p = 1, without it p = NaN.
MannWhitneyResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                                 Alternative alternative = Alternative::TwoSided,
                                 MwuMethod method = MwuMethod::Auto, bool continuity = true);

// P(U >= k) under the null for sample sizes n1, n2 (no ties). O(min(n1,n2) * min(k, n1 n2 - k)).
double mann_whitney_exact_sf(int64_t k, int64_t n1, int64_t n2);

}  // namespace rs::stats
