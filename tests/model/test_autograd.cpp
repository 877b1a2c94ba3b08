// The same forward pass trains: gradients reach every weight, and agree with finite differences.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "hooks/hooks.h"
#include "model/model.h"
#include "tiny_model.h"

using namespace rs;

namespace {

// Next-token cross-entropy over a fixed batch (left-padded; pads excluded from the loss).
at::Tensor loss_of(const Model& m, const Batch& b, Hooks* hooks = nullptr) {
  ForwardOptions o;
  o.hooks = hooks;
  const at::Tensor logits = forward(m, b.tokens, b.mask, o);               // [B, T, V]
  const int64_t T = b.tokens.size(1);
  const at::Tensor lp = at::log_softmax(logits.narrow(1, 0, T - 1), -1);
  const at::Tensor target = b.tokens.narrow(1, 1, T - 1);
  const at::Tensor valid = (b.mask.narrow(1, 0, T - 1) * b.mask.narrow(1, 1, T - 1)).to(lp.scalar_type());
  const at::Tensor nll = -lp.gather(-1, target.unsqueeze(-1)).squeeze(-1);
  return (nll * valid).sum() / valid.sum();
}

}  // namespace

TEST(Autograd, GradientsReachEveryWeight) {
  for (const std::string arch : {"llama", "qwen2"}) {
    Model m = test::tiny_model(test::tiny_config(arch, arch == "llama"), 3);
    const auto params = m.make_trainable();
    Batch b = make_batch({{1, 2, 3, 4, 5, 6, 7}, {9, 8, 7, 6}}, 0);
    at::Tensor loss = loss_of(m, b);
    loss.backward();
    for (const auto& [name, t] : params) {
      ASSERT_TRUE(t.is_leaf()) << name;
      ASSERT_TRUE(t.grad().defined()) << arch << " " << name;
      EXPECT_GT(t.grad().abs().sum().item<double>(), 0.0) << arch << " " << name;
    }
  }
}

TEST(Autograd, MatchesFiniteDifferences) {
  // f64 so that central differences are accurate to ~1e-8.
  LoadOptions opts;
  opts.dtype = at::kDouble;
  Model m = make_random_model(test::tiny_config("llama", false), 5, opts, 0.3);
  m.make_trainable();
  Batch b = make_batch({{1, 2, 3, 4, 5, 6, 7}, {9, 8, 7, 6}}, 0);
  // Hooks stay differentiable too: steer layer 0 while checking.
  Hooks h(m.config);
  h.add("blocks.0.hook_resid_post", at::ones({m.config.d_model}, at::kDouble), 0.1);
  loss_of(m, b, &h).backward();
  struct Probe { at::Tensor w; std::vector<int64_t> idx; };
  const std::vector<Probe> probes = {{m.layers[1].q, {3, 5}}, {m.layers[0].k, {9, 1}},
                                     {m.layers[0].o, {2, 7}}, {m.layers[1].gate, {4, 30}},
                                     {m.layers[0].ln1, {6}}, {m.embed, {3, 2}}};
  for (const auto& p : probes) {
    at::Tensor w = p.w;
    at::Tensor elem = w;
    for (auto i : p.idx) elem = elem.select(0, i);
    at::Tensor g = w.grad();
    for (auto i : p.idx) g = g.select(0, i);
    const double analytic = g.item<double>();
    const double eps = 1e-6;
    double plus, minus;
    {
      at::NoGradGuard ng;
      const double orig = elem.item<double>();
      elem.fill_(orig + eps);
      plus = loss_of(m, b, &h).item<double>();
      elem.fill_(orig - eps);
      minus = loss_of(m, b, &h).item<double>();
      elem.fill_(orig);
    }
    const double numeric = (plus - minus) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric));
    EXPECT_GT(std::abs(analytic), 1e-8);
  }
}
