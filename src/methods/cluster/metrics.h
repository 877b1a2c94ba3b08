// Task clustering of hidden states (Wu & Varshney, arXiv 2402.12151; METHODS.md section 5): the
// maths, as pure functions over tensors. For one layer's hidden states X [N, D] and a task label
// per row: k-means (k = number of tasks, k-means++ seeding, 10 restarts) -> adjusted Rand index
// and normalised mutual information of the clusters against the labels, plus the silhouette of
// the TASK labels in X (how far apart the true task groups lie, independent of k-means).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rs::cluster {

struct LayerScores {
  double ari = 0, nmi = 0, silhouette = 0;
  std::vector<int64_t> clusters;  // k-means cluster of each row
};

struct Labels {
  std::vector<int64_t> ids;          // one per row, 0..n_classes-1 in order of first appearance
  std::vector<std::string> names;    // class id -> its label text
  int64_t n_classes() const { return static_cast<int64_t>(names.size()); }
};
// Label texts -> dense ids. `what` names the source in errors ("file.jsonl: field 'task'").
// Errors: fewer than 2 classes ("only one class"), fewer rows than classes + 1 (k-means needs
// k <= n, the silhouette needs n > classes).
Labels encode_labels(const std::vector<std::string>& texts, const std::string& what);

// X [N, D] floating (any device), labels.size() == N, k >= 2.
LayerScores score_layer(const at::Tensor& x, const std::vector<int64_t>& labels, int64_t k,
                        int restarts, uint64_t seed);

// Scores of given clusters against `labels` (ARI, NMI) and the silhouette of `labels` in X:
// with shuffled labels, the chance baseline of the same clustering.
LayerScores score_clusters(const at::Tensor& x, const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& clusters);

// The same labels in a seeded random order (Fisher-Yates with SplitMix64): the chance baseline.
std::vector<int64_t> shuffled_labels(const std::vector<int64_t>& labels, uint64_t seed);

}  // namespace rs::cluster
