// Area under the ROC curve of scores for binary labels (1 = positive): the probability that a
// random positive scores above a random negative, ties counting one half. Equals
// sklearn.metrics.roc_auc_score and U1 / (n1 n0) of Mann-Whitney (Hanley & McNeil 1982).
#pragma once
#include <vector>

namespace rs::stats {

// O(n log n) by one sort. Errors: empty input, lengths differ, NaN score, label not 0/1.
// Only one class present: NaN (undefined), as sklearn >= 1.6 returns with a warning; callers
// that need two classes check first. Constant scores give 0.5.
double auroc(const std::vector<double>& scores, const std::vector<int>& labels);

}  // namespace rs::stats
