// Exact null distribution of the Mann-Whitney U statistic. The number of arrangements of m
// x-values among n y-values (m <= n) with U = u is the coefficient of q^u in the Gaussian
// binomial coefficient [m+n choose m]_q = prod_{i=1..m} (1 - q^{n+i}) / (1 - q^i) (Andrews,
// "The Theory of Partitions", 1976, Thm 3.1; Mann & Whitney 1947 for the link to U). We build it
// factor by factor: dividing by (1 - q^i) is a running sum with stride i, multiplying by
// (1 - q^{n+i}) a strided difference; each partial product is again a polynomial (of degree i*n),
// so coefficients beyond it are exactly zero and are reset to avoid carrying rounding. Counts
// are kept in long double (no overflow for any practical size). Only the shorter tail is built,
// as the distribution is symmetric about m n / 2.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "stats/mann_whitney.h"

namespace rs::stats {
namespace {

// Counts of arrangements with U = 0..max_u for sizes m <= n.
std::vector<long double> u_counts(int64_t m, int64_t n, int64_t max_u) {
  std::vector<long double> c(static_cast<size_t>(max_u + 1), 0.0L);
  c[0] = 1.0L;
  for (int64_t i = 1; i <= m; ++i) {
    for (int64_t u = i; u <= max_u; ++u) c[u] += c[u - i];
    for (int64_t u = max_u; u >= n + i; --u) c[u] -= c[u - n - i];
    for (int64_t u = i * n + 1; u <= max_u; ++u) c[u] = 0.0L;
  }
  return c;
}

long double binomial(int64_t m, int64_t n) {  // C(m+n, m), m <= n
  long double b = 1.0L;
  for (int64_t i = 1; i <= m; ++i) b = b * static_cast<long double>(n + i) / i;
  return b;
}

}  // namespace

double mann_whitney_exact_sf(int64_t k, int64_t n1, int64_t n2) {
  if (n1 < 1 || n2 < 1)
    fail("stats::mann_whitney_exact_sf: sample sizes ", n1, ", ", n2, "; expected both >= 1");
  const int64_t m = std::min(n1, n2), n = std::max(n1, n2), mn = m * n;
  if (k <= 0) return 1.0;
  if (k > mn) return 0.0;
  const int64_t k_mirror = mn - k;  // P(U >= k) = P(U <= mn - k) by symmetry
  const long double total = binomial(m, n);
  if (k_mirror <= k - 1) {
    const std::vector<long double> c = u_counts(m, n, k_mirror);
    long double s = 0;
    for (int64_t u = k_mirror; u >= 0; --u) s += c[u];  // small terms first
    return static_cast<double>(s / total);
  }
  // Otherwise P(U >= k) = 1 - P(U <= k - 1), the cdf being the shorter tail.
  const std::vector<long double> c = u_counts(m, n, k - 1);
  long double s = 0;
  for (int64_t u = k - 1; u >= 0; --u) s += c[u];
  return static_cast<double>(1.0L - s / total);
}

}  // namespace rs::stats
