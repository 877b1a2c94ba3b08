// Equivalences the forward pass must satisfy (issue 3, acceptance 3), on tiny random models
// loaded back from GGUF files written by our own writer.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "core/error.h"
#include "hooks/hooks.h"
#include "model/model.h"
#include "tiny_model.h"

using namespace rs;

namespace {

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

class Equivalence : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    at::NoGradGuard ng_;
    const std::string arch = GetParam();
    Model direct = test::tiny_model(test::tiny_config(arch, arch == "llama"), 7);
    path_ = test::temp_path("eq_" + arch + ".gguf");
    test::write_gguf(direct, path_);
    model_ = load_model(path_);
    direct_ = std::move(direct);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
  Model model_, direct_;
  at::NoGradGuard ng_;
};

std::vector<std::vector<int64_t>> prompts() {
  return {{3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3}, {2, 7, 18, 28}, {44, 1, 0, 60, 12, 11, 33}};
}

}  // namespace

// Loading the GGUF (permuted q/k, fused buffers) reproduces the directly built weights exactly.
TEST_P(Equivalence, GgufRoundTripGivesHfLayout) {
  const auto a = direct_.named_weights(), b = model_.named_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
  at::Tensor tokens = at::tensor(std::vector<int64_t>{1, 2, 3, 4, 5}, at::kLong).view({1, 5});
  EXPECT_TRUE(at::equal(forward(model_, tokens, {}), forward(direct_, tokens, {})));
}

TEST_P(Equivalence, PaddedBatchEqualsOneByOne) {
  const auto seqs = prompts();
  Batch b = make_batch(seqs, /*pad_id=*/0);
  const at::Tensor batched = forward(model_, b.tokens, b.mask);
  const int64_t T = b.tokens.size(1);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const int64_t n = static_cast<int64_t>(seqs[i].size());
    at::Tensor alone = forward(model_, at::tensor(seqs[i], at::kLong).view({1, n}), {});
    at::Tensor part = batched[static_cast<int64_t>(i)].narrow(0, T - n, n).unsqueeze(0);
    EXPECT_LE(max_abs_diff(part, alone), 1e-4) << "row " << i;
  }
  // Last-only logits equal the last column of the full logits.
  ForwardOptions last;
  last.logits = LogitsMode::Last;
  EXPECT_LE(max_abs_diff(forward(model_, b.tokens, b.mask, last), batched.narrow(1, T - 1, 1)), 1e-5);
}

TEST_P(Equivalence, KvCacheEqualsRecompute) {
  const auto seqs = prompts();
  Batch b = make_batch(seqs, 0);
  const int64_t T = b.tokens.size(1);
  // Prefill the first T-4 columns, then feed 1, 1, 2 tokens.
  at::Tensor extra = at::tensor(std::vector<int64_t>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, at::kLong).view({3, 4});
  at::Tensor all_tokens = at::cat({b.tokens, extra}, 1);
  at::Tensor all_mask = at::cat({b.mask, at::ones({3, 4}, at::kLong)}, 1);
  const at::Tensor full = forward(model_, all_tokens, all_mask);

  KVCache cache;
  ForwardOptions o;
  o.cache = &cache;
  std::vector<at::Tensor> parts;
  parts.push_back(forward(model_, b.tokens, b.mask, o));
  parts.push_back(forward(model_, extra.narrow(1, 0, 1), {}, o));
  parts.push_back(forward(model_, extra.narrow(1, 1, 1), at::ones({3, 1}, at::kLong), o));
  parts.push_back(forward(model_, extra.narrow(1, 2, 2), {}, o));
  const at::Tensor inc = at::cat(parts, 1);
  EXPECT_EQ(cache.length, T + 4);
  // compare only real columns
  const at::Tensor real = all_mask.to(at::kBool).unsqueeze(-1);
  EXPECT_LE(max_abs_diff(inc.masked_select(real), full.masked_select(real)), 1e-4);
}

