// Sampling, text streaming and generation (issue 3: generation with a KV cache; greedy,
// temperature, top-k, top-p, seed; stop on EOS/EOT, strings, max tokens; interventions give the
// same result with and without the cache). Tiny random models for the mechanics, the default
// model for "The capital of France is" -> Paris and steering with/without the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "hooks/hooks.h"
#include "kernels/quant_matmul.h"
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

// The filters as first written (issue 3): sort the whole vocabulary, softmax over the kept
// candidates, cut the nucleus. The sampler now sorts only the survivors; the kept set and the
// probabilities must not change.
std::vector<double> reference_probs(const std::vector<float>& l, const SamplingOptions& o) {
  const int64_t V = static_cast<int64_t>(l.size());
  std::vector<int64_t> order(V);
  for (int64_t i = 0; i < V; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  const int64_t keep = o.top_k > 0 && o.top_k < V ? o.top_k : V;
  const double mx = l[order[0]];
  std::vector<double> w(keep);
  double total = 0;
  for (int64_t j = 0; j < keep; ++j) total += w[j] = std::exp((double(l[order[j]]) - mx) / o.temperature);
  int64_t cut = keep;
  double cum = 0;
  for (int64_t j = 0; o.top_p < 1.0 && j < keep; ++j) {
    if (cum >= o.top_p * total) {
      cut = j;
      break;
    }
    cum += w[j];
  }
  double kept = 0;
  for (int64_t j = 0; j < cut; ++j) kept += w[j];
  std::vector<double> p(V, 0.0);
  for (int64_t j = 0; j < cut; ++j) p[order[j]] = w[j] / kept;
  return p;
}

TEST(Sampling, PartialSortKeepsTheFullSortDistribution) {
  // A vocabulary-sized row with ties, a peaked one and a flat one (whose nucleus outgrows the
  // sampler's first sorted slices of 64 and 256 candidates).
  at::manual_seed(5);
  const int64_t V = 5000;
  std::vector<std::vector<float>> rows;
  for (double scale : {3.0, 12.0, 0.05}) {
    at::Tensor t = (at::randn({V}) * scale).to(at::kFloat);
    std::vector<float> v(t.data_ptr<float>(), t.data_ptr<float>() + V);
    for (int64_t i = 0; i < V; i += 7) v[i] = v[(i * 13) % V];  // ties
    rows.push_back(v);
  }
  struct Case { double t; int64_t k; double p; };
  for (const Case& c : {Case{1.0, 0, 1.0}, Case{0.7, 0, 0.9}, Case{1.3, 40, 1.0}, Case{0.8, 100, 0.5},
                        Case{1.0, 0, 0.999}, Case{2.0, 4999, 0.95}, Case{1.0, 1, 0.3}}) {
    SamplingOptions o;
    o.temperature = c.t;
    o.top_k = c.k;
    o.top_p = c.p;
    Sampler s(o);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<double> want = reference_probs(rows[r], o);
      at::Tensor got = s.filtered_probs(at::from_blob(rows[r].data(), {1, V}, at::kFloat))[0];
      int64_t n_kept = 0;
      for (int64_t i = 0; i < V; ++i) {
        const double g = got[i].item<double>();
        ASSERT_EQ(g > 0, want[i] > 0) << "T " << c.t << " k " << c.k << " p " << c.p << " row " << r << " id " << i;
        ASSERT_NEAR(g, want[i], 1e-12 + 1e-9 * want[i]);
        n_kept += g > 0;
      }
      if (c.p == 0.999 && r == 2) {
        EXPECT_GT(n_kept, 256);  // exercised the growing sort
      }
    }
  }
  // Greedy: the argmax, lowest id among ties, for f32 and f64 logits alike.
  std::vector<float> g = rows[0];
  const float top = *std::max_element(g.begin(), g.end());
  g[4000] = g[17] = top + 1.0f;
  at::Tensor lf = at::from_blob(g.data(), {1, V}, at::kFloat);
  Sampler greedy(SamplingOptions{});
  EXPECT_EQ(greedy.sample(lf).item<int64_t>(), 17);
  EXPECT_EQ(greedy.sample(lf.to(at::kDouble)).item<int64_t>(), 17);
  EXPECT_EQ(greedy.sample(lf.to(at::kBFloat16)).item<int64_t>(), lf.to(at::kBFloat16).to(at::kFloat).argmax(-1).item<int64_t>());
}

