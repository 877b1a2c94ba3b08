// Gemma 3 270M (gemma-3-270m-q4_k_m.gguf, `scripts/setup.sh --with gemma3`) against transformers'
// GGUF loader (f32, eager attention; tools/make_gemma_golden.py -> tests/golden/gemma3/model.json):
// log-probabilities at every position of 5 prompts, one of them longer than the 512-token sliding
// window, within 1e-3; the block outputs (hook_resid_post) of the last position; cached decoding
// past the window; the native (quantised) path close to the exact one. Skips when the file is
// absent (CI installs it).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/paths.h"
#include "golden_logprobs.h"
#include "hooks/hooks.h"
#include "model/model.h"

namespace {

bool gemma_present() {
  struct stat st{};
  return ::stat(rs::gemma3_model_path().c_str(), &st) == 0;
}

#define REQUIRE_GEMMA()                                                                  \
  if (!gemma_present())                                                                  \
  GTEST_SKIP() << "Gemma 3 file absent (" << rs::gemma3_model_path()                     \
               << "); install it with scripts/setup.sh --with gemma3"

const rs::test::GoldenSet& golden() {
  return rs::test::load_golden("tests/golden/gemma3/model.json",
                               {"cases", "ids", "next_logprob", "top_ids", "top_logprob"});
}

const rs::Model& exact_model() {
  rs::set_threads(0);
  return rs::test::load_model_once(rs::gemma3_model_path());
}

at::Tensor ids_of(const rs::test::GoldenCase& c) { return at::tensor(c.ids, at::kLong).view({1, -1}); }

// Log-softmax rows of the unembedding for final-norm outputs x [P, D] (P small enough).
at::Tensor logprobs(const rs::Model& m, const at::Tensor& x) {
  at::Tensor logits = at::matmul(x, m.lm_head.t()).to(at::kDouble);
  return at::log_softmax(logits, -1);
}

// Max |ours - reference| over the next-token and top-k log-probs of positions [p0, p0 + P).
double max_diff(const rs::test::GoldenCase& c, const at::Tensor& lp, int64_t p0) {
  rs::test::LogprobAgreement a;
  a.add(c, lp, p0);
  return a.next_top;
}

TEST(Gemma3, Config) {
  REQUIRE_GEMMA();
  const rs::ModelConfig& c = exact_model().config;
  EXPECT_EQ(c.arch, "gemma3");
  EXPECT_EQ(c.n_layer, 18);
  EXPECT_EQ(c.d_model, 640);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 1);
  EXPECT_EQ(c.d_head, 256);
  EXPECT_EQ(c.d_ff, 2048);
  EXPECT_EQ(c.n_vocab, 262144);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_DOUBLE_EQ(c.rope.theta, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_theta_local, 1e4);
  EXPECT_NEAR(c.embedding_scale, std::sqrt(640.0), 1e-12);
  EXPECT_NEAR(c.attn_scale, 1.0 / 16.0, 1e-12);
  EXPECT_TRUE(c.qk_norm && c.post_attn_norm && c.post_mlp_norm && !c.norm_weight_plus_one);
  EXPECT_TRUE(c.tied_embeddings);
  // The reference's layer types: global every 6th layer.
  const auto types = golden().meta["config"]["layer_types"].get<std::vector<std::string>>();
  ASSERT_EQ(types.size(), c.layer_sliding.size());
  for (size_t l = 0; l < types.size(); ++l)
    EXPECT_EQ(c.layer_sliding[l], types[l] == "sliding_attention") << "layer " << l;
}

TEST(Gemma3, LogprobsAtEveryPositionMatchTransformers) {
  REQUIRE_GEMMA();
  const rs::Model& m = exact_model();
  at::NoGradGuard ng;
  const auto& cases = golden().cases;
  ASSERT_GE(cases.size(), 5u);
  bool long_prompt = false;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const rs::test::GoldenCase& c = cases[ci];
    const at::Tensor ids = ids_of(c);
    const int64_t T = ids.size(1);
    long_prompt |= T > 512;
    rs::ForwardOptions o;
    o.logits = rs::LogitsMode::None;  // final-norm output; logits per chunk (262k columns)
    const at::Tensor x = rs::forward(m, ids, {}, o)[0];
    double worst = 0;
    for (int64_t p0 = 0; p0 < T; p0 += 128) {
      const int64_t P = std::min<int64_t>(128, T - p0);
      worst = std::max(worst, max_diff(c, logprobs(m, x.narrow(0, p0, P)), p0));
    }
    std::printf("case %zu: %lld positions, max |log-prob diff| %.2e\n", ci, static_cast<long long>(T), worst);
    EXPECT_LE(worst, 1e-3) << "case " << ci;
  }
  EXPECT_TRUE(long_prompt) << "no golden prompt is longer than the sliding window";
}

