#include "methods/lens/logit_lens.h"

#include <algorithm>

#include "core/error.h"
#include "core/layers.h"
#include "hooks/hooks.h"
#include "model/layers.h"

namespace rs::lens {

at::Tensor lens_logprobs(const Model& m, const at::Tensor& resid, bool final_norm) {
  const ModelConfig& c = m.config;
  if (resid.size(-1) != c.d_model)
    fail("logit lens: residual has width ", resid.size(-1), ", the model's d_model is ", c.d_model);
  at::Tensor x = resid.to(m.device(), m.dtype());
  // x_normed = x / sqrt(mean(x^2) + eps) * w_final   (the same function the forward uses)
  if (final_norm) x = layers::rms_norm(x, m.final_norm, c.rms_eps, c.norm_weight_plus_one);
  // logits = x W_U^T                                  [..., V], f32
  at::Tensor logits = at::matmul(x, m.lm_head.t()).to(at::kFloat);
  if (c.final_logit_softcap > 0)
    logits = at::tanh(logits / c.final_logit_softcap) * c.final_logit_softcap;
  return at::log_softmax(logits, -1);
}

at::Tensor lens_residuals(const Model& m, const std::vector<int64_t>& ids,
                          const std::vector<int64_t>& positions, std::vector<int> layers) {
  if (ids.empty()) fail("logit lens: empty prompt");
  const int64_t T = static_cast<int64_t>(ids.size());
  for (int64_t p : positions)
    if (p < 0 || p >= T) fail("logit lens: position ", p, " is outside the prompt (", T, " tokens)");
  if (layers.empty())
    for (int l = 0; l < m.config.n_layer; ++l) layers.push_back(l);
  int deepest = 0;
  for (int l : layers) {
    if (l != kEmbedLayer && (l < 0 || l >= m.config.n_layer))
      fail("logit lens: layer ", l, " is out of range (the model has blocks 0..", m.config.n_layer - 1, ")");
    deepest = std::max(deepest, l);
  }
  at::NoGradGuard ng;
  Hooks h(m.config);
  CaptureSpec spec;
  spec.positions = positions.empty() ? Positions::all() : Positions::at(positions);
  spec.to_cpu = false;
  for (int l : layers) h.capture(resid_hook(l), spec);
  ForwardOptions o;
  o.logits = LogitsMode::None;
  o.hooks = &h;
  o.stop_after_layer = deepest;
  at::Tensor tokens = at::tensor(ids, at::kLong).unsqueeze(0).to(m.device());
  forward(m, tokens, {}, o);
  std::vector<at::Tensor> per_layer;
  for (int l : layers) per_layer.push_back(h.get(resid_hook(l)).select(0, 0));
  return at::stack(per_layer);  // [layers, P, D]
}

at::Tensor token_rank(const at::Tensor& lp, int64_t token) {
  // rank = #{v : lp[v] > lp[token]}
  at::Tensor own = lp.select(-1, token).unsqueeze(-1);
  return (lp > own).sum(-1);
}

}  // namespace rs::lens
