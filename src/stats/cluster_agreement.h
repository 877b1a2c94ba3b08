// Agreement between two labellings of the same items (cluster ids vs. task labels; the ids are
// arbitrary integers, only the partition matters).
//   Adjusted Rand index (Hubert & Arabie 1985), via the pair-confusion counts as in sklearn:
//     ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)), 1 when fn = fp = 0.
//   Normalised mutual information (Strehl & Ghosh 2002; Vinh et al. 2010) with the arithmetic
//     mean: NMI = MI / ((H(U) + H(V)) / 2), natural logs; sklearn's special cases: both
//     labellings a single cluster -> 1, MI = 0 -> 0.
#pragma once
#include <cstdint>
#include <vector>

namespace rs::stats {

// Errors: lengths differ, empty input.
double adjusted_rand_index(const std::vector<int64_t>& labels_true,
                           const std::vector<int64_t>& labels_pred);
double normalized_mutual_information(const std::vector<int64_t>& labels_true,
                                     const std::vector<int64_t>& labels_pred);

}  // namespace rs::stats
