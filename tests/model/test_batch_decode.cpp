// The multi-sequence decode step (model/batch_decode.h, issue 20: continuous batching): a
// sequence decoded in a batch with others, each with its own cache, positions and steering,
// gets the logits it gets alone, and greedy decoding gives rs::generate's tokens.
#include <gtest/gtest.h>

#include <fstream>

#include "hooks/hooks.h"
#include "model/batch_decode.h"
#include "model/generate.h"
#include "golden_logprobs.h"
#include "test_reference_common.h"
#include "tiny_model.h"

namespace rs::test {
namespace {

// Prefill `prompt` into a fresh cache (as a server admits a request); returns the next logits.
at::Tensor prefill(const Model& m, const std::vector<int64_t>& prompt, KVCache& cache, Hooks* hooks) {
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  fo.cache = &cache;
  fo.hooks = hooks;
  const at::Tensor t = at::tensor(prompt, at::kLong).view({1, -1}).to(m.device());
  return forward(m, t, at::Tensor(), fo).select(1, 0);
}

at::Tensor alone_step(const Model& m, int64_t token, KVCache& cache, Hooks* hooks) {
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  fo.cache = &cache;
  fo.hooks = hooks;
  return forward(m, at::full({1, 1}, token, at::kLong), at::Tensor(), fo).select(1, 0);
}

struct Case {
  std::vector<int64_t> prompt;
  std::unique_ptr<Hooks> hooks;  // null: no steering
};

// Runs `steps` greedy steps of every case alone (rs::forward with its own cache) and all of
// them batched (rs::decode_step), feeding each the alone run's greedy token; returns the
// largest |logit difference| seen and the greedy tokens of each case.
double run_both(const Model& m, std::vector<Case>& cases, int steps, std::vector<std::vector<int64_t>>& tokens) {
  const size_t n = cases.size();
  std::vector<KVCache> alone(n), batched(n);
  std::vector<at::Tensor> la(n), lb(n);
  for (size_t i = 0; i < n; ++i) {
    la[i] = prefill(m, cases[i].prompt, alone[i], cases[i].hooks.get());
    lb[i] = prefill(m, cases[i].prompt, batched[i], cases[i].hooks.get());
  }
  tokens.assign(n, {});
  double worst = 0;
  for (int s = 0; s < steps; ++s) {
    std::vector<SeqStep> rows;
    for (size_t i = 0; i < n; ++i) {
      worst = std::max(worst, (la[i] - lb[i]).abs().max().item<double>());
      const int64_t next = la[i].argmax(-1).item<int64_t>();
      EXPECT_EQ(next, lb[i].argmax(-1).item<int64_t>()) << "case " << i << " step " << s;
      tokens[i].push_back(next);
      la[i] = alone_step(m, next, alone[i], cases[i].hooks.get());
      rows.push_back({next, &batched[i], cases[i].hooks.get()});
    }
    const at::Tensor l = decode_step(m, rows);
    EXPECT_EQ(l.size(0), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) lb[i] = l.narrow(0, static_cast<int64_t>(i), 1);
  }
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(batched[i].length, alone[i].length);
    EXPECT_TRUE(batched[i].mask.equal(alone[i].mask));
    EXPECT_TRUE(batched[i].n_real.equal(alone[i].n_real));
  }
  return worst;
}

std::unique_ptr<Hooks> steering(const Model& m, uint64_t seed, double alpha) {
  auto h = std::make_unique<Hooks>(m.config);
  at::manual_seed(seed);
  for (int l = 0; l < m.config.n_layer; ++l)
    h->add("blocks." + std::to_string(l) + ".hook_resid_post", at::randn({m.config.d_model}), alpha);
  return h;
}

// The default model on native weights, three prompts of different lengths, two of them steered
// differently: each row's logits equal its logits alone, bit for bit, and its greedy tokens are
// rs::generate's with the same steering.
TEST(BatchDecode, DefaultModelRowsEqualAloneWithPerRowSteering) {
  const char* env = std::getenv("REASONSCOPE_MODEL");
  const std::string path = env && *env ? env : default_model_path();
  ASSERT_TRUE(std::ifstream(path).good()) << "default model not found: " << path;
  at::NoGradGuard ng;
  set_threads(2);  // the step's parallel loops run on the pool's threads too
  const Model& m = load_model_once(path, WeightFormat::Native);
  auto tok = tok::Tokenizer::from_model_path(path);
  auto ids = [&](const std::string& s) {
    const std::vector<int32_t> v = tok->encode(s, true);
    return std::vector<int64_t>(v.begin(), v.end());
  };
  std::vector<Case> cases;
  cases.push_back({ids("The capital of France is"), steering(m, 1, 0.5)});
  cases.push_back({ids("If all cats are animals and Tom is a cat, then Tom is"), nullptr});
  cases.push_back({ids("Once upon a time"), steering(m, 2, -0.5)});
  std::vector<std::vector<int64_t>> tokens;
  const int steps = 10;
  const double worst = run_both(m, cases, steps, tokens);
  std::printf("batched vs alone: max |logit diff| = %g over %d steps x 3 rows\n", worst, steps);
  EXPECT_EQ(worst, 0.0);
  for (size_t i = 0; i < cases.size(); ++i) {
    GenerateOptions go;
    go.max_new_tokens = steps;
    go.stop_at_eos = false;
    go.hooks = cases[i].hooks.get();
    const Generation g = generate(m, tok.get(), {cases[i].prompt}, go).at(0);
    EXPECT_EQ(g.tokens, tokens[i]) << "case " << i;
  }
  // the steering changed what the steered rows say (so the test can tell the rows apart)
  std::vector<Case> plain;
  plain.push_back({cases[0].prompt, nullptr});
  std::vector<std::vector<int64_t>> plain_tokens;
  run_both(m, plain, steps, plain_tokens);
  EXPECT_NE(plain_tokens[0], tokens[0]);
}

// Weights other than native take rs::forward per row: the same contract on a tiny exact model.
TEST(BatchDecode, ExactWeightsRowsEqualAlone) {
  at::NoGradGuard ng;
  const Model m = tiny_model(tiny_config("qwen2"), 3);
  std::vector<Case> cases;
  cases.push_back({{1, 2, 3, 4, 5}, steering(m, 4, 1.0)});
  cases.push_back({{7, 8}, nullptr});
  std::vector<std::vector<int64_t>> tokens;
  EXPECT_EQ(run_both(m, cases, 6, tokens), 0.0);
}

TEST(BatchDecode, RefusesBadRows) {
  at::NoGradGuard ng;
  const Model m = tiny_model(tiny_config(), 5);
  KVCache empty, a;
  prefill(m, {1, 2, 3}, a, nullptr);
  EXPECT_THROW(decode_step(m, {}), Error);
  EXPECT_THROW(decode_step(m, {{1, &empty, nullptr}}), Error);
  EXPECT_THROW(decode_step(m, {{1, nullptr, nullptr}}), Error);
  EXPECT_THROW(decode_step(m, {{1, &a, nullptr}, {2, &a, nullptr}}), Error);
  EXPECT_THROW(decode_step(m, {{m.config.n_vocab, &a, nullptr}}), Error);
  KVCache two;
  ForwardOptions fo;
  fo.cache = &two;
  forward(m, at::tensor({1, 2, 3, 4}, at::kLong).view({2, 2}), at::Tensor(), fo);
  EXPECT_THROW(decode_step(m, {{1, &two, nullptr}}), Error);
}

}  // namespace
}  // namespace rs::test
