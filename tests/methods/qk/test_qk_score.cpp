// QK-score maths with known answers, no model: the scores against a naive loop with the
// grouped-query mapping written out, content order, "right under both orders", the z-scored
// ensemble, head ranking, the stratified calibration split, rows and templates (bad input).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "methods/qk/qk_data.h"
#include "methods/qk/qk_eval.h"
#include "methods/qk/qk_judge.h"
#include "methods/qk/qk_score.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace rs::qk;

TEST(QkScore, GroupedQueryMapping) {
  // 9 query heads over 3 kv heads (SmolLM2): heads 0-2 -> 0, 3-5 -> 1, 6-8 -> 2
  for (int64_t h = 0; h < 9; ++h) EXPECT_EQ(kv_head_of(h, 9, 3), h / 3);
  EXPECT_EQ(kv_head_of(3, 4, 2), 1);
  EXPECT_EQ(kv_head_of(5, 8, 8), 5);  // plain multi-head: one kv head each
  EXPECT_EQ(kv_head_of(7, 8, 1), 0);  // multi-query
  EXPECT_THROW(kv_head_of(0, 9, 2), rs::Error);
  EXPECT_THROW(kv_head_of(9, 9, 3), rs::Error);
}

TEST(QkScore, MatchesNaiveLoopWithGqa) {
  at::manual_seed(0);
  const int64_t N = 3, L = 2, H = 6, Hkv = 2, O = 3, dh = 5;
  const at::Tensor q = at::randn({N, L, H, dh}), k = at::randn({N, L, O, Hkv, dh});
  const at::Tensor s = qk_scores(q, k);
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{N, L, H, O}));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t o = 0; o < O; ++o) {
          const double want = (q[n][l][h] * k[n][l][o][kv_head_of(h, H, Hkv)]).sum().item<double>();
          EXPECT_NEAR(s[n][l][h][o].item<double>(), want, 1e-5);
        }
  // Keys of kv head 0 zeroed: exactly the query heads of group 0 (0, 1, 2) score 0.
  at::Tensor k0 = k.clone();
  k0.select(3, 0).zero_();
  const at::Tensor s0 = qk_scores(q, k0);
  for (int64_t h = 0; h < H; ++h) {
    const double mx = s0.select(2, h).abs().max().item<double>();
    if (h < 3) EXPECT_EQ(mx, 0.0) << h;
    else EXPECT_GT(mx, 0.0) << h;
  }
  EXPECT_THROW(qk_scores(q, at::randn({N, L, O, 4, dh})), rs::Error);  // 6 heads over 4 kv heads
}

TEST(QkScore, ContentOrder) {
  // two rows: shown as given, and reversed
  const at::Tensor scores = at::tensor({1.0, 2.0, 3.0, 10.0, 20.0, 30.0}).view({2, 3});
  const at::Tensor shown = at::tensor(std::vector<int64_t>{0, 1, 2, 2, 1, 0}).view({2, 3});
  const at::Tensor c = to_content_order(scores, shown);
  EXPECT_TRUE(at::equal(c, at::tensor({1.0, 2.0, 3.0, 30.0, 20.0, 10.0}).view({2, 3})));
  EXPECT_EQ(display_order(3, true), (std::vector<int64_t>{2, 1, 0}));
  EXPECT_EQ(display_order(2, false), (std::vector<int64_t>{0, 1}));
  // extra axes in the middle: [N, 2, O]
  const at::Tensor s3 = at::arange(12, at::kDouble).view({2, 2, 3});
  const at::Tensor c3 = to_content_order(s3, shown);
  EXPECT_EQ(c3[1][1][0].item<double>(), 11.0);
}

