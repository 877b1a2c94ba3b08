// The runner on a tiny random model: the hook that reduces patterns to W inside the forward gives
// the same features as capturing every pattern and resid_post; layer subsets, truncation, the
// log-probability baseline (== model/score.h) and per-head features.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <vector>

#include "core/error.h"
#include "hooks/hooks.h"
#include "methods/spectral/runner.h"
#include "model/score.h"
#include "model/tiny_model.h"

using namespace rs::spectral;

namespace {
std::vector<int64_t> some_ids(int64_t n) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back((i * 7 + 3) % 61);
  return ids;
}
}  // namespace

TEST(SpectralRunner, HookReductionEqualsFullCapture) {
  const rs::Model m = rs::test::tiny_model(rs::test::tiny_config());
  const std::vector<int64_t> ids = some_ids(11);
  RunOptions o;
  const TextResult r = analyse_tokens(m, ids, o);
  ASSERT_EQ(r.features.sizes(), (at::IntArrayRef{m.config.n_layer, kNumMetrics}));
  EXPECT_EQ(r.n_tokens, 11);
  EXPECT_FALSE(r.truncated);

  rs::Hooks h(m.config);
  h.capture("blocks.*.attn.hook_pattern");
  h.capture("blocks.*.hook_resid_post");
  {
    at::NoGradGuard ng;
    rs::ForwardOptions fo;
    fo.hooks = &h;
    rs::forward(m, at::tensor(ids, at::kLong).view({1, -1}), {}, fo);
  }
  for (int l = 0; l < m.config.n_layer; ++l) {
    const at::Tensor a = h.get("blocks." + std::to_string(l) + ".attn.hook_pattern")[0];
    const at::Tensor x = h.get("blocks." + std::to_string(l) + ".hook_resid_post")[0];
    const Features f = compute_features(attention_graph(a), x, o.features);
    EXPECT_LT((f.values - r.features[l]).abs().max().item<double>(), 1e-9) << "layer " << l;
    EXPECT_TRUE(at::isfinite(f.values).all().item<bool>());
  }
  // log-probability baseline == perplexity()'s
  const rs::PerplexityResult p = rs::perplexity(m, ids);
  EXPECT_NEAR(r.mean_logprob, -p.mean_nll(), 1e-5);
  // eigenvalue quantiles: ascending, first = smallest (0 for a connected graph), last <= 2
  ASSERT_EQ(r.spectrum.sizes(), (at::IntArrayRef{m.config.n_layer, o.spectrum_points}));
  EXPECT_NEAR(r.spectrum[0][0].item<double>(), 0.0, 1e-9);
  EXPECT_LE(r.spectrum.max().item<double>(), 2.0 + 1e-9);
}

TEST(SpectralRunner, LayersTruncationPerHead) {
  const rs::Model m = rs::test::tiny_model(rs::test::tiny_config());
  RunOptions all;
  const TextResult full = analyse_tokens(m, some_ids(9), all);
  RunOptions one;
  one.layers = {1};
  one.per_head = true;
  const TextResult r1 = analyse_tokens(m, some_ids(9), one);
  ASSERT_EQ(r1.features.size(0), 1);
  EXPECT_LT((r1.features[0] - full.features[1]).abs().max().item<double>(), 1e-12);
  ASSERT_EQ(r1.per_head.sizes(), (at::IntArrayRef{1, m.config.n_head, kNumMetrics}));

  RunOptions cut;
  cut.max_tokens = 5;
  const TextResult t = analyse_tokens(m, some_ids(9), cut);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.n_tokens, 5);
  EXPECT_EQ(t.n_tokens_raw, 9);
  const TextResult first5 = analyse_tokens(m, some_ids(5), all);
  EXPECT_LT((t.features - first5.features).abs().max().item<double>(), 1e-12);

  EXPECT_THROW(analyse_tokens(m, {5}, all), rs::Error);
  RunOptions bad;
  bad.layers = {2};
  EXPECT_THROW(analyse_tokens(m, some_ids(4), bad), rs::Error);
}

// A model whose file gives no context_length (n_ctx_train == 0) accepts any text, as every
// other caller of the context check does; a known context still refuses longer texts with
// the "too long" exit status.
TEST(SpectralRunner, UnknownContextLengthAcceptsTexts) {
  rs::ModelConfig c = rs::test::tiny_config();
  const rs::Model known = rs::test::tiny_model(c);
  c.n_ctx_train = 0;
  const rs::Model unknown = rs::test::tiny_model(c);
  RunOptions o;
  const TextResult a = analyse_tokens(unknown, some_ids(9), o);
  const TextResult b = analyse_tokens(known, some_ids(9), o);
  EXPECT_LT((a.features - b.features).abs().max().item<double>(), 1e-12);

  c.n_ctx_train = 8;
  const rs::Model short_ctx = rs::test::tiny_model(c);
  try {
    analyse_tokens(short_ctx, some_ids(9), o);
    ADD_FAILURE() << "a 9-token text was accepted by an 8-token context";
  } catch (const rs::Error& e) {
    EXPECT_EQ(e.code(), rs::ExitCode::kTooLong) << e.what();
  }
}
