// Midranks: 1-based ranks where tied values share the mean of the ranks they span
// (scipy.stats.rankdata(method='average')), plus the tie term sum(t^3 - t) over tie groups of
// size t that the Mann-Whitney variance correction needs.
#pragma once
#include <vector>

namespace rs::stats {

struct Ranking {
  std::vector<double> ranks;  // ranks[i] is the midrank of values[i], in 1..n
  double tie_term = 0;        // sum over tie groups of (t^3 - t); 0 when all values differ
  bool has_ties = false;
};

// O(n log n). NaN is rejected (rs::Error); +-inf rank like any other value.
Ranking rank_with_ties(const std::vector<double>& values);
inline std::vector<double> midranks(const std::vector<double>& values) {
  return rank_with_ties(values).ranks;
}

}  // namespace rs::stats
