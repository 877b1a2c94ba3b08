// Sampling, text streaming and generation (issue 3: generation with a KV cache; greedy,
// temperature, top-k, top-p, seed; stop on EOS/EOT, strings, max tokens; interventions give the
// same result with and without the cache). Tiny random models for the mechanics, the default
// model for "The capital of France is" -> Paris and steering with/without the cache.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "hooks/hooks.h"
#include "model/generate.h"
#include "model/sampling.h"
#include "test_reference_common.h"
#include "tiny_model.h"

namespace rs::test {
namespace {

// ---------------------------------------------------------------- sampling

at::Tensor logits_of(std::vector<double> v) {
  return at::tensor(v, at::kDouble).to(at::kFloat).view({1, -1});
}

TEST(Sampling, GreedyIsArgmaxWithLowestIdOnTies) {
  Sampler s(SamplingOptions{});
  EXPECT_EQ(s.sample(logits_of({0.1, 3.0, -1.0, 3.0})).item<int64_t>(), 1);
  at::Tensor batch = at::tensor({0.f, 1.f, 2.f, 5.f, 4.f, 3.f}).view({2, 3});
  at::Tensor got = s.sample(batch);
  EXPECT_EQ(got[0].item<int64_t>(), 2);
  EXPECT_EQ(got[1].item<int64_t>(), 0);
}

TEST(Sampling, TopKOfOneIsGreedyAtAnyTemperature) {
  at::Tensor l = at::randn({4, 50}, at::TensorOptions().dtype(at::kFloat));
  SamplingOptions o;
  o.temperature = 5.0;
  o.top_k = 1;
  o.seed = 7;
  Sampler s(o);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(s.sample(l).equal(l.argmax(-1)));
}

TEST(Sampling, TopKKeepsExactlyKWithSoftmaxWeights) {
  SamplingOptions o;
  o.temperature = 0.5;
  o.top_k = 3;
  Sampler s(o);
  std::vector<double> v = {1.0, 0.2, 2.0, -1.0, 1.5, 0.0};
  at::Tensor p = s.filtered_probs(logits_of(v))[0];
  EXPECT_EQ(p.gt(0).sum().item<int64_t>(), 3);
  // kept ids 2, 4, 0 with weights exp(l / T), renormalised
  const double z = std::exp(2.0 / 0.5) + std::exp(1.5 / 0.5) + std::exp(1.0 / 0.5);
  EXPECT_NEAR(p[2].item<double>(), std::exp(2.0 / 0.5) / z, 1e-12);
  EXPECT_NEAR(p[4].item<double>(), std::exp(1.5 / 0.5) / z, 1e-12);
  EXPECT_NEAR(p[0].item<double>(), std::exp(1.0 / 0.5) / z, 1e-12);
}

TEST(Sampling, TopPKeepsTheSmallestNucleus) {
  // probabilities 0.5, 0.3, 0.15, 0.05 at T = 1
  std::vector<double> v = {std::log(0.15), std::log(0.5), std::log(0.05), std::log(0.3)};
  SamplingOptions o;
  o.temperature = 1.0;
  o.top_p = 0.7;  // 0.5 < 0.7 -> also take 0.3; 0.8 >= 0.7 -> stop
  at::Tensor p = Sampler(o).filtered_probs(logits_of(v))[0];
  EXPECT_NEAR(p[1].item<double>(), 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(p[3].item<double>(), 0.3 / 0.8, 1e-6);
  EXPECT_EQ(p[0].item<double>(), 0.0);
  EXPECT_EQ(p[2].item<double>(), 0.0);
  o.top_p = 0.4;  // the top token alone already reaches it
  p = Sampler(o).filtered_probs(logits_of(v))[0];
  EXPECT_EQ(p[1].item<double>(), 1.0);
  o.top_p = 0.9;  // 0.5 + 0.3 < 0.9 -> three tokens
  p = Sampler(o).filtered_probs(logits_of(v))[0];
  EXPECT_EQ(p.gt(0).sum().item<int64_t>(), 3);
  EXPECT_EQ(p[2].item<double>(), 0.0);
}

TEST(Sampling, SeedDeterminesTheDraws) {
  at::Tensor l = at::randn({3, 40});
  SamplingOptions o;
  o.temperature = 1.0;
  o.seed = 123;
  Sampler a(o), b(o);
  o.seed = 124;
  Sampler c(o);
  bool any_diff = false;
  for (int i = 0; i < 30; ++i) {
    at::Tensor x = a.sample(l), y = b.sample(l), z = c.sample(l);
    EXPECT_TRUE(x.equal(y));
    any_diff |= !x.equal(z);
  }
  EXPECT_TRUE(any_diff);
}

TEST(Sampling, EmpiricalFrequenciesFollowTheFilteredDistribution) {
  std::vector<double> v = {0.0, 1.0, 0.5, -0.5, 2.0, 1.2};
  SamplingOptions o;
  o.temperature = 0.8;
  o.top_k = 5;
  o.top_p = 0.95;
  o.seed = 99;
  Sampler s(o);
  at::Tensor l = logits_of(v);
  at::Tensor p = s.filtered_probs(l)[0];
  const int n = 20000;
  std::vector<int> counts(v.size(), 0);
  for (int i = 0; i < n; ++i) counts[s.sample(l).item<int64_t>()]++;
  for (size_t i = 0; i < v.size(); ++i) {
    const double expect = p[i].item<double>();
    const double sd = std::sqrt(expect * (1 - expect) / n);
    EXPECT_NEAR(counts[i] / double(n), expect, 5 * sd + 1e-9) << "token " << i;
  }
}

TEST(Sampling, RejectsBadOptions) {
  SamplingOptions o;
  o.temperature = -1;
  EXPECT_THROW(Sampler{o}, Error);
  o = {};
  o.top_p = 0.0;
  EXPECT_THROW(Sampler{o}, Error);
  o = {};
  o.top_k = -2;
  EXPECT_THROW(Sampler{o}, Error);
  Sampler s(SamplingOptions{});
  EXPECT_THROW(s.sample(logits_of({0.0, NAN})), Error);
}

// ---------------------------------------------------------------- text streaming

TEST(TextStream, MultiByteCharacterSplitAcrossTokens) {
  TextStream ts;
  EXPECT_EQ(ts.push("pay \xE2\x82"), "pay ");  // first two bytes of U+20AC
  EXPECT_EQ(ts.push("\xAC"), "\xE2\x82\xAC");
  EXPECT_EQ(ts.push("\xF0\x9F"), "");          // half of a 4-byte emoji
  EXPECT_EQ(ts.push("\x98"), "");
  EXPECT_EQ(ts.push("\x80!"), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(ts.finish(), "");
  EXPECT_EQ(ts.text(), "pay \xE2\x82\xAC\xF0\x9F\x98\x80!");
}

TEST(TextStream, IncompleteTailIsFlushedAtTheEnd) {
  TextStream ts;
  EXPECT_EQ(ts.push("a\xE2\x82"), "a");
  EXPECT_EQ(ts.finish(), "\xE2\x82");
}

TEST(TextStream, StopStringIsNeverShownAndCutsTheText) {
  TextStream ts({"\nUser:"});
  EXPECT_EQ(ts.push("Hello"), "Hello");
  EXPECT_EQ(ts.push("\nUs"), "");  // could be the start of the stop string: held back
  EXPECT_EQ(ts.push("er: hi"), "");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.text(), "Hello");
  EXPECT_EQ(ts.finish(), "");
}

TEST(TextStream, HeldBackTailIsReleasedWhenItIsNotAStop) {
  TextStream ts({"</s>", "###"});
  EXPECT_EQ(ts.push("a <"), "a ");
  EXPECT_EQ(ts.push("/b"), "</b");
  EXPECT_EQ(ts.push("##"), "");
  EXPECT_EQ(ts.push("x"), "##x");
  EXPECT_FALSE(ts.stopped());
  EXPECT_EQ(ts.push(" ###y"), " ");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.text(), "a </b##x ");
}

// ---------------------------------------------------------------- generation, tiny model

std::vector<std::vector<int64_t>> tiny_prompts() {
  return {{3, 17, 5, 9, 22}, {40}, {8, 8, 1, 30, 12, 55, 2, 19}};
}

TEST(Generate, CacheAndRecomputeGiveTheSameGreedyTokens) {
  Model m = tiny_model(tiny_config());
  GenerateOptions o;
  o.max_new_tokens = 12;
  auto with = generate(m, nullptr, tiny_prompts(), o);
  o.use_cache = false;
  auto without = generate(m, nullptr, tiny_prompts(), o);
  for (size_t r = 0; r < with.size(); ++r) {
    EXPECT_EQ(with[r].tokens.size(), 12u);
    EXPECT_EQ(with[r].tokens, without[r].tokens) << "row " << r;
    EXPECT_EQ(with[r].stop_reason, "max_new_tokens");
  }
}

TEST(Generate, BatchEqualsOneByOne) {
  Model m = tiny_model(tiny_config());
  GenerateOptions o;
  o.max_new_tokens = 10;
  o.sampling.temperature = 0.9;  // sampled: the per-row draws must not depend on the batch...
  o.sampling.top_k = 1;          // ...so top-k 1 keeps them deterministic per row
  auto batch = generate(m, nullptr, tiny_prompts(), o);
  for (size_t r = 0; r < batch.size(); ++r) {
    auto one = generate(m, nullptr, {tiny_prompts()[r]}, o);
    EXPECT_EQ(one[0].tokens, batch[r].tokens) << "row " << r;
  }
}

TEST(Generate, SameSeedSameSampleWithAndWithoutCache) {
  Model m = tiny_model(tiny_config());
  GenerateOptions o;
  o.max_new_tokens = 15;
  o.sampling.temperature = 1.0;
  o.sampling.top_p = 0.9;
  o.sampling.seed = 5;
  auto a = generate(m, nullptr, tiny_prompts(), o);
  auto b = generate(m, nullptr, tiny_prompts(), o);
  o.use_cache = false;
  auto c = generate(m, nullptr, tiny_prompts(), o);
  o.use_cache = true;
  o.sampling.seed = 6;
  auto d = generate(m, nullptr, tiny_prompts(), o);
  bool differs = false;
  for (size_t r = 0; r < a.size(); ++r) {
    EXPECT_EQ(a[r].tokens, b[r].tokens);
    EXPECT_EQ(a[r].tokens, c[r].tokens);
    differs |= a[r].tokens != d[r].tokens;
  }
  EXPECT_TRUE(differs) << "another seed should draw other tokens somewhere";
}

TEST(Generate, SteeringIsTheSameWithAndWithoutCache) {
  Model m = tiny_model(tiny_config());
  at::manual_seed(3);
  at::Tensor dir = at::randn({m.config.d_model});
  GenerateOptions o;
  o.max_new_tokens = 12;
  auto plain = generate(m, nullptr, tiny_prompts(), o);
  Hooks h(m.config);
  h.add("blocks.0.hook_resid_post", dir, 6.0);
  o.hooks = &h;
  auto cached = generate(m, nullptr, tiny_prompts(), o);
  o.use_cache = false;
  auto recomputed = generate(m, nullptr, tiny_prompts(), o);
  bool changed = false;
  for (size_t r = 0; r < plain.size(); ++r) {
    EXPECT_EQ(cached[r].tokens, recomputed[r].tokens) << "row " << r;
    changed |= cached[r].tokens != plain[r].tokens;
  }
  EXPECT_TRUE(changed) << "the steering vector should change some continuation";
}

TEST(Generate, StopIdEndsARowWithoutTheStopToken) {
  Model m = tiny_model(tiny_config());
  GenerateOptions o;
  o.max_new_tokens = 8;
  auto free_run = generate(m, nullptr, {tiny_prompts()[0]}, o);
  ASSERT_EQ(free_run[0].tokens.size(), 8u);
  o.stop_ids = {free_run[0].tokens[3]};
  // stops at the first occurrence of that id, which may come before index 3
  size_t first = 0;
  while (free_run[0].tokens[first] != o.stop_ids[0]) ++first;
  auto stopped = generate(m, nullptr, {tiny_prompts()[0]}, o);
  EXPECT_EQ(stopped[0].stop_reason, "stop_id");
  EXPECT_EQ(stopped[0].stop_token, o.stop_ids[0]);
  EXPECT_EQ(stopped[0].tokens,
            std::vector<int64_t>(free_run[0].tokens.begin(), free_run[0].tokens.begin() + first));
}

TEST(Generate, ZeroNewTokensAndContextLimit) {
  ModelConfig c = tiny_config();
  Model m = tiny_model(c);
  GenerateOptions o;
  o.max_new_tokens = 0;
  auto none = generate(m, nullptr, tiny_prompts(), o);
  for (auto& g : none) EXPECT_TRUE(g.tokens.empty());
  // 250-token prompt in a 256-token context: 6 tokens, then "context"
  std::vector<int64_t> long_prompt(250, 7);
  o.max_new_tokens = 50;
  auto full = generate(m, nullptr, {long_prompt}, o);
  EXPECT_EQ(full[0].stop_reason, "context");
  EXPECT_EQ(full[0].tokens.size(), 6u);
}

TEST(Generate, BadPromptsAreClearErrors) {
  Model m = tiny_model(tiny_config());
  GenerateOptions o;
  try {
    generate(m, nullptr, {{}}, o);
    FAIL() << "empty prompt accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty prompt"), std::string::npos) << e.what();
  }
  try {
    generate(m, nullptr, {std::vector<int64_t>(300, 1)}, o);
    FAIL() << "over-long prompt accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context of 256"), std::string::npos) << e.what();
  }
  EXPECT_THROW(generate(m, nullptr, {{1, 2, 99}}, o), Error);  // id outside the vocabulary
  o.stop_strings = {"x"};
  EXPECT_THROW(generate(m, nullptr, {{1, 2}}, o), Error);  // stop strings need a tokenizer
}

