// One text through the model and the spectral maths: see runner.h.
#include "methods/spectral/runner.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <string>

#include "core/error.h"
#include "hooks/hooks.h"

namespace rs::spectral {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TextResult analyse_tokens(const Model& m, std::vector<int64_t> ids, const RunOptions& o) {
  const ModelConfig& c = m.config;
  TextResult r;
  r.n_tokens_raw = static_cast<int64_t>(ids.size());
  if (o.max_tokens < 2) fail("--max-tokens: expected at least 2, got ", o.max_tokens);
  if (r.n_tokens_raw > o.max_tokens) {
    ids.resize(static_cast<size_t>(o.max_tokens));  // the paper truncates to the first 512
    r.truncated = true;
  }
  const int64_t n = static_cast<int64_t>(ids.size());
  r.n_tokens = n;
  if (n < 2) fail("the text has ", n, " token(s); the attention graph and the log-probability need at least 2");
  // n_ctx_train == 0: the file gives no context length, so there is nothing to check against.
  if (c.n_ctx_train > 0 && n > c.n_ctx_train)
    fail_as(ExitCode::kTooLong, "the text has ", n, " tokens, more than the model's context (", c.n_ctx_train,
            "); lower --max-tokens");

  std::vector<int> layers = o.layers;
  if (layers.empty())
    for (int l = 0; l < c.n_layer; ++l) layers.push_back(l);
  for (int l : layers)
    if (l < 0 || l >= c.n_layer) fail("layer ", l, " is out of range (the model has layers 0-", c.n_layer - 1, ")");
  const size_t nl = layers.size();

  // Hooks: pattern [1, H, N, N] -> W [N, N] (or [H, N, N] per head as well) in the forward.
  std::vector<at::Tensor> w(nl), w_heads(nl), x(nl);
  Hooks hooks(c);
  for (size_t i = 0; i < nl; ++i) {
    const std::string prefix = "blocks." + std::to_string(layers[i]) + ".";
    hooks.custom(prefix + "attn.hook_pattern", [&, i](const at::Tensor& a, const HookContext&) {
      w[i] = attention_graph(a[0]).to(at::kFloat);
      if (o.per_head) w_heads[i] = attention_graph_per_head(a[0]).to(at::kFloat);
      return a;
    });
    hooks.custom(prefix + "hook_resid_post", [&, i](const at::Tensor& h, const HookContext&) {
      x[i] = h[0].to(at::kFloat);  // [N, D]; the forward never writes into it afterwards
      return h;
    });
  }

  const auto t0 = std::chrono::steady_clock::now();
  at::Tensor logprob_sum;
  {
    at::NoGradGuard no_grad;
    ForwardOptions fo;
    fo.hooks = &hooks;
    fo.logits = LogitsMode::All;
    const at::Tensor tokens = at::tensor(ids, at::TensorOptions(at::kLong)).view({1, n}).to(m.device());
    const at::Tensor logits = forward(m, tokens, {}, fo);  // [1, N, V] f32
    // log p(t_{i+1} | t_<=i): log-softmax at positions 0..N-2, gathered at the next token
    const at::Tensor lp = at::log_softmax(logits[0].narrow(0, 0, n - 1), -1);
    logprob_sum = lp.gather(1, tokens[0].narrow(0, 1, n - 1).unsqueeze(1)).to(at::kDouble).sum();
  }
  r.mean_logprob = logprob_sum.item<double>() / static_cast<double>(n - 1);
  r.forward_seconds = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  const at::Tensor W = at::stack(w), X = at::stack(x);  // [L, N, N], [L, N, D]
  Features f = compute_features(W, X, o.features);
  r.features = f.values.to(at::kCPU);
  // eigenvalue quantiles 0, 1/(P-1), ..., 1 of each layer (linear interpolation)
  const at::Tensor q = at::linspace(0.0, 1.0, o.spectrum_points, f.eigenvalues.options());
  r.spectrum = at::quantile(f.eigenvalues, q, /*dim=*/-1).transpose(0, 1).contiguous().to(at::kCPU);
  if (o.per_head) {
    const at::Tensor WH = at::stack(w_heads);                           // [L, H, N, N]
    const at::Tensor XH = X.unsqueeze(1).expand({X.size(0), WH.size(1), n, X.size(2)});
    r.per_head = compute_features(WH, XH, o.features).values.to(at::kCPU);
  }
  r.maths_seconds = seconds_since(t1);
  return r;
}

}  // namespace rs::spectral
