// Hook names, capture filters and each intervention's meaning, on a tiny random model.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "hooks/hooks.h"
#include "model/model.h"
#include "tiny_model.h"

using namespace rs;

namespace {

struct HooksTest : ::testing::Test {
  at::NoGradGuard ng;
  Model m = test::tiny_model(test::tiny_config("llama"), 11);
  Batch b = make_batch({{5, 6, 7, 8, 9, 10}, {11, 12, 13}}, 0);
  at::Tensor run(Hooks& h) {
    ForwardOptions o;
    o.hooks = &h;
    return forward(m, b.tokens, b.mask, o);
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_F(HooksTest, NamesFollowTransformerLens) {
  const auto names = all_hook_names(m.config);
  EXPECT_EQ(names.front(), "hook_embed");
  EXPECT_EQ(names.back(), "hook_logits");
  EXPECT_EQ(names.size(), 3u + 18u * 2u);
  EXPECT_NE(std::find(names.begin(), names.end(), "blocks.1.attn.hook_pattern"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "blocks.0.ln2.hook_normalized"), names.end());
  EXPECT_EQ(resolve_hooks(m.config, "blocks.*.hook_resid_post").size(), 2u);
  EXPECT_EQ(resolve_hooks(m.config, "blocks.1.attn.hook_q, hook_embed").size(), 2u);
}

// Literal names take a fast path (parse_literal); it must agree with the glob path on every name,
// and a comma list must keep its order and drop repeats whichever path found them.
TEST_F(HooksTest, LiteralNamesResolveLikePatterns) {
  for (const std::string& n : all_hook_names(m.config)) {
    const auto ids = resolve_hooks(m.config, n);
    ASSERT_EQ(ids.size(), 1u) << n;
    EXPECT_EQ(ids[0].name(), n);
    const auto globbed = resolve_hooks(m.config, n + "*");  // '*' forces the glob path
    ASSERT_FALSE(globbed.empty()) << n;
    EXPECT_EQ(globbed[0].name(), n);
  }
  const auto ids = resolve_hooks(m.config, "blocks.1.hook_resid_post, blocks.*.hook_resid_post, hook_embed, hook_embed");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].name(), "blocks.1.hook_resid_post");
  EXPECT_EQ(ids[1].name(), "blocks.0.hook_resid_post");
  EXPECT_EQ(ids[2].name(), "hook_embed");
  const auto rev = resolve_hooks(m.config, "blocks.*.hook_resid_post, blocks.1.hook_resid_post");
  ASSERT_EQ(rev.size(), 2u);
  EXPECT_EQ(rev[1].name(), "blocks.1.hook_resid_post");
  EXPECT_NE(error_of([&] { resolve_hooks(m.config, "blocks.1.hook_resid_pots"); }).find("did you mean"), std::string::npos);
  EXPECT_NE(error_of([&] { resolve_hooks(m.config, "blocks.01x.hook_z"); }).find("unknown hook name"), std::string::npos);
}

TEST_F(HooksTest, UnknownNameSuggestsNearest) {
  const std::string msg = error_of([&] { resolve_hooks(m.config, "blocks.*.hook_resid_pots"); });
  EXPECT_NE(msg.find("unknown hook name 'blocks.*.hook_resid_pots'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blocks.*.hook_resid_post"), std::string::npos) << msg;
  const std::string msg2 = error_of([&] { resolve_hooks(m.config, "blocks.0.attn.hook_patern"); });
  EXPECT_NE(msg2.find("attn.hook_pattern"), std::string::npos) << msg2;
}

TEST_F(HooksTest, LayerAndHeadOutOfRange) {
  const std::string msg = error_of([&] { resolve_hooks(m.config, "blocks.7.hook_resid_post"); });
  EXPECT_NE(msg.find("layer 7 is out of range"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 layers"), std::string::npos) << msg;
  Hooks h(m.config);
  const std::string msg2 = error_of([&] { h.ablate_heads(0, {4}, Ablation::Zero); });
  EXPECT_NE(msg2.find("head 4 is out of range"), std::string::npos) << msg2;
  EXPECT_NE(error_of([&] { h.ablate_heads(2, {0}, Ablation::Zero); }).find("layer 2"), std::string::npos);
}

TEST_F(HooksTest, CapturePositionsAndReduction) {
  Hooks h(m.config);
  h.capture("blocks.0.hook_resid_post", Positions::all());
  h.capture("blocks.1.hook_resid_post", Positions::last());
  h.capture("blocks.0.attn.hook_pattern", Positions::at({0, 2}));
  h.capture("blocks.1.attn.hook_z", CaptureSpec{Positions::all(), Reduce::Mean});
  run(h);
  const at::Tensor all = h.get("blocks.0.hook_resid_post");       // [2, 6, 32]
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{2, 6, 32}));
  Hooks h2(m.config);
  h2.capture("blocks.1.hook_resid_post");
  h2.capture("blocks.1.attn.hook_z");
  h2.capture("blocks.0.attn.hook_pattern");
  run(h2);
  // Last = last column; list = position ids (row 1 is left-padded by 3)
  EXPECT_TRUE(at::equal(h.get("blocks.1.hook_resid_post"), h2.get("blocks.1.hook_resid_post").select(1, 5)));
  const at::Tensor pat = h.get("blocks.0.attn.hook_pattern");      // [2, H, 2, 6]
  const at::Tensor full = h2.get("blocks.0.attn.hook_pattern");
  ASSERT_EQ(pat.sizes(), (std::vector<int64_t>{2, 4, 2, 6}));
  EXPECT_TRUE(at::equal(pat[0].select(1, 1), full[0].select(1, 2)));
  EXPECT_TRUE(at::equal(pat[1].select(1, 0), full[1].select(1, 3)));
  EXPECT_TRUE(at::equal(pat[1].select(1, 1), full[1].select(1, 5)));
  // mean over real positions only
  const at::Tensor z = h2.get("blocks.1.attn.hook_z");
  const at::Tensor zmean = h.get("blocks.1.attn.hook_z");
  EXPECT_TRUE(at::allclose(zmean[1], z[1].narrow(0, 3, 3).mean(0), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(zmean[0], z[0].mean(0), 1e-5, 1e-6));
}

TEST_F(HooksTest, AddAtOnePositionOnlyChangesLaterPositions) {
  const at::Tensor plain = forward(m, b.tokens, b.mask);
  Hooks h(m.config);
  h.add("blocks.0.hook_resid_post", at::ones({32}), 5.0, Positions::at({1}));
  const at::Tensor steered = run(h);
  // row 0: position 1 is column 1; columns 0 unchanged, 1.. changed
  EXPECT_TRUE(at::equal(steered[0][0], plain[0][0]));
  EXPECT_FALSE(at::allclose(steered[0][1], plain[0][1]));
  // row 1: position 1 is column 4
  EXPECT_TRUE(at::equal(steered[1].narrow(0, 0, 4), plain[1].narrow(0, 0, 4)));
  EXPECT_FALSE(at::allclose(steered[1][4], plain[1][4]));
}

TEST_F(HooksTest, ComposedInterventionsMatchHandComputation) {
  Hooks cap(m.config);
  cap.capture("blocks.0.hook_resid_post");
  run(cap);
  const at::Tensor x = cap.get("blocks.0.hook_resid_post");
  at::manual_seed(5);
  const at::Tensor v = at::randn({32}), u = at::randn({32});
  Hooks h(m.config);
  h.add("blocks.0.hook_resid_post", v, 0.5);
  h.scale("blocks.0.hook_resid_post", 2.0);
  h.project_out("blocks.0.hook_resid_post", u);
  h.capture("blocks.0.hook_resid_post");
  run(h);
  const at::Tensor y = (x + 0.5 * v) * 2.0;
  const at::Tensor un = u / u.norm();
  const at::Tensor expect = y - at::matmul(y, un).unsqueeze(-1) * un;
  EXPECT_TRUE(at::allclose(h.get("blocks.0.hook_resid_post"), expect, 1e-5, 1e-5));
  EXPECT_LE(at::matmul(h.get("blocks.0.hook_resid_post"), un).abs().max().item<double>(), 1e-4);
}

TEST_F(HooksTest, PatchFromAnotherRunRestoresItsOutput) {
  // Patching every resid_post of layer 1 from run A into run B makes B's logits A's.
  Batch a = make_batch({{20, 21, 22, 23, 24, 25}, {30, 31, 32}}, 0);
  Hooks cap(m.config);
  cap.capture("blocks.1.hook_resid_post");
  ForwardOptions o;
  o.hooks = &cap;
  const at::Tensor la = forward(m, a.tokens, a.mask, o);
  Hooks p(m.config);
  p.patch("blocks.1.hook_resid_post", cap.get("blocks.1.hook_resid_post"));
  EXPECT_TRUE(at::equal(run(p), la));
  // last position only: value [B, D]
  Hooks cap_last(m.config);
  cap_last.capture("blocks.1.hook_resid_post", Positions::last());
  o.hooks = &cap_last;
  forward(m, a.tokens, a.mask, o);
  Hooks pl(m.config);
  pl.patch("blocks.1.hook_resid_post", cap_last.get("blocks.1.hook_resid_post"), Positions::last());
  const at::Tensor patched = run(pl);
  EXPECT_TRUE(at::equal(patched.select(1, 5), la.select(1, 5)));
  EXPECT_TRUE(at::equal(patched.narrow(1, 0, 5), forward(m, b.tokens, b.mask).narrow(1, 0, 5)));
}

TEST_F(HooksTest, MeanAblationUsesTheGivenMean) {
  Hooks h(m.config);
  const at::Tensor mean_z = at::full({4, 8}, 0.25);
  h.ablate_heads(0, {1, 2}, Ablation::Mean, mean_z);
  h.capture("blocks.0.attn.hook_z");
  run(h);
  const at::Tensor z = h.get("blocks.0.attn.hook_z");
  EXPECT_TRUE(at::equal(z.select(2, 1), at::full({2, 6, 8}, 0.25)));
  EXPECT_TRUE(at::equal(z.select(2, 2), at::full({2, 6, 8}, 0.25)));
  EXPECT_FALSE(at::equal(z.select(2, 0), at::full({2, 6, 8}, 0.25)));
}

TEST_F(HooksTest, CaptureAcrossCachedCallsConcatenates) {
  Hooks h(m.config);
  h.capture("blocks.0.hook_resid_post");
  h.capture("blocks.1.hook_resid_post", Positions::last());
  KVCache cache;
  ForwardOptions o;
  o.hooks = &h;
  o.cache = &cache;
  forward(m, b.tokens, b.mask, o);
  forward(m, at::tensor(std::vector<int64_t>{3, 4}, at::kLong).view({2, 1}), {}, o);
  EXPECT_EQ(h.get("blocks.0.hook_resid_post").sizes(), (std::vector<int64_t>{2, 7, 32}));
  EXPECT_EQ(h.get("blocks.1.hook_resid_post").sizes(), (std::vector<int64_t>{2, 2, 32}));
  EXPECT_EQ(h.get_calls("blocks.0.hook_resid_post").size(), 2u);
  EXPECT_NE(error_of([&] { h.get("blocks.0.hook_mlp_out"); }).find("nothing captured"), std::string::npos);
}

TEST_F(HooksTest, ForwardRejectsBadInput) {
  EXPECT_NE(error_of([&] { forward(m, at::tensor(std::vector<int64_t>{1, 99}, at::kLong).view({1, 2}), {}); })
                .find("outside the vocabulary"),
            std::string::npos);
  at::Tensor longp = at::ones({1, 300}, at::kLong);
  EXPECT_NE(error_of([&] { forward(m, longp, {}); }).find("beyond the model's context of 256"), std::string::npos);
  EXPECT_NE(error_of([&] { forward(m, at::zeros({1, 0}, at::kLong), {}); }).find("empty input"), std::string::npos);
}