// ---------------------------------------------------------------- the default model

TEST(GenerateDefaultModel, CapitalOfFranceIsParis) {
  auto& dm = default_model();
  GenerateOptions o;
  o.max_new_tokens = 12;
  std::string streamed;
  o.on_text = [&](int64_t, const std::string& s) { streamed += s; };
  auto prompt = to_i64(dm.tokenizer->encode("The capital of France is"));
  auto out = generate(dm.model, dm.tokenizer.get(), {prompt}, o);
  std::printf("[generate] \"The capital of France is\" ->%s\n", out[0].text.c_str());
  EXPECT_NE(out[0].text.find("Paris"), std::string::npos) << out[0].text;
  EXPECT_EQ(streamed, out[0].text);
  std::vector<int32_t> ids32(out[0].tokens.begin(), out[0].tokens.end());
  EXPECT_EQ(dm.tokenizer->decode(ids32), out[0].text);
}

TEST(GenerateDefaultModel, ChatAnswerStopsAtEndOfTurn) {
  auto& dm = default_model();
  std::string text = dm.tokenizer->apply_chat({{"user", "What is the capital of France?"}}, true);
  GenerateOptions o;
  o.max_new_tokens = 40;
  auto out = generate(dm.model, dm.tokenizer.get(), {to_i64(dm.tokenizer->encode(text))}, o);
  std::printf("[generate] chat answer: %s (%s)\n", out[0].text.c_str(), out[0].stop_reason.c_str());
  EXPECT_NE(out[0].text.find("Paris"), std::string::npos) << out[0].text;
  EXPECT_EQ(out[0].stop_reason, "eos");  // <|im_end|> is the model's EOS
}

