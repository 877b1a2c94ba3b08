// Steering on a tiny random model: what adding at layer L changes and what it does not, alpha 0,
// cached vs recomputed generation, reading activations at the last real token.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "methods/steer/eval.h"
#include "methods/steer/steering.h"
#include "model/generate.h"
#include "model/tiny_model.h"

using namespace rs;
using namespace rs::steer;

namespace {

struct SteerTest : ::testing::Test {
  at::NoGradGuard ng;
  ModelConfig cfg = [] {
    ModelConfig c = test::tiny_config("llama");
    c.n_layer = 4;
    return c;
  }();
  Model m = test::tiny_model(cfg, 21);
  ControlVectors cv = [this] {
    ControlVectors v;
    v.model_hint = "llama";
    v.n_embd = cfg.d_model;
    at::manual_seed(5);
    for (int64_t l = 1; l < cfg.n_layer; ++l) v.layers[l] = at::randn({cfg.d_model});
    return v;
  }();
  std::vector<int64_t> prompt{3, 14, 15, 9, 26, 5, 35};
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

TEST_F(SteerTest, AddingAtLayerLLeavesEverythingBeforeBlockLPlus1Unchanged) {
  const int64_t L = 1;
  at::Tensor tokens = at::tensor(prompt, at::kLong).view({1, -1});
  auto capture_all = [&](Hooks& h) {
    h.capture("blocks.*.hook_resid_*");
    h.capture("blocks.*.attn.hook_pattern");
    ForwardOptions o;
    o.hooks = &h;
    return forward(m, tokens, at::Tensor(), o);
  };
  Hooks plain(cfg), steered(cfg);
  add_steering(steered, m, cv, {L}, 3.0);
  const at::Tensor lp = capture_all(plain), ls = capture_all(steered);
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    for (const char* pt : {"hook_resid_pre", "hook_resid_mid", "attn.hook_pattern"}) {
      const std::string n = "blocks." + std::to_string(l) + "." + pt;
      const bool same = plain.get(n).equal(steered.get(n));
      EXPECT_EQ(same, l <= L) << n;  // block L+1 onwards sees the vector
    }
  }
  // resid_post[L] is exactly the old value plus 3 v_L at every position.
  const std::string post = "blocks." + std::to_string(L) + ".hook_resid_post";
  EXPECT_TRUE(at::allclose(steered.get(post), plain.get(post) + 3.0 * cv.layers.at(L), 0, 1e-6));
  EXPECT_FALSE(lp.equal(ls));
}

TEST_F(SteerTest, AlphaZeroGivesExactlyZeroKl) {
  McItem item{"x", prompt, {{7}, {8, 9}, {10, 11, 12}}, 1};
  at::Tensor ref;
  const ItemScore base = score_mc_item(m, item, nullptr, at::Tensor(), &ref);
  Hooks h(cfg);
  add_steering(h, m, cv, {2}, 0.0);
  const ItemScore zero = score_mc_item(m, item, &h, ref);
  EXPECT_EQ(zero.kl, 0.0);
  EXPECT_EQ(zero.candidate_logprobs, base.candidate_logprobs);
  Hooks h2(cfg);
  add_steering(h2, m, cv, {2}, 2.0);
  EXPECT_GT(score_mc_item(m, item, &h2, ref).kl, 1e-6);
}

TEST_F(SteerTest, CandidateLogLikelihoodMatchesAFullForward) {
  McItem item{"x", prompt, {{7}, {8, 9}, {10, 11, 12}}, 2};
  Hooks h(cfg);
  add_steering(h, m, cv, {1, 3}, 1.5);
  const ItemScore s = score_mc_item(m, item, &h, at::Tensor());
  for (size_t k = 0; k < item.candidates.size(); ++k) {
    std::vector<int64_t> all = prompt;
    all.insert(all.end(), item.candidates[k].begin(), item.candidates[k].end());
    ForwardOptions o;
    o.hooks = &h;
    at::Tensor lp = at::log_softmax(forward(m, at::tensor(all, at::kLong).view({1, -1}), at::Tensor(), o)[0], -1);
    double want = 0;
    for (size_t j = 0; j < item.candidates[k].size(); ++j)
      want += lp[static_cast<int64_t>(prompt.size() + j - 1)][item.candidates[k][j]].item<double>();
    EXPECT_NEAR(s.candidate_logprobs[k], want, 1e-4) << "candidate " << k;
  }
}

TEST_F(SteerTest, SteeredGenerationIsTheSameWithAndWithoutTheCache) {
  Hooks h(cfg);
  add_steering(h, m, cv, {2}, 4.0);
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.stop_at_eos = false;
  o.hooks = &h;
  const auto cached = generate(m, nullptr, {prompt}, o);
  o.use_cache = false;
  const auto recomputed = generate(m, nullptr, {prompt}, o);
  EXPECT_EQ(cached[0].tokens, recomputed[0].tokens);
  GenerateOptions plain = o;
  plain.hooks = nullptr;
  EXPECT_NE(generate(m, nullptr, {prompt}, plain)[0].tokens, cached[0].tokens);  // steering did something
}

TEST_F(SteerTest, ReadsTheLastRealTokenWhateverThePadding) {
  const std::vector<std::vector<int64_t>> seqs{{1, 2, 3, 4, 5, 6}, {7, 8}};
  const at::Tensor batched = read_resid_post(m, seqs, {1, 3}, ReadPosition::Last, 8);
  ASSERT_EQ(batched.sizes(), at::IntArrayRef({2, 2, cfg.d_model}));
  for (size_t i = 0; i < seqs.size(); ++i) {
    const at::Tensor alone = read_resid_post(m, {seqs[i]}, {1, 3}, ReadPosition::Last, 1);
    EXPECT_TRUE(at::allclose(batched[static_cast<int64_t>(i)], alone[0], 1e-5, 1e-5)) << i;
  }
  const at::Tensor mean = read_resid_post(m, seqs, {1}, ReadPosition::Mean, 8);
  Hooks h(cfg);
  h.capture("blocks.1.hook_resid_post");
  ForwardOptions o;
  o.hooks = &h;
  forward(m, at::tensor(seqs[1], at::kLong).view({1, -1}), at::Tensor(), o);
  EXPECT_TRUE(at::allclose(mean[1][0], h.get("blocks.1.hook_resid_post")[0].mean(0), 1e-5, 1e-5));
}

TEST_F(SteerTest, MismatchedVectorsAreRefused) {
  Hooks h(cfg);
  ControlVectors wide = cv;
  wide.n_embd = cfg.d_model + 1;
  EXPECT_NE(error_of([&] { add_steering(h, m, wide, {1}, 1.0); }).find("d_model"), std::string::npos);
  ControlVectors deep = cv;
  deep.layers[9] = at::zeros({cfg.d_model});
  EXPECT_NE(error_of([&] { add_steering(h, m, deep, {1}, 1.0); }).find("layers"), std::string::npos);
  EXPECT_NE(error_of([&] { add_steering(h, m, cv, {0}, 1.0); }).find("no direction for layer 0"), std::string::npos);
}

TEST(SteerEvalHelpers, FinalNumbers) {
  EXPECT_EQ(extract_final_number("so 3 + 4 = 7\n#### 7"), "7");
  EXPECT_EQ(extract_final_number("It costs 1,250 dollars, not 12."), "12");
  EXPECT_EQ(extract_final_number("#### -3.5 apples"), "-3.5");
  EXPECT_EQ(extract_final_number("none"), "");
  EXPECT_TRUE(same_number("18", "18.0"));
  EXPECT_FALSE(same_number("", "1"));
  const at::Tensor u = at::log_softmax(at::zeros({8}, at::kDouble), 0);
  EXPECT_NEAR(entropy_bits(u), 3.0, 1e-12);
  EXPECT_EQ(kl_divergence(u, u), 0.0);
}