TEST_P(Equivalence, CapturingEveryHookChangesNoLogit) {
  Batch b = make_batch(prompts(), 0);
  const at::Tensor plain = forward(model_, b.tokens, b.mask);
  Hooks h(model_.config);
  h.capture("*");
  ForwardOptions o;
  o.hooks = &h;
  const at::Tensor hooked = forward(model_, b.tokens, b.mask, o);
  EXPECT_TRUE(at::equal(plain, hooked));
  // every name was captured with the documented shape
  const auto& c = model_.config;
  const int64_t B = 3, T = b.tokens.size(1);
  EXPECT_EQ(h.captures().size(), all_hook_names(c).size());
  EXPECT_EQ(h.get("blocks.1.attn.hook_q").sizes(), (std::vector<int64_t>{B, T, c.n_head, c.d_head}));
  EXPECT_EQ(h.get("blocks.1.attn.hook_k").sizes(), (std::vector<int64_t>{B, T, c.n_head_kv, c.d_head}));
  EXPECT_EQ(h.get("blocks.0.attn.hook_pattern").sizes(), (std::vector<int64_t>{B, c.n_head, T, T}));
  EXPECT_EQ(h.get("blocks.0.attn.hook_result").sizes(), (std::vector<int64_t>{B, T, c.n_head, c.d_model}));
  EXPECT_EQ(h.get("blocks.0.mlp.hook_post").sizes(), (std::vector<int64_t>{B, T, c.d_ff}));
  EXPECT_EQ(h.get("hook_logits").sizes(), (std::vector<int64_t>{B, T, c.n_vocab}));
  // patterns are distributions over real keys; per-head results sum to attn_out
  const at::Tensor pat = h.get("blocks.1.attn.hook_pattern");
  EXPECT_LE((pat.sum(-1) - 1).abs().max().item<double>(), 1e-5);
  EXPECT_LE(max_abs_diff(h.get("blocks.1.attn.hook_result").sum(2), h.get("blocks.1.hook_attn_out")), 1e-5);
  // resid_post[l] = resid_mid[l] + mlp_out[l]
  EXPECT_LE(max_abs_diff(h.get("blocks.0.hook_resid_post"),
                         h.get("blocks.0.hook_resid_mid") + h.get("blocks.0.hook_mlp_out")), 1e-6);
}

TEST_P(Equivalence, ZeroVectorChangesNothing) {
  Batch b = make_batch(prompts(), 0);
  const at::Tensor plain = forward(model_, b.tokens, b.mask);
  Hooks h(model_.config);
  h.add("blocks.*.hook_resid_post", at::zeros({model_.config.d_model}), 3.0);
  h.add("blocks.0.attn.hook_z", at::zeros({model_.config.n_head, model_.config.d_head}), 1.0, Positions::last());
  ForwardOptions o;
  o.hooks = &h;
  EXPECT_TRUE(at::equal(plain, forward(model_, b.tokens, b.mask, o)));
}

TEST_P(Equivalence, AblatingEveryHeadEqualsRemovingAttentionOutput) {
  Batch b = make_batch(prompts(), 0);
  const auto& c = model_.config;
  std::vector<int64_t> heads;
  for (int64_t i = 0; i < c.n_head; ++i) heads.push_back(i);
  Hooks ablate(c);
  ablate.ablate_heads(1, heads, Ablation::Zero);
  Hooks remove(c);
  at::Tensor zero_out = at::zeros({c.d_model});
  if (model_.layers[1].o_bias.defined()) zero_out = model_.layers[1].o_bias;  // z = 0 leaves the bias
  remove.replace("blocks.1.hook_attn_out", zero_out);
  ForwardOptions oa, orm;
  oa.hooks = &ablate;
  orm.hooks = &remove;
  const at::Tensor a = forward(model_, b.tokens, b.mask, oa), r = forward(model_, b.tokens, b.mask, orm);
  EXPECT_LE(max_abs_diff(a, r), 1e-6);
  EXPECT_GT(max_abs_diff(a, forward(model_, b.tokens, b.mask)), 1e-3);  // and it did change something
}

TEST_P(Equivalence, SteeringWithAndWithoutCacheAgrees) {
  const auto& c = model_.config;
  at::manual_seed(3);
  const at::Tensor vec = at::randn({c.d_model});
  Hooks h(c);
  h.add("blocks.0.hook_resid_post", vec, 2.0);
  h.ablate_heads(1, {1}, Ablation::Zero, {}, Positions::at({2, 13}));
  at::Tensor seq = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42, 7, 1, 2, 3, 9, 9, 30, 31, 50}, at::kLong).view({1, 15});
  ForwardOptions o;
  o.hooks = &h;
  const at::Tensor full = forward(model_, seq, {}, o);
  KVCache cache;
  o.cache = &cache;
  std::vector<at::Tensor> parts{forward(model_, seq.narrow(1, 0, 10), {}, o)};
  for (int64_t t = 10; t < 15; ++t) parts.push_back(forward(model_, seq.narrow(1, t, 1), {}, o));
  EXPECT_LE(max_abs_diff(at::cat(parts, 1), full), 1e-4);
}