TEST(Sampling, GreedyOverAVocabularyIsTheFirstLargestIdAnywhere) {
  // The argmax runs in 1024-logit chunks of vector lanes (issue 23): the first largest id must
  // come out wherever it sits (first lane, a tail shorter than a vector group, the next chunk
  // after a tie), and a NaN anywhere is an error naming it.
  const int64_t V = 151936 + 7;  // Qwen2.5's vocabulary plus a ragged tail
  at::manual_seed(11);
  at::Tensor base = (at::randn({V}) * 3.0).to(at::kFloat);
  Sampler greedy(SamplingOptions{});
  auto first_max = [](const std::vector<float>& v) {
    return static_cast<int64_t>(std::max_element(v.begin(), v.end()) - v.begin());
  };
  for (int64_t at_id : {int64_t{0}, int64_t{15}, int64_t{1023}, int64_t{1024}, int64_t{77777}, V - 8, V - 1}) {
    std::vector<float> v(base.data_ptr<float>(), base.data_ptr<float>() + V);
    v[at_id] = 100.f;
    if (at_id + 1500 < V) v[at_id + 1500] = 100.f;  // a tie in a later chunk loses to the first
    at::Tensor l = at::from_blob(v.data(), {1, V}, at::kFloat);
    EXPECT_EQ(greedy.sample(l).item<int64_t>(), at_id);
    EXPECT_EQ(greedy.sample(l.to(at::kDouble)).item<int64_t>(), at_id);
    EXPECT_EQ(first_max(v), at_id);
  }
  std::vector<float> inf(V, -INFINITY);
  EXPECT_EQ(greedy.sample(at::from_blob(inf.data(), {1, V}, at::kFloat)).item<int64_t>(), 0);
  inf[V - 3] = INFINITY;
  EXPECT_EQ(greedy.sample(at::from_blob(inf.data(), {1, V}, at::kFloat)).item<int64_t>(), V - 3);
  for (int64_t nan_id : {int64_t{5}, V - 2}) {
    std::vector<float> v(base.data_ptr<float>(), base.data_ptr<float>() + V);
    v[nan_id] = NAN;
    try {
      greedy.sample(at::from_blob(v.data(), {1, V}, at::kFloat));
      ADD_FAILURE() << "a NaN logit was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("token " + std::to_string(nan_id) + " is NaN"), std::string::npos) << e.what();
    }
  }
}

// SplitMix64 (Steele, Lea, Flood 2014) as sampling.h documents it: a seed's draws are this
// sequence of uniforms through the inverse CDF over the kept ids in ascending order.
struct ReferenceRng {
  uint64_t s;
  double uniform() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
  }
};

TEST(Sampling, SeededDrawsAreTheFullSortReferenceDraws) {
  // What a seed draws must not depend on how the filters are computed (issue 23 replaced the
  // nth_element / full passes by a one-pass top-k and single exponentials): the draws equal
  // the full-sort reference's probabilities drawn with the documented generator, step by step.
  at::manual_seed(21);
  const int64_t V = 20000;
  at::Tensor t = (at::randn({V}) * 4.0).to(at::kFloat);
  std::vector<float> l(t.data_ptr<float>(), t.data_ptr<float>() + V);
  for (int64_t i = 0; i < V; i += 9) l[i] = l[(i * 31) % V];  // ties
  struct Case { double t; int64_t k; double p; };
  for (const Case& c : {Case{1.0, 0, 1.0}, Case{0.7, 0, 0.9}, Case{0.8, 40, 1.0}, Case{0.7, 40, 0.9},
                        Case{1.0, 1024, 1.0}, Case{1.0, 1025, 0.95}, Case{2.0, 1, 1.0}}) {
    SamplingOptions o;
    o.temperature = c.t;
    o.top_k = c.k;
    o.top_p = c.p;
    o.seed = 2026;
    Sampler s(o);
    const std::vector<double> p = reference_probs(l, o);
    ReferenceRng rng{o.seed};
    const at::Tensor row = at::from_blob(l.data(), {1, V}, at::kFloat);
    std::set<int64_t> drawn;
    for (int step = 0; step < 200; ++step) {
      const double u = rng.uniform();
      double cum = 0;
      int64_t want = -1;
      for (int64_t i = 0; i < V; ++i) {
        if (p[i] <= 0) continue;
        want = i;
        cum += p[i];
        if (u < cum) break;
      }
      ASSERT_EQ(s.sample(row).item<int64_t>(), want) << "T " << c.t << " k " << c.k << " p " << c.p << " step " << step;
      drawn.insert(want);
    }
    if (c.k != 1) {
      EXPECT_GT(drawn.size(), 1u);  // the draws really varied
    }
  }
}

