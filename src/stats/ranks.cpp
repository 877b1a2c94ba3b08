#include "stats/ranks.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "stats/checks.h"

namespace rs::stats {

Ranking rank_with_ties(const std::vector<double>& values) {
  detail::require_no_nan("rank_with_ties", "values", values);
  const size_t n = values.size();
  // Sorting (value, index) pairs keeps the comparisons cache-friendly for 10^6 values.
  std::vector<std::pair<double, size_t>> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = {values[i], i};
  std::sort(order.begin(), order.end());
  Ranking out;
  out.ranks.resize(n);
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && order[end].first == order[start].first) ++end;
    const double t = static_cast<double>(end - start);
    const double midrank = 0.5 * static_cast<double>(start + 1 + end);  // mean of start+1..end
    for (size_t j = start; j < end; ++j) out.ranks[order[j].second] = midrank;
    if (end - start > 1) {
      out.tie_term += t * t * t - t;
      out.has_ties = true;
    }
    start = end;
  }
  return out;
}

}  // namespace rs::stats