// start_at_layer (steer eval's shared prefix): a padded batch continued from the captured residual
// stream gives the full forward's logits exactly, and the later blocks' hooks still act.
TEST_P(Equivalence, StartAtLayerContinuesTheFullForward) {
  const auto& c = model_.config;
  Batch b = make_batch(prompts(), 0);
  at::manual_seed(5);
  const at::Tensor vec = at::randn({c.d_model});
  Hooks full_hooks(c);
  full_hooks.capture("blocks.0.hook_resid_post");
  full_hooks.add("blocks.1.hook_resid_mid", vec, 3.0);
  ForwardOptions full;
  full.hooks = &full_hooks;
  const at::Tensor want = forward(model_, b.tokens, b.mask, full);
  Hooks rest_hooks(c);
  rest_hooks.add("blocks.1.hook_resid_mid", vec, 3.0);
  ForwardOptions rest;
  rest.hooks = &rest_hooks;
  rest.start_at_layer = 1;
  rest.resid_in = full_hooks.get("blocks.0.hook_resid_post");
  EXPECT_TRUE(at::equal(forward(model_, b.tokens, b.mask, rest), want));
  EXPECT_GT(max_abs_diff(want, forward(model_, b.tokens, b.mask)), 1e-3);  // the hook did act
  // refused: beyond the last block, a residual of the wrong shape or dtype
  ForwardOptions bad = rest;
  bad.start_at_layer = c.n_layer + 1;
  EXPECT_THROW(forward(model_, b.tokens, b.mask, bad), rs::Error);
  bad = rest;
  bad.resid_in = rest.resid_in.narrow(1, 0, 2);
  EXPECT_THROW(forward(model_, b.tokens, b.mask, bad), rs::Error);
  bad = rest;
  bad.resid_in = rest.resid_in.to(at::kDouble);
  EXPECT_THROW(forward(model_, b.tokens, b.mask, bad), rs::Error);
}

INSTANTIATE_TEST_SUITE_P(Archs, Equivalence, ::testing::Values("llama", "qwen2"));

// The q/k row permutation: our inverse undoes the converter's permutation and both are bijections.
TEST(QkPermutation, RoundTripAndKnownLayout) {
  const int64_t n_head = 3, d = 8, in = 5;
  at::Tensor hf = at::arange(n_head * d * in, at::kFloat).view({n_head * d, in});
  at::Tensor g = hf_to_gguf_qk_rows(hf, n_head);
  EXPECT_TRUE(at::equal(gguf_to_hf_qk_rows(g, n_head), hf));
  // GGUF row h*d + 2i + j holds HF row h*d + j*d/2 + i (convert_hf_to_gguf.py permute)
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < d / 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        EXPECT_TRUE(at::equal(g[h * d + 2 * i + j], hf[h * d + j * d / 2 + i]));
  EXPECT_THROW(gguf_to_hf_qk_rows(hf, 5), rs::Error);
}

// Reduced precision: bf16 weights give logits close to f32 (softmax and norms run in f32).
TEST(ReducedPrecision, Bf16CloseToF32) {
  at::NoGradGuard ng;
  const ModelConfig c = test::tiny_config("llama");
  Model f32 = test::tiny_model(c, 9);
  LoadOptions o;
  o.dtype = at::kBFloat16;
  Model bf = test::tiny_model(c, 9, o);
  // same weights: copy the f32 values into the bf16 model (tiny_model perturbs norms in f32 first)
  const auto a = f32.named_weights(), b = bf.named_weights();
  for (size_t i = 0; i < a.size(); ++i) b[i].second.copy_(a[i].second);
  Batch batch = make_batch({{1, 2, 3, 4, 5, 6}, {7, 8, 9}}, 0);
  const at::Tensor lf = forward(f32, batch.tokens, batch.mask), lb = forward(bf, batch.tokens, batch.mask);
  EXPECT_EQ(lb.scalar_type(), at::kFloat);
  const at::Tensor real = batch.mask.to(at::kBool).unsqueeze(-1);
  const double err = (lf - lb).abs().masked_select(real).max().item<double>();
  const double scale = lf.abs().masked_select(real).max().item<double>();
  EXPECT_LT(err, 0.05 * scale) << err << " vs " << scale;
  EXPECT_GT(err, 0.0);  // it really ran in bf16
}