TEST(Gemma3, ResidPostIsTheBlockOutput) {
  REQUIRE_GEMMA();
  const rs::Model& m = exact_model();
  at::NoGradGuard ng;
  const rs::test::GoldenCase& c = golden().cases[0];
  rs::Hooks h(m.config);
  h.capture("blocks.*.hook_resid_post", rs::Positions::last());
  rs::ForwardOptions o;
  o.logits = rs::LogitsMode::None;
  o.hooks = &h;
  rs::forward(m, ids_of(c), {}, o);
  const auto& ref = (*c.raw)["resid_post_last"];
  double worst = 0;
  for (int l = 0; l < m.config.n_layer; ++l) {
    const at::Tensor ours = h.get("blocks." + std::to_string(l) + ".hook_resid_post").reshape({-1}).to(at::kDouble);
    const at::Tensor want = at::tensor(ref[static_cast<size_t>(l)].get<std::vector<double>>(), at::kDouble);
    // relative to the layer's scale (Gemma's residual norms grow to ~1e3)
    worst = std::max(worst, ((ours - want).abs().max() / want.abs().max().clamp_min(1.0)).item<double>());
  }
  std::printf("resid_post (last position, 18 layers): max relative diff %.2e\n", worst);
  EXPECT_LE(worst, 1e-4);
}

TEST(Gemma3, CachedDecodingPastTheWindowMatches) {
  REQUIRE_GEMMA();
  const rs::Model& m = exact_model();
  at::NoGradGuard ng;
  const rs::test::GoldenCase* longest = &golden().longest();
  const at::Tensor ids = ids_of(*longest);
  // 15 cached steps whose key columns cross the 512-key window (506 -> 520 keys)
  const int64_t T = ids.size(1), prefill = 505, end = std::min<int64_t>(T, 520);
  ASSERT_GT(end, 512);
  rs::KVCache cache;
  rs::ForwardOptions o;
  o.cache = &cache;
  o.logits = rs::LogitsMode::None;
  std::vector<at::Tensor> xs;
  xs.push_back(rs::forward(m, ids.narrow(1, 0, prefill), {}, o)[0].narrow(0, prefill - 1, 1));
  for (int64_t p = prefill; p < end; ++p) xs.push_back(rs::forward(m, ids.narrow(1, p, 1), {}, o)[0]);
  const double worst = max_diff(*longest, logprobs(m, at::cat(xs, 0)), prefill - 1);
  std::printf("cached decode, positions %lld..%lld: max |log-prob diff| %.2e\n",
              static_cast<long long>(prefill - 1), static_cast<long long>(end - 1), worst);
  EXPECT_LE(worst, 1e-3);
}

TEST(Gemma3, NativeWeightsStayCloseToTheExactForward) {
  REQUIRE_GEMMA();
  const rs::Model& native = rs::test::load_model_once(rs::gemma3_model_path(), rs::WeightFormat::Native);
  at::NoGradGuard ng;
  const rs::test::GoldenCase* longest = &golden().longest();
  // Prefill past the window, then a few cached steps; compare each step's log-probs.
  const at::Tensor ids = ids_of(*longest);
  const int64_t prefill = 520, steps = 4;
  ASSERT_GT(ids.size(1), prefill + steps);
  rs::KVCache cache;
  rs::ForwardOptions o;
  o.cache = &cache;
  o.logits = rs::LogitsMode::Last;
  std::vector<at::Tensor> rows;
  rows.push_back(rs::forward(native, ids.narrow(1, 0, prefill), {}, o)[0]);
  for (int64_t p = prefill; p < prefill + steps; ++p) rows.push_back(rs::forward(native, ids.narrow(1, p, 1), {}, o)[0]);
  const at::Tensor lp = at::log_softmax(at::cat(rows, 0).to(at::kDouble), -1);
  rs::test::LogprobAgreement a;
  a.add(*longest, lp, prefill - 1);
  const double worst = a.next_top;
  const int agree = static_cast<int>(a.top1_same);
  std::printf("native: positions %lld..%lld, max |log-prob diff| %.3f, argmax agrees %d/%lld\n",
              static_cast<long long>(prefill - 1), static_cast<long long>(prefill - 1 + steps), worst, agree,
              static_cast<long long>(steps + 1));
  EXPECT_LE(worst, 0.5);
  EXPECT_GE(agree, steps);
}

}  // namespace
