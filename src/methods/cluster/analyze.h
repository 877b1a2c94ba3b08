// `cluster analyze`: the per-layer task-clustering metrics (metrics.h) on any model's hidden
// states, with a shuffled-label baseline (the same k-means clusters scored against the labels
// in a random order: what ARI / NMI / silhouette look like when the hidden states carry no
// information about the label).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "methods/cluster/hidden_states.h"
#include "methods/cluster/metrics.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::cluster {

struct AnalyzeOptions {
  Pool pool = Pool::Last;
  std::vector<int64_t> layers;  // core/layers.h numbering; empty = embed and every block
  int restarts = 10;
  uint64_t seed = 0;
  int64_t batch = 16;
  // When set, computes the hidden states in place of hidden_states(seqs, pad_id, pool, layers,
  // batch).by_layer, with the same result: `cluster analyze --resume` reads them in checkpointed
  // chunks of whole batches.
  std::function<std::vector<at::Tensor>(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id)> states;
};

struct AnalyzeResult {
  Labels labels;
  std::vector<int64_t> layers;
  std::vector<LayerScores> scores, shuffled;
  std::vector<at::Tensor> states;  // [N, D] per layer (CPU f32), for the report's PCA
  int64_t n_tokens = 0;
};

// texts[i] with label labels[i]; `what` names the source in errors (encode_labels()).
// Texts are encoded as `score` does (BOS as the tokenizer says, special-token text parsed).
AnalyzeResult analyze_clustering(const Model& m, const tok::Tokenizer& tk,
                                 const std::vector<std::string>& texts,
                                 const std::vector<std::string>& labels,
                                 const AnalyzeOptions& opts, const std::string& what);

}  // namespace rs::cluster
