// The QK-score scan on a tiny hand-built model (acceptance point 1 of issue 9).
//
// Construction (tiny config: 2 layers, d_model 32, 4 query heads over 2 kv heads, d_head 8):
// layer 0 writes nothing (W_O and W_down zeroed), so layer 1 sees the token embeddings. Six cue
// tokens embed along basis vectors e0..e5, six content tokens along e6..e11. In layer 1, query
// head 3 (kv head 3 / (4/2) = 1) maps e_i -> u_i and kv head 1's key maps e_{6+i} -> u_i, so at
// the last token (a cue) q . k is 32 for the option whose content matches the cue and 0 for the
// other: the correct option wins by construction, before RoPE, whatever its position. Every
// other weight stays random.
#include <gtest/gtest.h>

#include <cmath>

#include "methods/qk/qk_eval.h"
#include "methods/qk/qk_judge.h"
#include "methods/qk/qk_runner.h"
#include "methods/qk/qk_score.h"
#include "model/layers.h"
#include "model/score.h"
#include "model/tiny_model.h"
#include "stats/rng.h"

using namespace rs;
using namespace rs::qk;

namespace {

constexpr int64_t kLayer = 1, kHead = 3;
constexpr int64_t kTypes = 6;  // cue / content kinds
constexpr int64_t kCue0 = 1, kContent0 = 7, kNewline = 13, kFiller0 = 20;

Model hand_built_model() {
  ModelConfig c = test::tiny_config("llama");
  Model m = make_random_model(c, 7, {}, 0.2);
  at::NoGradGuard ng;
  m.layers[0].o.zero_();
  m.layers[0].down.zero_();
  for (int64_t i = 0; i < kTypes; ++i) {
    m.embed[kCue0 + i].zero_();
    m.embed[kCue0 + i][i] = 3.0;
    m.embed[kContent0 + i].zero_();
    m.embed[kContent0 + i][kTypes + i] = 3.0;
  }
  const int64_t dh = c.d_head, kv = kv_head_of(kHead, c.n_head, c.n_head_kv);
  at::Tensor wq = m.layers[kLayer].q.narrow(0, kHead * dh, dh);   // [dh, D] rows of query head 3
  at::Tensor wk = m.layers[kLayer].k.narrow(0, kv * dh, dh);      // rows of kv head 1
  wq.zero_();
  wk.zero_();
  for (int64_t i = 0; i < kTypes; ++i) {
    wq[i][i] = 1.0;           // q = u_i for cue i
    wk[i][kTypes + i] = 1.0;  // k = u_i for content i
  }
  return m;
}

// N examples: a cue i, options {content i, content j} in a random list order (answer = where
// content i sits), random filler before them. Prompts 0..N-1 show the list as is, N..2N-1
// reversed; the last token is the cue.
struct Data {
  std::vector<Example> examples;
  std::vector<Prompt> prompts;
};
Data make_data(int64_t N, uint64_t seed) {
  stats::SplitMix64 rng(seed);
  Data d;
  std::vector<std::vector<int64_t>> filler(static_cast<size_t>(N));
  std::vector<std::array<int64_t, 2>> content(static_cast<size_t>(N));
  std::vector<int64_t> cue(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    const int64_t i = static_cast<int64_t>(rng.below(kTypes));
    const int64_t j = (i + 1 + static_cast<int64_t>(rng.below(kTypes - 1))) % kTypes;
    const bool first = rng.below(2) == 0;
    content[static_cast<size_t>(n)] = first ? std::array<int64_t, 2>{i, j} : std::array<int64_t, 2>{j, i};
    cue[static_cast<size_t>(n)] = i;
    const uint64_t len = 3 + rng.below(10);
    for (uint64_t t = 0; t < len; ++t) filler[static_cast<size_t>(n)].push_back(kFiller0 + static_cast<int64_t>(rng.below(40)));
    Example e;
    e.line = static_cast<uint64_t>(n + 1);
    e.id = "ex" + std::to_string(n);
    e.hops = 1 + n % 2;
    e.options = {"c" + std::to_string(content[static_cast<size_t>(n)][0]), "c" + std::to_string(content[static_cast<size_t>(n)][1])};
    e.answer = first ? 0 : 1;
    d.examples.push_back(e);
  }
  for (int order = 0; order < 2; ++order)
    for (int64_t n = 0; n < N; ++n) {
      Prompt p;
      p.shown = display_order(2, order == 1);
      p.ids = filler[static_cast<size_t>(n)];
      for (int64_t slot = 0; slot < 2; ++slot) {
        const int64_t c = content[static_cast<size_t>(n)][static_cast<size_t>(p.shown[static_cast<size_t>(slot)])];
        p.ids.push_back(kContent0 + c);
        p.key_pos.push_back(static_cast<int64_t>(p.ids.size()) - 1);
        p.ids.push_back(kNewline);
        p.answer_ids.push_back({kContent0 + c});
      }
      p.ids.push_back(kCue0 + cue[static_cast<size_t>(n)]);
      d.prompts.push_back(p);
    }
  return d;
}

std::vector<int64_t> range(int64_t a, int64_t b) {
  std::vector<int64_t> v;
  for (int64_t i = a; i < b; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST(QkModel, ScanFindsTheConstructedHead) {
  const Model m = hand_built_model();
  const int64_t N = 48;
  const Data d = make_data(N, 3);
  ScanOptions o;
  o.batch_size = 7;
  const ScanResult r = scan(m, d.prompts, o);
  ASSERT_EQ(r.scores.sizes(), (at::IntArrayRef{2 * N, 2, 4, 2}));
  EXPECT_TRUE(at::equal(r.seq_lp, r.first_token_lp));  // single-token answers: the same number
  const JudgeScores js = judge_scores(r, r.seq_lp, d.prompts);
  std::vector<int64_t> ans;
  for (const Example& e : d.examples) ans.push_back(e.answer);
  const at::Tensor answer = at::tensor(ans, at::kLong);
  const std::vector<int64_t> calib = range(0, 24);
  const SavedHeads s = select_heads(js, answer, calib, 2, m.config.n_head_kv);
  EXPECT_EQ(s.top1.layer, kLayer);
  EXPECT_EQ(s.top1.head, kHead);
  // exactly that head is right everywhere: accuracy 1 on calibration and test rows, every
  // other head (including head 2, which reads the same kv head) below 1
  const at::Tensor correct = correct_both_orders(js.heads[0], js.heads[1], answer);
  const at::Tensor acc_cal = mean_over_rows(correct, calib), acc_test = mean_over_rows(correct, range(24, N));
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t h = 0; h < 4; ++h) {
      if (l == kLayer && h == kHead) {
        EXPECT_EQ(acc_cal[l][h].item<double>(), 1.0);
        EXPECT_EQ(acc_test[l][h].item<double>(), 1.0);
      } else {
        EXPECT_LT(acc_cal[l][h].item<double>(), 1.0) << "layer " << l << " head " << h;
      }
    }
  // the score itself is the constructed one: 32 for the answer, 0 for the other option
  const auto top = head_of(js, s.top1);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t a = ans[static_cast<size_t>(n)];
    EXPECT_NEAR(top[0][n][a].item<double>(), 32.0, 1e-2);
    EXPECT_NEAR(top[1][n][1 - a].item<double>(), 0.0, 1e-4);
  }
  EvalOptions eo;
  eo.n_resamples = 200;
  const Evaluation ev = evaluate(js, d.examples, s, calib, eo);
  EXPECT_EQ(ev.summary["top1_test_accuracy"].get<double>(), 1.0);
  EXPECT_EQ(ev.summary["order_consistency"].get<double>(), 1.0);
  EXPECT_EQ(ev.summary["n_test"].get<int64_t>(), N - 24);
  EXPECT_EQ(ev.summary["by_hops"].size(), 2u);
  EXPECT_EQ(ev.examples.size(), static_cast<size_t>(N));
  EXPECT_EQ(ev.examples[30]["top1"]["correct"], true);
  // a saved judge applied to the same prompts gives the same predictions (apply mode)
  const SavedHeads back = saved_heads_from_json(to_json(s), "heads.json");
  const Evaluation ap = evaluate(js, d.examples, back, {}, eo);
  for (int64_t n = 0; n < N; ++n) {
    EXPECT_EQ(ap.examples[static_cast<size_t>(n)]["top1"]["choice"], ev.examples[static_cast<size_t>(n)]["top1"]["choice"]);
    EXPECT_EQ(ap.examples[static_cast<size_t>(n)]["ensemble"]["scores"], ev.examples[static_cast<size_t>(n)]["ensemble"]["scores"]);
  }
}

TEST(QkModel, BatchingAndHooksChangeNothing) {
  const Model m = hand_built_model();
  const Data d = make_data(10, 5);
  ScanOptions one, many;
  one.batch_size = 1;
  many.batch_size = 6;
  const ScanResult a = scan(m, d.prompts, one), b = scan(m, d.prompts, many);
  EXPECT_TRUE(at::allclose(a.scores, b.scores, 1e-4, 1e-4)) << (a.scores - b.scores).abs().max();
  EXPECT_TRUE(at::allclose(a.first_token_lp, b.first_token_lp, 1e-5, 1e-5));
  // the capture hooks leave the forward alone: same log-probs as a plain forward
  at::NoGradGuard ng;
  const Prompt& p = d.prompts[3];
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  const at::Tensor lp = at::log_softmax(forward(m, at::tensor(p.ids, at::kLong).view({1, -1}), {}, fo), -1);
  EXPECT_NEAR(lp[0][0][p.answer_ids[1][0]].item<double>(), a.first_token_lp[3][1].item<double>(), 1e-6);
}

// Multi-token answers (mcq options are sentences): the whole answer's log-prob from the scan's
// cached continuation equals scoring prompt + answer from scratch, whatever the batch (rows
// with answers of 1 to 4 tokens side by side, so the continuation is padded between the
// cached prompt and the answer). The from-scratch scoring was the old second stage that sat
// for tens of minutes on a 0.5B model; this pins that the cheap path computes the same thing.
TEST(QkModel, SequenceLogprobsOfLongAnswersFromTheCache) {
  const Model m = test::tiny_model(test::tiny_config("qwen2"), 4);
  stats::SplitMix64 rng(21);
  std::vector<Prompt> prompts;
  for (int n = 0; n < 9; ++n) {
    Prompt p;
    p.shown = {0, 1, 2};
    for (uint64_t t = 0, len = 4 + rng.below(9); t < len; ++t) p.ids.push_back(1 + static_cast<int64_t>(rng.below(60)));
    for (int64_t slot = 0; slot < 3; ++slot) {
      p.key_pos.push_back(slot);
      std::vector<int64_t> a;
      for (uint64_t t = 0, len = 1 + rng.below(4); t < len; ++t) a.push_back(1 + static_cast<int64_t>(rng.below(60)));
      p.answer_ids.push_back(a);
    }
    prompts.push_back(p);
  }
  ScanOptions one, many;
  one.batch_size = 1;
  many.batch_size = 4;
  many.pad_id = 5;
  const ScanResult a = scan(m, prompts, one), b = scan(m, prompts, many);
  int64_t longer = 0;
  for (size_t i = 0; i < prompts.size(); ++i)
    for (size_t j = 0; j < 3; ++j) {
      const auto& ans = prompts[i].answer_ids[j];
      const double ref = score_continuation(m, prompts[i].ids, ans).sum_logprob;
      const auto I = static_cast<int64_t>(i), J = static_cast<int64_t>(j);
      EXPECT_NEAR(a.seq_lp[I][J].item<double>(), ref, 1e-4) << "prompt " << i << " slot " << j;
      EXPECT_NEAR(b.seq_lp[I][J].item<double>(), ref, 1e-4) << "prompt " << i << " slot " << j;
      if (ans.size() == 1) {
        EXPECT_EQ(b.seq_lp[I][J].item<double>(), b.first_token_lp[I][J].item<double>());
      } else {
        EXPECT_LT(b.seq_lp[I][J].item<double>(), b.first_token_lp[I][J].item<double>());
        ++longer;
      }
    }
  EXPECT_GT(longer, 10);
}

// Pre- vs post-RoPE: rotating the pre-RoPE captures by RoPE at their own positions gives the
// post-RoPE captures, and the post-RoPE scores are exactly the scores of the rotated vectors.
// The pre-RoPE vectors, rotated to their positions, are the post-RoPE ones. For Gemma 3 this
// holds only if the pre-RoPE q and k are read after the per-head q/k norms, as the model's
// attention uses them (forward.cpp: norm, then RoPE).
static void expect_post_rope_is_pre_rope_rotated(const Model& m, const Data& d, at::Tensor* s_pre_out,
                                                 at::Tensor* s_post_out) {
  const int64_t P = static_cast<int64_t>(d.prompts.size());
  ScanOptions pre, post;
  post.post_rope = true;
  const Captured cp = capture_qk(m, d.prompts, pre), cr = capture_qk(m, d.prompts, post);
  const int64_t L = m.config.n_layer, H = m.config.n_head, Hkv = m.config.n_head_kv, dh = m.config.d_head;
  std::vector<int64_t> qpos, kpos;
  for (const Prompt& p : d.prompts) {
    qpos.push_back(static_cast<int64_t>(p.ids.size()) - 1);
    kpos.insert(kpos.end(), p.key_pos.begin(), p.key_pos.end());
  }
  const auto tq = layers::rope_tables(at::tensor(qpos, at::kLong).view({P, 1}), m.inv_freq, at::kFloat);
  const auto tk = layers::rope_tables(at::tensor(kpos, at::kLong).view({P, 2}), m.inv_freq, at::kFloat);
  const at::Tensor q_rot = layers::apply_rope(cp.q.reshape({P, 1, L * H, dh}), tq).view({P, L, H, dh});
  const at::Tensor k_rot = layers::apply_rope(cp.k.permute({0, 2, 1, 3, 4}).reshape({P, 2, L * Hkv, dh}), tk)
                               .view({P, 2, L, Hkv, dh}).permute({0, 2, 1, 3, 4});
  EXPECT_TRUE(at::allclose(q_rot, cr.q, 1e-5, 1e-5)) << (q_rot - cr.q).abs().max();
  EXPECT_TRUE(at::allclose(k_rot, cr.k, 1e-5, 1e-5)) << (k_rot - cr.k).abs().max();
  const at::Tensor s_post = scan(m, d.prompts, post).scores;
  const at::Tensor s_pre = scan(m, d.prompts, pre).scores;
  EXPECT_TRUE(at::allclose(qk_scores(q_rot, k_rot), s_post, 1e-4, 1e-4)) << (qk_scores(q_rot, k_rot) - s_post).abs().max();
  EXPECT_TRUE(at::allclose(qk_scores(cp.q, cp.k), s_pre, 1e-5, 1e-5));
  *s_pre_out = s_pre;
  *s_post_out = s_post;
}

TEST(QkModel, PostRopeIsThePreRopeScoreRotated) {
  const Model m = hand_built_model();
  at::Tensor s_pre, s_post;
  expect_post_rope_is_pre_rope_rotated(m, make_data(8, 9), &s_pre, &s_post);
  // ... and the rotation matters: the two scores differ
  EXPECT_GT((s_post - s_pre).abs().max().item<double>(), 1e-2);
}

// Gemma 3 normalises each q and k head (RMSNorm with its own weights) before RoPE; the
// pre-RoPE score must see those normed vectors, not the raw projections.
TEST(QkModel, Gemma3PreRopeIsAfterTheQkNorms) {
  ModelConfig c = test::tiny_config("gemma3");
  c.qk_norm = c.post_attn_norm = c.post_mlp_norm = true;
  c.activation = Activation::GeluTanh;
  c.embedding_scale = std::sqrt(static_cast<double>(c.d_model));
  const Model m = test::tiny_model(c, 5);
  ASSERT_TRUE(m.layers[1].q_norm.defined());
  at::Tensor s_pre, s_post;
  expect_post_rope_is_pre_rope_rotated(m, make_data(8, 9), &s_pre, &s_post);
}

TEST(QkModel, BadPrompts) {
  const Model m = hand_built_model();
  Data d = make_data(2, 1);
  d.prompts[1].key_pos.push_back(0);
  EXPECT_THROW(scan(m, d.prompts, {}), rs::Error);  // option counts differ
  d = make_data(2, 1);
  d.prompts[0].key_pos[1] = static_cast<int64_t>(d.prompts[0].ids.size()) - 1;  // the last token itself
  EXPECT_THROW(scan(m, d.prompts, {}), rs::Error);
}