TEST(QkScore, RightUnderBothOrdersTiesAreWrong) {
  const at::Tensor answer = at::tensor(std::vector<int64_t>{0, 1, 0});
  // content-order scores: row 0 right both times; row 1 right once; row 2 a tie
  const at::Tensor c0 = at::tensor({5.0, 1.0, 0.0, 2.0, 3.0, 3.0}).view({3, 2});
  const at::Tensor c1 = at::tensor({4.0, 2.0, 1.0, 0.0, 3.0, 3.0}).view({3, 2});
  const at::Tensor ok = correct_both_orders(c0, c1, answer);
  EXPECT_TRUE(at::equal(ok, at::tensor({1, 0, 0}).to(at::kBool)));
  EXPECT_TRUE(at::equal(same_choice_both_orders(c0, c1), at::tensor({1, 0, 1}).to(at::kBool)));
  EXPECT_TRUE(at::allclose(answer_margin(c0, answer), at::tensor({4.0, 2.0, 0.0})));
  // A purely positional head (always prefers display slot 0) is never right under both orders.
  const at::Tensor pos = at::tensor({1.0, 0.0, 1.0, 0.0, 1.0, 0.0}).view({3, 2});  // display order
  const at::Tensor id = at::tensor(std::vector<int64_t>{0, 1, 0, 1, 0, 1}).view({3, 2});
  const at::Tensor rev = at::tensor(std::vector<int64_t>{1, 0, 1, 0, 1, 0}).view({3, 2});
  const at::Tensor okp = correct_both_orders(to_content_order(pos, id), to_content_order(pos, rev), answer);
  EXPECT_EQ(okp.sum().item<int64_t>(), 0);
  EXPECT_NEAR(mean_over_rows(ok, {0, 1}).item<double>(), 0.5, 1e-12);
}

TEST(QkScore, RankHeads) {
  const at::Tensor acc = at::tensor({0.5, 0.9, 0.9, 0.1}).view({2, 2});
  const at::Tensor margin = at::tensor({0.0, 1.0, 2.0, 0.0}).view({2, 2});
  const auto r = rank_heads(acc, margin);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].layer, 1); EXPECT_EQ(r[0].head, 0);  // 0.9, margin 2
  EXPECT_EQ(r[1].layer, 0); EXPECT_EQ(r[1].head, 1);  // 0.9, margin 1
  EXPECT_EQ(r[3].layer, 1); EXPECT_EQ(r[3].head, 1);
}

TEST(QkScore, ZScoredEnsemble) {
  at::manual_seed(1);
  const int64_t N = 40, L = 2, H = 3, O = 2;
  const at::Tensor c0 = at::randn({N, L, H, O}) * 3 + 1, c1 = at::randn({N, L, H, O}) * 3 + 1;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 20; ++i) rows.push_back(i);
  const ZScore z = fit_zscore(c0, c1, rows);
  // on the calibration rows the z-scores of every head have mean 0 and variance 1
  const at::Tensor idx = at::tensor(rows, at::kLong);
  const at::Tensor zz = at::cat({zscore(c0, z).index_select(0, idx), zscore(c1, z).index_select(0, idx)}, 0);
  EXPECT_LT(zz.mean(0).abs().max().item<double>(), 1e-9);
  EXPECT_NEAR(zz.pow(2).mean(at::IntArrayRef{0, 3}).min().item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(zz.pow(2).mean(at::IntArrayRef{0, 3}).max().item<double>(), 1.0, 1e-6);
  // two options: d = +-(s0 - s1)/2, so the z of option 0 is the centred, scaled difference
  const double sd = ((c0.select(-1, 0) - c0.select(-1, 1)) / 2)[3][1][2].item<double>();
  EXPECT_NEAR(zscore(c0, z)[3][1][2][0].item<double>(),
              (sd - z.mu[1][2][0].item<double>()) / z.sigma[1][2].item<double>(), 1e-9);
  // the saved-judge path gives the same ensemble as the pure function
  JudgeScores js;
  js.heads = {c0, c1};
  const at::Tensor answer = (c0.select(1, 0).select(1, 0).select(-1, 1) > 0).to(at::kLong);
  const SavedHeads s = select_heads(js, answer, rows, 3, 1);
  std::vector<std::pair<int64_t, int64_t>> heads;
  for (const HeadRef& h : s.ensemble) heads.push_back({h.layer, h.head});
  const auto e = ensemble_of(js, s);
  EXPECT_TRUE(at::allclose(e[0], ensemble_scores(zscore(c0, z), heads), 1e-9, 1e-9));
  EXPECT_TRUE(at::allclose(e[1], ensemble_scores(zscore(c1, z), heads), 1e-9, 1e-9));
  // heads.json round trip
  SavedHeads t = saved_heads_from_json(to_json(s), "h.json");
  EXPECT_EQ(t.ensemble.size(), 3u);
  EXPECT_EQ(t.top1.layer, s.top1.layer);
  EXPECT_DOUBLE_EQ(t.sigma[2], s.sigma[2]);
  EXPECT_DOUBLE_EQ(t.mu[1][1], s.mu[1][1]);
  nlohmann::json bad = to_json(s);
  bad["top1"]["head"] = 7;
  try {
    saved_heads_from_json(bad, "h.json");
    FAIL();
  } catch (const rs::Error& err) {
    EXPECT_NE(std::string(err.what()).find("h.json: top1: head (layer"), std::string::npos) << err.what();
  }
}

