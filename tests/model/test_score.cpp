// Scoring (issue 3): log-probability of a continuation given a prefix, perplexity of a text
// (windowed when longer than the context), and the perplexity bound on a fixed English
// paragraph (tests/golden/reference/perplexity_paragraph.txt).
#include <gtest/gtest.h>

#include <cmath>

#include "hooks/hooks.h"
#include "model/score.h"
#include "test_reference_common.h"
#include "tiny_model.h"

namespace rs::test {
namespace {

// log p(seq[i+1] | seq[<=i]) from one plain forward over `seq` (batch 1, no cache).
std::vector<double> manual_logprobs(const Model& m, const std::vector<int64_t>& seq) {
  at::NoGradGuard g;
  at::Tensor logits = forward(m, at::tensor(seq, at::kLong).view({1, -1}), at::Tensor())[0];
  at::Tensor lp = at::log_softmax(logits, -1);
  std::vector<double> out;
  for (size_t i = 0; i + 1 < seq.size(); ++i) out.push_back(lp[i][seq[i + 1]].item<double>());
  return out;
}

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor t = at::randint(vocab, {n}, at::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

TEST(Score, ContinuationEqualsLogSoftmaxOfTheFullForward) {
  Model m = tiny_model(tiny_config());
  std::vector<int64_t> prefix = {4, 9, 33, 2}, cont = {17, 5, 60};
  ContinuationScore s = score_continuation(m, prefix, cont);
  std::vector<int64_t> seq = prefix;
  seq.insert(seq.end(), cont.begin(), cont.end());
  auto ref = manual_logprobs(m, seq);
  ASSERT_EQ(s.n_tokens, 3);
  double sum = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(s.token_logprobs[i], ref[prefix.size() - 1 + i], 1e-6);
    sum += ref[prefix.size() - 1 + i];
  }
  EXPECT_NEAR(s.sum_logprob, sum, 1e-5);
  EXPECT_LT(s.sum_logprob, 0.0);
}

TEST(Score, BatchedPairsEqualEachPairAlone) {
  Model m = tiny_model(tiny_config());
  std::vector<std::vector<int64_t>> prefixes = {{1, 2, 3}, {7}, {10, 11, 12, 13, 14, 15}, {50, 51}};
  std::vector<std::vector<int64_t>> conts = {{4}, {8, 9, 10, 11}, {16, 17}, {52, 53, 54}};
  auto batched = score_continuations(m, prefixes, conts, 3);
  for (size_t r = 0; r < prefixes.size(); ++r) {
    auto one = score_continuation(m, prefixes[r], conts[r]);
    ASSERT_EQ(one.n_tokens, batched[r].n_tokens);
    for (int64_t i = 0; i < one.n_tokens; ++i)
      EXPECT_NEAR(one.token_logprobs[i], batched[r].token_logprobs[i], 1e-4) << r << "," << i;
    EXPECT_EQ(one.greedy, batched[r].greedy);
  }
}

TEST(Score, HooksAreActiveWhileScoring) {
  Model m = tiny_model(tiny_config());
  auto plain = score_continuation(m, {1, 2, 3}, {4, 5});
  Hooks h(m.config);
  h.add("blocks.1.hook_resid_mid", at::ones({m.config.d_model}), 3.0);
  auto steered = score_continuation(m, {1, 2, 3}, {4, 5}, &h);
  EXPECT_GT(std::abs(plain.sum_logprob - steered.sum_logprob), 1e-3);
}

TEST(Score, PerplexityInOneWindowIsExpOfMeanNll) {
  Model m = tiny_model(tiny_config());
  auto ids = random_ids(40, m.config.n_vocab, 11);
  PerplexityOptions o;
  o.chunk = 7;  // several forwards with the cache inside the window
  PerplexityResult p = perplexity(m, ids, o);
  auto ref = manual_logprobs(m, ids);
  ASSERT_EQ(p.n_predicted, 39);
  EXPECT_EQ(p.n_windows, 1);
  double nll = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_NEAR(p.token_logprobs[i], ref[i], 1e-4) << i;
    nll -= ref[i];
  }
  EXPECT_NEAR(p.perplexity(), std::exp(nll / 39), 1e-4 * std::exp(nll / 39));
}

TEST(Score, WindowedPerplexityPredictsEachTokenOnceFromItsFirstWindow) {
  Model m = tiny_model(tiny_config());
  auto ids = random_ids(50, m.config.n_vocab, 12);
  PerplexityOptions o;
  o.window = 16;
  o.stride = 6;
  o.chunk = 5;
  PerplexityResult p = perplexity(m, ids, o);
  ASSERT_EQ(p.n_predicted, 49);
  // Reference: window starting at b covers [b, b + 16); token t is scored in the first window
  // that contains it (and is not its first token).
  std::vector<double> expect(49, NAN);
  int windows = 0;
  for (int64_t b = 0;; b += 6) {
    const int64_t e = std::min<int64_t>(b + 16, 50);
    auto lp = manual_logprobs(m, std::vector<int64_t>(ids.begin() + b, ids.begin() + e));
    for (int64_t t = b + 1; t < e; ++t)
      if (std::isnan(expect[t - 1])) expect[t - 1] = lp[t - b - 1];
    ++windows;
    if (e == 50) break;
  }
  EXPECT_EQ(p.n_windows, windows);
  for (int i = 0; i < 49; ++i) EXPECT_NEAR(p.token_logprobs[i], expect[i], 1e-4) << i;
}

TEST(Score, BadInputsAreClearErrors) {
  Model m = tiny_model(tiny_config());
  EXPECT_THROW(score_continuation(m, {}, {1}), Error);
  EXPECT_THROW(score_continuation(m, {1}, {}), Error);
  EXPECT_THROW(score_continuation(m, {1}, {61}), Error);  // outside the vocabulary
  EXPECT_THROW(perplexity(m, {3}), Error);
  PerplexityOptions o;
  o.window = 8;
  o.stride = 8;
  EXPECT_THROW(perplexity(m, {1, 2, 3}, o), Error);
  o.window = 1000;  // beyond the 256-token context
  o.stride = 0;
  EXPECT_THROW(perplexity(m, {1, 2, 3}, o), Error);
  EXPECT_THROW(score_continuation(m, std::vector<int64_t>(250, 1), std::vector<int64_t>(10, 1)), Error);
}

// The bound: our log-probs agree with transformers' within 1e-3 per token (test_reference), so
// our mean NLL over the paragraph is within 1e-3 of theirs and the perplexity within a factor
// exp(1e-3) of the reference value stored in reference.json.
TEST(ScoreDefaultModel, PerplexityOfTheFixedParagraphIsWithinTheReferenceBound) {
  auto& dm = default_model();
  auto meta = nlohmann::json::parse(read_text(reference_dir() + "/reference.json"));
  const double ref = meta["paragraph"]["perplexity_transformers"].get<double>();
  auto ids = to_i64(dm.tokenizer->encode(read_text(reference_dir() + "/perplexity_paragraph.txt"),
                                         false, true));
  ASSERT_EQ(static_cast<int64_t>(ids.size()), meta["paragraph"]["n_tokens"].get<int64_t>());
  PerplexityResult p = perplexity(dm.model, ids);
  const double bound = ref * std::exp(1e-3);
  std::printf("[score] paragraph perplexity %.4f over %lld tokens (transformers %.4f, llama.cpp "
              "%.4f; bound %.4f)\n",
              p.perplexity(), static_cast<long long>(p.n_predicted), ref,
              meta["paragraph"].value("perplexity_llamacpp", NAN), bound);
  EXPECT_LT(p.perplexity(), bound);
  EXPECT_GT(p.perplexity(), ref * std::exp(-1e-3));
  // Windowed scoring of the same text (window 32, stride 16) sees less context: higher
  // perplexity, but the same number of predicted tokens.
  PerplexityOptions o;
  o.window = 32;
  o.stride = 16;
  PerplexityResult pw = perplexity(dm.model, ids, o);
  EXPECT_EQ(pw.n_predicted, p.n_predicted);
  EXPECT_GT(pw.perplexity(), p.perplexity());
}

TEST(ScoreDefaultModel, ParisIsLikelierThanLondon) {
  auto& dm = default_model();
  auto prefix = to_i64(dm.tokenizer->encode("The capital of France is"));
  auto paris = score_continuation(dm.model, prefix, to_i64(dm.tokenizer->encode(" Paris", false)));
  auto london = score_continuation(dm.model, prefix, to_i64(dm.tokenizer->encode(" London", false)));
  EXPECT_GT(paris.sum_logprob, london.sum_logprob + 2.0);
}

}  // namespace
}  // namespace rs::test
