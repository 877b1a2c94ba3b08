// Control vectors on a model (see steering.h).
#include "methods/steer/steering.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "stats/rng.h"

namespace rs::steer {

void add_steering(Hooks& hooks, const Model& m, const ControlVectors& cv,
                  const std::vector<int64_t>& layers, double alpha) {
  check_against_model(cv, m.config.d_model, m.config.n_layer, "control vector");
  std::vector<int64_t> use = layers;
  if (use.empty())
    for (const auto& [l, v] : cv.layers) use.push_back(l);
  for (int64_t l : use) {
    if (l < 0 || l >= m.config.n_layer)
      fail("steering layer ", l, " is out of range: the model has ", m.config.n_layer, " layers (0..",
           m.config.n_layer - 1, ")");
    auto it = cv.layers.find(l);
    if (it == cv.layers.end()) {
      std::string have;
      for (const auto& [k, v] : cv.layers) have += (have.empty() ? "" : ",") + std::to_string(k);
      fail("the control vector has no direction for layer ", l, " (it has layers ", have, ")");
    }
    // resid_post[l] += alpha * v_l     (every position: hooks Positions::all)
    hooks.add("blocks." + std::to_string(l) + ".hook_resid_post",
              it->second.to(m.device(), m.dtype()), alpha);
  }
}

ReadPosition parse_read_position(const std::string& s) {
  if (s == "last") return ReadPosition::Last;
  if (s == "mean") return ReadPosition::Mean;
  fail("--position: expected last or mean, got '", s, "'");
}

at::Tensor read_resid_post(const Model& m, const std::vector<std::vector<int64_t>>& seqs,
                           const std::vector<int64_t>& layers, ReadPosition where,
                           int64_t batch_size, int64_t pad_id,
                           const std::function<void(size_t)>& on_batch) {
  if (layers.empty()) fail("read_resid_post: no layers");
  for (int64_t l : layers)
    if (l < 0 || l >= m.config.n_layer)
      fail("layer ", l, " is out of range: the model has ", m.config.n_layer, " layers");
  at::NoGradGuard no_grad;
  CaptureSpec spec;
  spec.positions = where == ReadPosition::Last ? Positions::last() : Positions::all();
  spec.reduce = where == ReadPosition::Last ? Reduce::Keep : Reduce::Mean;
  std::vector<at::Tensor> out;  // per batch [b, L', D]
  const int64_t deepest = *std::max_element(layers.begin(), layers.end());
  for (size_t start = 0; start < seqs.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(seqs.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::vector<int64_t>> chunk(seqs.begin() + static_cast<std::ptrdiff_t>(start),
                                            seqs.begin() + static_cast<std::ptrdiff_t>(end));
    Batch b = make_batch(chunk, pad_id, m.device());
    Hooks h(m.config);
    for (int64_t l : layers) h.capture("blocks." + std::to_string(l) + ".hook_resid_post", spec);
    ForwardOptions fo;
    fo.hooks = &h;
    fo.logits = LogitsMode::None;
    fo.stop_after_layer = deepest;
    forward(m, b.tokens, b.mask, fo);
    std::vector<at::Tensor> per_layer;
    for (int64_t l : layers)
      per_layer.push_back(h.get("blocks." + std::to_string(l) + ".hook_resid_post").to(at::kCPU, at::kFloat));
    out.push_back(at::stack(per_layer, 1));  // [b, L', D]
    if (on_batch) on_batch(end);
  }
  return at::cat(out, 0);
}

std::vector<int64_t> heldout_split(int64_t N, int64_t n_heldout, uint64_t seed) {
  if (N < 0 || n_heldout < 0 || n_heldout > N)
    fail("heldout_split: expected 0 <= n_heldout <= N, got ", n_heldout, " of ", N);
  std::vector<int64_t> order(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) order[static_cast<size_t>(i)] = i;
  stats::SplitMix64 rng(seed);
  for (int64_t i = N - 1; i > 0; --i)
    std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  std::vector<int64_t> out(order.begin(), order.begin() + n_heldout);
  std::sort(out.begin(), out.end());
  return out;
}

TrainResult fit_control_vectors(const at::Tensor& pos, const at::Tensor& neg,
                                const std::vector<int64_t>& layers, VectorMethod method,
                                double heldout, uint64_t seed) {
  if (pos.dim() != 3 || pos.sizes() != neg.sizes() || pos.size(1) != static_cast<int64_t>(layers.size()))
    fail("fit_control_vectors: expected pos, neg [N, ", layers.size(), ", D], got ", pos.sizes(), " and ",
         neg.sizes());
  const int64_t N = pos.size(0);
  TrainResult r;
  r.vectors = control_directions(pos, neg, method);
  r.n_heldout = N >= 4 ? std::max<int64_t>(1, static_cast<int64_t>(std::floor(heldout * N))) : 0;
  if (heldout <= 0) r.n_heldout = 0;
  const int64_t n_fit = N - r.n_heldout;
  const bool can_holdout = r.n_heldout > 0 && n_fit >= 2;
  at::Tensor fit_idx, held_idx;
  if (can_holdout) {
    r.heldout_rows = heldout_split(N, r.n_heldout, seed);
    std::vector<char> held(static_cast<size_t>(N), 0);
    for (int64_t i : r.heldout_rows) held[static_cast<size_t>(i)] = 1;
    std::vector<int64_t> fit_rows;
    for (int64_t i = 0; i < N; ++i)
      if (!held[static_cast<size_t>(i)]) fit_rows.push_back(i);
    fit_idx = at::tensor(fit_rows, at::kLong).to(pos.device());
    held_idx = at::tensor(r.heldout_rows, at::kLong).to(pos.device());
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    const at::Tensor p = pos.select(1, static_cast<int64_t>(i)), n = neg.select(1, static_cast<int64_t>(i));
    LayerFit f;
    f.layer = layers[i];
    const at::Tensor v = r.vectors[static_cast<int64_t>(i)];
    f.norm = v.to(at::kDouble).norm().item<double>();
    f.auroc_train = separation_auroc(p, n, v);
    f.cos_rc = cosine(v, (p - n).to(at::kDouble).mean(0));
    f.auroc_heldout = f.pair_acc_heldout = std::numeric_limits<double>::quiet_NaN();
    if (can_holdout) {
      const at::Tensor vf = control_direction(p.index_select(0, fit_idx), n.index_select(0, fit_idx), method);
      const at::Tensor ph = p.index_select(0, held_idx), nh = n.index_select(0, held_idx);
      f.auroc_heldout = separation_auroc(ph, nh, vf);
      f.pair_acc_heldout = pair_accuracy(ph, nh, vf);
    }
    r.fits.push_back(f);
  }
  return r;
}

}  // namespace rs::steer