TEST(QkEval, FirstTokenTiesAreCountedOnTheTestRows) {
  // Options that begin with the same token get one first-token score: that baseline cannot judge
  // the row, and the summary says on how many test rows that happened (mcq options such as
  // "Sam is ..." / "Sam is not ...").
  at::manual_seed(2);
  const int64_t N = 8, L = 1, H = 2, O = 2;
  JudgeScores js;
  js.heads = {at::randn({N, L, H, O}), at::randn({N, L, H, O})};
  js.seq = {at::randn({N, O}, at::kDouble), at::randn({N, O}, at::kDouble)};
  js.first = {at::randn({N, O}, at::kDouble), at::randn({N, O}, at::kDouble)};
  for (int64_t r : {1, 5, 6})  // one calibration row and two test rows tie
    for (auto& f : js.first) f[r][1] = f[r][0].item<double>();
  std::vector<Example> examples;
  std::vector<int64_t> answers;
  for (int64_t i = 0; i < N; ++i) {
    Example e;
    e.line = static_cast<uint64_t>(i + 1);
    e.id = "q" + std::to_string(i);
    e.options = {"Sam is red.", "Sam is not red."};
    e.answer = i % 2;
    answers.push_back(e.answer);
    examples.push_back(e);
  }
  const std::vector<int64_t> calib = {0, 1, 2, 3};
  const SavedHeads s = select_heads(js, at::tensor(answers, at::kLong), calib, 1, 1);
  EvalOptions o;
  o.n_resamples = 50;
  const Evaluation ev = evaluate(js, examples, s, calib, o);
  EXPECT_EQ(ev.summary.at("first_token_tied_rows").get<int64_t>(), 2);
  // a tie is wrong under both orders
  for (int64_t r : {5, 6}) EXPECT_FALSE(ev.examples[static_cast<size_t>(r)]["baseline_first_token"]["correct"].get<bool>());
}

