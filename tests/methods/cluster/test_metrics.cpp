// Task-clustering maths: k-means++ recovers well-separated blobs (ARI 1), ARI / NMI equal
// hand-computed values (including the degenerate partitions), the silhouette of a known 1-D
// configuration, label encoding errors, and the shuffled-label baseline.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "methods/cluster/metrics.h"
#include "stats/cluster_agreement.h"

using namespace rs::cluster;

TEST(ClusterMetrics, KMeansOnSeparatedBlobsGivesAriOne) {
  // 6 blobs of 40 points in 16-D, centres 20 apart, spread 0.5.
  at::manual_seed(3);
  const int64_t k = 6, per = 40, d = 16;
  at::Tensor centres = 20 * at::randn({k, d}, at::kDouble);
  std::vector<int64_t> labels;
  std::vector<at::Tensor> pts;
  for (int64_t c = 0; c < k; ++c) {
    pts.push_back(centres[c] + 0.5 * at::randn({per, d}, at::kDouble));
    for (int64_t i = 0; i < per; ++i) labels.push_back(c);
  }
  // Interleave rows so cluster order is not row order.
  at::Tensor x = at::cat(pts, 0);
  at::Tensor perm = at::randperm(k * per, at::kLong);
  x = x.index_select(0, perm);
  std::vector<int64_t> shuffled(labels.size());
  for (int64_t i = 0; i < k * per; ++i) shuffled[i] = labels[perm[i].item<int64_t>()];
  const LayerScores s = score_layer(x.to(at::kFloat), shuffled, k, 10, 7);
  EXPECT_DOUBLE_EQ(s.ari, 1.0);
  EXPECT_NEAR(s.nmi, 1.0, 1e-12);
  EXPECT_GT(s.silhouette, 0.9);
  // Against shuffled labels the same clusters score near 0.
  const LayerScores base = score_clusters(x, shuffled_labels(shuffled, 1), s.clusters);
  EXPECT_LT(std::abs(base.ari), 0.05);
  EXPECT_LT(base.nmi, 0.1);
  EXPECT_LT(std::abs(base.silhouette), 0.1);
}

TEST(ClusterMetrics, AriAndNmiHandChecked) {
  using rs::stats::adjusted_rand_index;
  using rs::stats::normalized_mutual_information;
  const std::vector<int64_t> t = {0, 0, 0, 1, 1, 1}, p = {0, 0, 1, 1, 2, 2};
  // Contingency [[2,1,0],[0,1,2]]: sum C(n_ij,2) = 2, rows 2*C(3,2) = 6, cols 3*C(2,2) = 3,
  // C(6,2) = 15: ARI = (2 - 6*3/15) / ((6+3)/2 - 6*3/15) = 0.8 / 3.3 = 8/33.
  EXPECT_NEAR(adjusted_rand_index(t, p), 8.0 / 33.0, 1e-12);
  // MI = 2 * (1/3) ln((1/3) / (1/2 * 1/3)) = (2/3) ln 2; H(t) = ln 2, H(p) = ln 3.
  EXPECT_NEAR(normalized_mutual_information(t, p), (2.0 / 3.0) * std::log(2.0) / ((std::log(2.0) + std::log(3.0)) / 2),
              1e-12);
  // Same partition under other ids.
  EXPECT_DOUBLE_EQ(adjusted_rand_index(t, {5, 5, 5, 9, 9, 9}), 1.0);
  EXPECT_NEAR(normalized_mutual_information(t, {5, 5, 5, 9, 9, 9}), 1.0, 1e-12);
  // Degenerate: everything in one cluster against two classes -> ARI 0, NMI 0 (MI = 0).
  EXPECT_DOUBLE_EQ(adjusted_rand_index({0, 0, 1, 1}, {0, 0, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(normalized_mutual_information({0, 0, 1, 1}, {0, 0, 0, 0}), 0.0);
  // Both a single cluster: ARI 1 and NMI 1 by convention (sklearn).
  EXPECT_DOUBLE_EQ(adjusted_rand_index({3, 3, 3}, {1, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(normalized_mutual_information({3, 3, 3}, {1, 1, 1}), 1.0);
  // Every point its own cluster against two classes: tp = 0, ARI = 0.
  EXPECT_DOUBLE_EQ(adjusted_rand_index({0, 0, 1, 1}, {0, 1, 2, 3}), 0.0);
}

TEST(ClusterMetrics, SilhouetteOfKnownConfiguration) {
  // 1-D points {0, 1} and {4, 5}: s = 3.5/4.5, 2.5/3.5, 2.5/3.5, 3.5/4.5 -> mean 47/63.
  const at::Tensor x = at::tensor({0.0, 1.0, 4.0, 5.0}, at::kDouble).reshape({4, 1});
  const LayerScores s = score_clusters(x, {0, 0, 1, 1}, {0, 0, 1, 1});
  EXPECT_NEAR(s.silhouette, 47.0 / 63.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.ari, 1.0);
}

TEST(ClusterMetrics, LabelsEncodeAndRefuseDegenerateInput) {
  const Labels l = encode_labels({"b", "a", "b", "c"}, "x");
  EXPECT_EQ(l.ids, (std::vector<int64_t>{0, 1, 0, 2}));
  EXPECT_EQ(l.names, (std::vector<std::string>{"b", "a", "c"}));
  try {
    encode_labels({"a", "a", "a"}, "f.jsonl: field 'task'");
    FAIL() << "one class accepted";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("only one class ('a')"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("f.jsonl: field 'task'"), std::string::npos) << e.what();
  }
  try {
    encode_labels({"a", "b", "c"}, "f.jsonl");
    FAIL() << "3 rows for 3 classes accepted";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 rows for 3 distinct labels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(encode_labels({}, "f"), rs::Error);
}

TEST(ClusterMetrics, ShuffledLabelsArePermutationAndSeeded) {
  std::vector<int64_t> l;
  for (int i = 0; i < 100; ++i) l.push_back(i % 7);
  auto a = shuffled_labels(l, 4), b = shuffled_labels(l, 4), c = shuffled_labels(l, 5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, l);
  std::sort(a.begin(), a.end());
  auto s = l;
  std::sort(s.begin(), s.end());
  EXPECT_EQ(a, s);
}
