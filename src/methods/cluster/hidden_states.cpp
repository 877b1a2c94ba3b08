// Hidden states per layer at one position (see hidden_states.h).
#include "methods/cluster/hidden_states.h"

#include <algorithm>

#include "core/error.h"
#include "core/layers.h"
#include "hooks/hooks.h"

namespace rs::cluster {

Pool parse_pool(const std::string& s) {
  if (s == "last") return Pool::Last;
  if (s == "mean") return Pool::Mean;
  fail("--position: expected last or mean, got '", s, "'");
}
const char* pool_name(Pool p) { return p == Pool::Last ? "last" : "mean"; }

std::vector<int64_t> embed_and_blocks(int64_t n_layer) {
  std::vector<int64_t> out{kEmbedLayer};
  for (int64_t l = 0; l < n_layer; ++l) out.push_back(l);
  return out;
}

HiddenStates hidden_states(const Model& m, const std::vector<std::vector<int64_t>>& seqs,
                           int64_t pad_id, Pool pool, const std::vector<int64_t>& layers,
                           int64_t batch_size, bool want_final) {
  if (seqs.empty()) fail("cluster::hidden_states: no sequences");
  if (batch_size < 1) fail("cluster::hidden_states: batch size must be >= 1");
  at::NoGradGuard no_grad;
  CaptureSpec spec;
  spec.positions = pool == Pool::Last ? Positions::last() : Positions::all();
  spec.reduce = pool == Pool::Last ? Reduce::Keep : Reduce::Mean;
  std::vector<std::vector<at::Tensor>> parts(layers.size());
  std::vector<at::Tensor> finals;
  int64_t deepest = 0;
  for (int64_t l : layers) {
    if (l != kEmbedLayer && (l < 0 || l >= m.config.n_layer))
      fail("cluster::hidden_states: layer ", l, " is out of range (the model has blocks 0..", m.config.n_layer - 1, ")");
    deepest = std::max(deepest, l);
  }
  for (size_t start = 0; start < seqs.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(seqs.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::vector<int64_t>> chunk(seqs.begin() + static_cast<long>(start),
                                            seqs.begin() + static_cast<long>(end));
    for (const auto& s : chunk)
      if (s.empty()) fail("cluster::hidden_states: an empty sequence (row ", start, "+)");
    const Batch b = make_batch(chunk, pad_id, m.device());
    Hooks h(m.config);
    for (int64_t l : layers) h.capture(resid_hook(static_cast<int>(l)), spec);
    ForwardOptions o;
    o.hooks = &h;
    o.logits = LogitsMode::None;
    if (!want_final) o.stop_after_layer = deepest;
    const at::Tensor out = forward(m, b.tokens, b.mask, o);  // [B, T, D]
    for (size_t i = 0; i < layers.size(); ++i)
      parts[i].push_back(h.get_calls(resid_hook(static_cast<int>(layers[i]))).at(0).to(at::kCPU, at::kFloat));
    // Left padding: column T-1 is every row's last real token.
    if (want_final) finals.push_back(out.select(1, out.size(1) - 1));
  }
  HiddenStates hs;
  for (auto& p : parts) hs.by_layer.push_back(at::cat(p, 0));
  if (want_final) hs.final_last = at::cat(finals, 0);
  return hs;
}

}  // namespace rs::cluster