TEST(GenerateDefaultModel, SteeringWithAndWithoutCacheGivesTheSameTokens) {
  auto& dm = default_model();
  const Model& m = dm.model;
  // A direction read from the model itself: the embedding of " Paris" minus that of " London",
  // added to the residual stream of layer 10 at every position (prompt and generated).
  auto paris = dm.tokenizer->encode(" Paris", false), london = dm.tokenizer->encode(" London", false);
  ASSERT_EQ(paris.size(), 1u);
  ASSERT_EQ(london.size(), 1u);
  at::Tensor dir = (m.embed[paris[0]] - m.embed[london[0]]).to(at::kFloat);
  std::vector<std::vector<int64_t>> prompts = {
      to_i64(dm.tokenizer->encode("My favourite city to visit is")),
      to_i64(dm.tokenizer->encode("Last summer we travelled to"))};
  GenerateOptions o;
  o.max_new_tokens = 10;
  auto plain = generate(m, dm.tokenizer.get(), prompts, o);
  Hooks h(m.config);
  h.add("blocks.10.hook_resid_post", dir, 16.0);
  o.hooks = &h;
  auto cached = generate(m, dm.tokenizer.get(), prompts, o);
  o.use_cache = false;
  auto recomputed = generate(m, dm.tokenizer.get(), prompts, o);
  bool changed = false;
  for (size_t r = 0; r < prompts.size(); ++r) {
    std::printf("[generate] steered row %zu: cache \"%s\" | no cache \"%s\" | unsteered \"%s\"\n", r,
                cached[r].text.c_str(), recomputed[r].text.c_str(), plain[r].text.c_str());
    EXPECT_EQ(cached[r].tokens, recomputed[r].tokens) << "row " << r;
    changed |= cached[r].tokens != plain[r].tokens;
  }
  EXPECT_TRUE(changed);
}

}  // namespace
}  // namespace rs::test