TEST(Sampling, DrawsFollowTheKeptCandidatesOfALargeVocabulary) {
  // top-k / top-p draws only from the kept set, with the kept probabilities (5 sd).
  at::manual_seed(9);
  const int64_t V = 3000;
  at::Tensor l = (at::randn({1, V}) * 2.0).to(at::kFloat);
  SamplingOptions o;
  o.temperature = 0.9;
  o.top_k = 8;
  o.top_p = 0.8;
  o.seed = 3;
  Sampler s(o);
  at::Tensor p = s.filtered_probs(l)[0];
  const int n = 20000;
  std::map<int64_t, int> counts;
  for (int i = 0; i < n; ++i) counts[s.sample(l).item<int64_t>()]++;
  for (const auto& [id, count] : counts) EXPECT_GT(p[id].item<double>(), 0.0) << "drew dropped token " << id;
  for (int64_t i = 0; i < V; ++i) {
    const double expect = p[i].item<double>();
    if (expect == 0) continue;
    const double sd = std::sqrt(expect * (1 - expect) / n);
    EXPECT_NEAR(counts[i] / double(n), expect, 5 * sd) << "token " << i;
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
  EXPECT_THROW(s.sample(at::zeros({1, 0})), Error);          // no vocabulary
  EXPECT_THROW(s.sample(at::zeros({4})), Error);             // not [batch, vocab]
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

// Greedy continuations of 10 prompts x 128 tokens from llama.cpp itself (llama-server, F32 KV
// cache; tools/make_greedy_golden.py), on the same Q4_1 file. Our native path multiplies with
// llama.cpp's arithmetic (test_native: equal to 5e-7 at position 0), but attention sums in
// another f32 order, and the 8-bit rounding of later activations turns last-bit differences into
// log-prob differences of up to ~0.2 nats; so where llama.cpp's choice is a near tie the two can
// pick different tokens (recorded 2026-12-05: every row differs somewhere, first at token 1-63).
// Checked here, with llama.cpp's tokens teacher-forced through our native forward:
//   - each of llama.cpp's tokens is within kNearTie (0.4) of our largest logit (measured max
//     0.29, with the AVX-512 and with the scalar kernels);
//   - up to the first position where llama.cpp's token is not our clear argmax (a lead of at
//     least kNearTie), our own greedy generation (first 32 tokens) is token for token llama.cpp's.
TEST(GenerateDefaultModel, NativeGreedyMatchesLlamaCppUpToNearTies) {
  std::ifstream f(std::string(RS_SOURCE_DIR) + "/tests/golden/generate/greedy_smollm2_q4_1.json");
  ASSERT_TRUE(f) << "missing tests/golden/generate/greedy_smollm2_q4_1.json";
  const nlohmann::json g = nlohmann::json::parse(f);
  auto& dm = default_model();
  LoadOptions lo;
  lo.weights = WeightFormat::Native;
  const Model m = load_model(dm.path, lo);
  constexpr float kNearTie = 0.4f;
  GenerateOptions o;
  o.max_new_tokens = 32;
  ASSERT_EQ(g.at("rows").size(), 10u);
  float worst_gap = 0.0f;
  int64_t compared = 0;
  for (const auto& row : g.at("rows")) {
    const auto prompt = row.at("prompt_ids").get<std::vector<int64_t>>();
    const auto want = row.at("tokens").get<std::vector<int64_t>>();
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(to_i64(dm.tokenizer->encode(row.at("prompt").get<std::string>())), prompt);
    std::vector<int64_t> seq = prompt;
    seq.insert(seq.end(), want.begin(), want.end());
    const at::Tensor logits = forward(m, at::tensor(seq, at::kLong).view({1, -1}), at::Tensor())[0];
    size_t clear = want.size();  // tokens before the first near tie
    for (size_t i = 0; i < want.size(); ++i) {
      const at::Tensor lg = logits[static_cast<int64_t>(prompt.size() + i - 1)];
      const auto top2 = lg.topk(2);
      const float top = std::get<0>(top2)[0].item<float>(), second = std::get<0>(top2)[1].item<float>();
      const float gap = top - lg[want[i]].item<float>();
      worst_gap = std::max(worst_gap, gap);
      EXPECT_LE(gap, kNearTie) << row.at("prompt") << " token " << i;
      const bool clear_argmax = std::get<1>(top2)[0].item<int64_t>() == want[i] && top - second >= kNearTie;
      if (!clear_argmax && clear == want.size()) clear = i;
    }
    const Generation out = generate(m, dm.tokenizer.get(), {prompt}, o).at(0);
    const size_t n = std::min<size_t>({clear, want.size(), static_cast<size_t>(o.max_new_tokens)});
    ASSERT_GE(out.tokens.size(), n);
    EXPECT_EQ(std::vector<int64_t>(out.tokens.begin(), out.tokens.begin() + n),
              std::vector<int64_t>(want.begin(), want.begin() + n))
        << row.at("prompt");
    compared += static_cast<int64_t>(n);
  }
  std::printf("[generate] llama.cpp's greedy tokens: at most %.3f below our top logit; %ld generated "
              "tokens compared up to the first near tie\n", worst_gap, static_cast<long>(compared));
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
