// Per-layer task clustering of a model's hidden states (see analyze.h).
#include "methods/cluster/analyze.h"

#include "core/error.h"
#include "core/layers.h"
#include "core/log.h"

namespace rs::cluster {

AnalyzeResult analyze_clustering(const Model& m, const tok::Tokenizer& tk,
                                 const std::vector<std::string>& texts,
                                 const std::vector<std::string>& labels,
                                 const AnalyzeOptions& opts, const std::string& what) {
  if (texts.size() != labels.size()) fail("cluster analyze: ", texts.size(), " texts but ", labels.size(), " labels");
  AnalyzeResult r;
  r.labels = encode_labels(labels, what);
  r.layers = opts.layers;
  if (r.layers.empty()) r.layers = embed_and_blocks(m.config.n_layer);
  std::vector<std::vector<int64_t>> seqs;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto ids = tk.encode(texts[i], true, true);
    if (ids.empty()) fail(what, ": row ", i + 1, ": the text gives no tokens");
    if (m.config.n_ctx_train > 0 && static_cast<int64_t>(ids.size()) > m.config.n_ctx_train)
      fail_as(ExitCode::kTooLong, what, ": row ", i + 1, ": ", ids.size(), " tokens, longer than the model's context ", m.config.n_ctx_train);
    r.n_tokens += static_cast<int64_t>(ids.size());
    seqs.emplace_back(ids.begin(), ids.end());
  }
  const int64_t pad = tk.pad_id() >= 0 ? tk.pad_id() : (tk.eos_id() >= 0 ? tk.eos_id() : 0);
  r.states = opts.states ? opts.states(seqs, pad) : hidden_states(m, seqs, pad, opts.pool, r.layers, opts.batch).by_layer;
  const std::vector<int64_t> shuffled = shuffled_labels(r.labels.ids, opts.seed + 1);
  for (size_t i = 0; i < r.layers.size(); ++i) {
    r.scores.push_back(score_layer(r.states[i], r.labels.ids, r.labels.n_classes(), opts.restarts, opts.seed));
    r.shuffled.push_back(score_clusters(r.states[i], shuffled, r.scores.back().clusters));
    log_debug(str("cluster analyze: layer ", layer_name(static_cast<int>(r.layers[i])), " ARI ", r.scores.back().ari));
  }
  return r;
}

}  // namespace rs::cluster