// ------------------------------------------------------------------------------ data
namespace {
Example ex_with(int64_t hops, int64_t answer) {
  Example e;
  e.hops = hops;
  e.answer = answer;
  e.options = {"True", "False"};
  return e;
}
std::string error_of(const nlohmann::json& row, Format f, bool require_label = true) {
  try {
    parse_example(row, f, "d.jsonl:7", require_label);
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(QkData, CalibrationIsStratifiedAndSeeded) {
  std::vector<Example> ex;
  for (int i = 0; i < 300; ++i) ex.push_back(ex_with(1 + 2 * (i % 3), (i / 3) % 2));
  const auto a = calibration_rows(ex, 60, 5), b = calibration_rows(ex, 60, 5), c = calibration_rows(ex, 60, 6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 60u);
  std::map<std::pair<int64_t, int64_t>, int> count;
  for (int64_t r : a) count[{ex[static_cast<size_t>(r)].hops, ex[static_cast<size_t>(r)].answer}]++;
  ASSERT_EQ(count.size(), 6u);
  for (const auto& [k, n] : count) EXPECT_EQ(n, 10);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 60u);
  EXPECT_EQ(calibration_rows(ex, 7, 1).size(), 7u);  // remainders distributed
  EXPECT_THROW(calibration_rows(ex, 300, 1), rs::Error);
  EXPECT_THROW(calibration_rows(ex, 0, 1), rs::Error);
}

TEST(QkData, RowsAndBadInput) {
  const nlohmann::json pq = {{"id", "a"}, {"hops", 3}, {"context", "C."}, {"query", "True or false: x."}, {"answer", "False"}};
  const Example e = parse_example(pq, Format::ProntoQA, "d.jsonl:1", true);
  EXPECT_EQ(e.answer, 1);
  EXPECT_EQ(e.hops, 3);
  EXPECT_EQ(e.options, (std::vector<std::string>{"True", "False"}));
  nlohmann::json maybe = pq;
  maybe["answer"] = "Maybe";
  EXPECT_NE(error_of(maybe, Format::ProntoQA).find("d.jsonl:7: field 'answer' is \"Maybe\", not among the options"), std::string::npos);
  nlohmann::json nolabel = pq;
  nolabel.erase("answer");
  EXPECT_NE(error_of(nolabel, Format::ProntoQA).find("no label"), std::string::npos);
  EXPECT_EQ(parse_example(nolabel, Format::ProntoQA, "x", false).answer, -1);

  const nlohmann::json mcq = {{"context", "c"}, {"question", "q?"}, {"options", {"x", "y", "z"}}, {"answer_index", 2}};
  EXPECT_EQ(parse_example(mcq, Format::Mcq, "m:1", true).answer, 2);
  nlohmann::json m = mcq;
  m.erase("options");
  EXPECT_NE(error_of(m, Format::Mcq).find("d.jsonl:7: field 'options' is missing"), std::string::npos);
  m = mcq;
  m["answer_index"] = 3;
  EXPECT_NE(error_of(m, Format::Mcq).find("field 'answer_index' is 3, out of range for 3 options (0..2)"), std::string::npos);
  m = mcq;
  m.erase("answer_index");
  m["answer"] = "w";
  EXPECT_NE(error_of(m, Format::Mcq).find("field 'answer' is \"w\", not among the options [\"x\", \"y\", \"z\"]"), std::string::npos);
  m["answer"] = "y";
  EXPECT_EQ(parse_example(m, Format::Mcq, "m:1", true).answer, 1);
  m = mcq;
  m["options"] = {"x", "x"};
  EXPECT_NE(error_of(m, Format::Mcq).find("appears twice"), std::string::npos);
  m["options"] = {"x"};
  EXPECT_NE(error_of(m, Format::Mcq).find("at least 2"), std::string::npos);
  m["options"] = {"x", 3};
  EXPECT_NE(error_of(m, Format::Mcq).find("item 1 must be a string"), std::string::npos);
}

TEST(QkData, Template) {
  EXPECT_NO_THROW(check_template(kDefaultTemplate));
  EXPECT_EQ(unescape_template("{context}\\n{question}\\n{options}A:"), "{context}\n{question}\n{options}A:");
  try {
    check_template("{context}\n{question}\nAnswer:");
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the slot {options} is missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_template("{context}{question}{options}{options}"), rs::Error);
}

// Byte-level vocab (every byte one token, no merges) and a SentencePiece one with a dummy
// prefix and BOS: option tokens are found at the option's last byte either way.
TEST(QkData, PromptPositions) {
  rs::tok::VocabSpec s;
  s.source = "bytes";
  s.model = "gpt2";
  s.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(rs::tok::byte_unicode().byte_to_utf8[b]);
    s.token_types.push_back(1);
  }
  auto tok = rs::tok::Tokenizer::from_spec(s);
  Example e;
  e.context = "Ctx.";
  e.question = "Q?";
  e.options = {"True", "False"};
  const Prompt p = build_prompt(*tok, kDefaultTemplate, e, {1, 0}, "x");
  EXPECT_EQ(p.text, "Ctx.\nQ?\nFalse\nTrue\nAnswer:");
  ASSERT_EQ(p.ids.size(), p.text.size());  // one token per byte
  EXPECT_EQ(p.key_pos, (std::vector<int64_t>{12, 17}));  // 'e' of False, 'e' of True
  EXPECT_EQ(p.text[12], 'e');
  EXPECT_EQ(p.answer_ids[0].size(), 6u);  // " False"
  EXPECT_EQ(p.answer_ids[0][0], static_cast<int64_t>(' '));

  rs::tok::VocabSpec sp;
  sp.source = "spm";
  sp.model = "llama";
  sp.tokens = {"<unk>", "<s>", "</s>"};
  sp.token_types = {2, 3, 3};
  sp.scores = {0, 0, 0};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    sp.tokens.push_back(buf);
    sp.token_types.push_back(6);
    sp.scores.push_back(0);
  }
  const std::string u = "\xE2\x96\x81";
  for (auto [t, score] : std::vector<std::pair<std::string, float>>{{u, -1}, {"ab", -2}, {u + "ab", -3}, {"c", -4}}) {
    sp.tokens.push_back(t);
    sp.token_types.push_back(1);
    sp.scores.push_back(score);
  }
  sp.bos_id = 1;
  sp.eos_id = 2;
  sp.unk_id = 0;
  sp.add_bos = true;
  auto spm = rs::tok::Tokenizer::from_spec(sp);
  Example f;
  f.context = "ab";
  f.question = "c";
  f.options = {"ab", "c"};
  const Prompt q = build_prompt(*spm, "{context}{question}\n{options}c", f, {0, 1}, "x");
  EXPECT_EQ(q.text, "abc\nab\nc\nc");
  EXPECT_EQ(q.ids[0], 1);  // BOS
  ASSERT_EQ(q.key_pos.size(), 2u);
  // tokens: <s> "_ab" "c" "\n" "ab" "\n" "c" "\n" "c"
  EXPECT_EQ(q.key_pos[0], 4);
  EXPECT_EQ(q.key_pos[1], 6);
}

