// Task clustering maths (see metrics.h).
#include "methods/cluster/metrics.h"

#include <map>
#include <utility>

#include "core/error.h"
#include "stats/cluster_agreement.h"
#include "stats/kmeans.h"
#include "stats/rng.h"
#include "stats/silhouette.h"

namespace rs::cluster {

Labels encode_labels(const std::vector<std::string>& texts, const std::string& what) {
  Labels out;
  std::map<std::string, int64_t> id_of;
  out.ids.reserve(texts.size());
  for (const auto& t : texts) {
    auto [it, fresh] = id_of.emplace(t, static_cast<int64_t>(out.names.size()));
    if (fresh) out.names.push_back(t);
    out.ids.push_back(it->second);
  }
  if (out.n_classes() < 2)
    fail(what, ": only one class (", out.names.empty() ? std::string("no rows") : "'" + out.names[0] + "'",
         ") in ", texts.size(), " rows; clustering by task needs at least 2 distinct labels");
  if (static_cast<int64_t>(texts.size()) <= out.n_classes())
    fail(what, ": ", texts.size(), " rows for ", out.n_classes(),
         " distinct labels; k-means with k = ", out.n_classes(),
         " clusters and the silhouette need more rows than clusters");
  return out;
}

LayerScores score_layer(const at::Tensor& x, const std::vector<int64_t>& labels, int64_t k,
                        int restarts, uint64_t seed) {
  if (x.dim() != 2 || x.size(0) != static_cast<int64_t>(labels.size()))
    fail("cluster::score_layer: expected X [N, D] with N = ", labels.size(), " labels, got ", x.sizes());
  stats::KMeansOptions ko;
  ko.k = k;
  ko.restarts = restarts;
  ko.seed = seed;
  // Clustering in f64 keeps the result independent of summation order for these small N.
  const at::Tensor xd = x.detach().to(at::kDouble);
  LayerScores s;
  s.clusters = stats::kmeans(xd, ko).labels;
  s.ari = stats::adjusted_rand_index(labels, s.clusters);
  s.nmi = stats::normalized_mutual_information(labels, s.clusters);
  s.silhouette = stats::silhouette_score(xd, labels);
  return s;
}

LayerScores score_clusters(const at::Tensor& x, const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& clusters) {
  LayerScores s;
  s.clusters = clusters;
  s.ari = stats::adjusted_rand_index(labels, clusters);
  s.nmi = stats::normalized_mutual_information(labels, clusters);
  s.silhouette = stats::silhouette_score(x.detach().to(at::kDouble), labels);
  return s;
}

std::vector<int64_t> shuffled_labels(const std::vector<int64_t>& labels, uint64_t seed) {
  std::vector<int64_t> out = labels;
  stats::SplitMix64 rng(seed);
  for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng.below(i)]);  // Fisher-Yates
  return out;
}

}  // namespace rs::cluster
