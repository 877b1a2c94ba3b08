// Hidden states per layer at one position (see hidden_states.h).
#include "methods/cluster/hidden_states.h"

#include <algorithm>

#include "core/error.h"
#include "hooks/hooks.h"

namespace rs::cluster {

Pool parse_pool(const std::string& s) {
  if (s == "last") return Pool::Last;
  if (s == "mean") return Pool::Mean;
  fail("--position: expected last or mean, got '", s, "'");
}
const char* pool_name(Pool p) { return p == Pool::Last ? "last" : "mean"; }

std::vector<int64_t> parse_layer_range(const std::string& spec, int64_t n_layer) {
  std::vector<int64_t> out;
  if (spec == "all") {
    for (int64_t l = 0; l <= n_layer; ++l) out.push_back(l);
    return out;
  }
  int64_t a = -1, b = -1;
  try {
    size_t used = 0;
    const size_t dash = spec.find('-');
    a = std::stoll(spec.substr(0, dash), &used);
    if (used != (dash == std::string::npos ? spec.size() : dash)) throw std::invalid_argument("a");
    b = a;
    if (dash != std::string::npos) {
      const std::string rest = spec.substr(dash + 1);
      b = std::stoll(rest, &used);
      if (used != rest.size()) throw std::invalid_argument("b");
    }
  } catch (const std::exception&) {
    fail("--layers: expected all, A or A-B (layer 0 = embeddings, ", n_layer,
         " = last block), got '", spec, "'");
  }
  if (a < 0 || b > n_layer || a > b)
    fail("--layers ", spec, ": out of range; this model has layers 0 (embeddings) to ", n_layer);
  for (int64_t l = a; l <= b; ++l) out.push_back(l);
  return out;
}

namespace {
std::string hook_name(int64_t layer) {
  return layer == 0 ? "hook_embed" : "blocks." + std::to_string(layer - 1) + ".hook_resid_post";
}
}  // namespace

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
  const int64_t deepest = layers.empty() ? 0 : *std::max_element(layers.begin(), layers.end());
  for (size_t start = 0; start < seqs.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(seqs.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::vector<int64_t>> chunk(seqs.begin() + static_cast<long>(start),
                                            seqs.begin() + static_cast<long>(end));
    for (const auto& s : chunk)
      if (s.empty()) fail("cluster::hidden_states: an empty sequence (row ", start, "+)");
    const Batch b = make_batch(chunk, pad_id, m.device());
    Hooks h(m.config);
    for (int64_t l : layers) h.capture(hook_name(l), spec);
    ForwardOptions o;
    o.hooks = &h;
    o.logits = LogitsMode::None;
    if (!want_final) o.stop_after_layer = std::max<int64_t>(0, deepest - 1);
    const at::Tensor out = forward(m, b.tokens, b.mask, o);  // [B, T, D]
    for (size_t i = 0; i < layers.size(); ++i)
      parts[i].push_back(h.get_calls(hook_name(layers[i])).at(0).to(at::kCPU, at::kFloat));
    // Left padding: column T-1 is every row's last real token.
    if (want_final) finals.push_back(out.select(1, out.size(1) - 1));
  }
  HiddenStates hs;
  for (auto& p : parts) hs.by_layer.push_back(at::cat(p, 0));
  if (want_final) hs.final_last = at::cat(finals, 0);
  return hs;
}

}  // namespace rs::cluster