// Found by fuzz_qk_heads (fuzz/corpus/qk_heads/edge_ranking_types.json): a ranking entry with
// a string layer escaped as a nlohmann::json exception instead of an error naming the file.
TEST(QkHeadsFile, MalformedRankingIsOneError) {
  rs::qk::SavedHeads s;
  s.model = "m";
  s.format = "prontoqa";
  s.template_text = rs::qk::kDefaultTemplate;
  s.n_layer = 2;
  s.n_head = 2;
  s.n_head_kv = 1;
  s.n_options = 2;
  s.ensemble = {{1, 1}};
  s.mu = {{0.0, 0.0}};
  s.sigma = {1.0};
  s.ranking = {{1, 1, 0.9, 0.5}};
  nlohmann::json j = rs::qk::to_json(s);
  EXPECT_EQ(rs::qk::saved_heads_from_json(j, "heads.json").ranking.size(), 1u);
  j["ranking"][0]["layer"] = "x";
  try {
    rs::qk::saved_heads_from_json(j, "heads.json");
    ADD_FAILURE() << "accepted";
  } catch (const rs::Error& e) {
    EXPECT_EQ(std::string(e.what()), "heads.json: ranking[0]: field 'layer' must be an integer, found \"x\"");
  }
  // fuzz/corpus/qk_heads/crash_kind_number.json: "kind": 3 threw from json::value()
  j = rs::qk::to_json(s);
  j["kind"] = 3;
  EXPECT_THROW(rs::qk::saved_heads_from_json(j, "heads.json"), rs::Error);
}
