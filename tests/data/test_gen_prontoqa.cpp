// prontoqa generator: every answer and every chain-of-thought step confirmed by the
// independent forward-chaining prover (data/prover.h), for every hop count, with and without
// distractors; fields as in the benchmark; deterministic per seed; impossible hops rejected.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "data/gen_prontoqa.h"
#include "data/prover.h"
#include "test_gen_util.h"

using namespace rs::data;

namespace {

struct Tally {
  int rows = 0, answers = 0, chains = 0, trues = 0;
};

Tally check_all(const std::vector<GenRow>& rows) {
  Tally t;
  for (const auto& r : rows) {
    auto chain = r["chain_of_thought"].get<std::vector<std::string>>();
    auto c = prover::check_prontoqa(r["context"], r["query"], chain, r["answer"]);
    ++t.rows;
    t.answers += c.answer_confirmed;
    t.chains += c.chain_valid();
    t.trues += r["answer"] == "True";
    if (!c.answer_confirmed || !c.chain_valid())
      ADD_FAILURE() << r.dump() << "\n" << c.problem << c.step_problem;
  }
  return t;
}

}  // namespace

TEST(GenProntoqa, ProverConfirmsEveryRowAtEveryDepth) {
  int total = 0;
  for (int hops = 1; hops <= kProntoqaMaxHops; ++hops) {
    for (bool distractors : {true, false}) {
      ProntoqaOptions o;
      o.hops = {hops};
      o.distractors = distractors;
      auto rows = make_prontoqa(200, 1000 + hops, o);
      ASSERT_EQ(gen_test::schema_problem(rows, "prontoqa"), "") << "hops " << hops;
      Tally t = check_all(rows);
      EXPECT_EQ(t.answers, t.rows);
      EXPECT_EQ(t.chains, t.rows);
      // Both answers occur in roughly equal numbers (query polarity is a fair coin).
      EXPECT_GT(t.trues, 60);
      EXPECT_LT(t.trues, 140);
      for (const auto& r : rows) {
        EXPECT_EQ(r["hops"], hops);
        EXPECT_EQ(r["chain_of_thought"].size(), size_t(2 * hops + 1));  // fact + (rule, step)*
        auto sentences = prover::split_sentences(r["context"].get<std::string>());
        if (distractors)
          EXPECT_GT(sentences.size(), size_t(hops + 1));
        else
          EXPECT_EQ(sentences.size(), size_t(hops + 1));  // exactly the premises of the proof
      }
      total += t.rows;
    }
  }
  std::printf("prover confirmed %d generated prontoqa rows (hops 1-6, distractors on/off)\n", total);
}

TEST(GenProntoqa, SameFieldsAsBenchmark) {
  auto rows = make_prontoqa(6, 3, {});
  std::vector<std::string> keys;
  for (auto it = rows[0].begin(); it != rows[0].end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "hops", "context", "query", "chain_of_thought",
                                            "answer"}));
  EXPECT_EQ(rows[0]["query"].get<std::string>().rfind("True or false: ", 0), 0u);
  // Default hops cycle through 1..6.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rows[i]["hops"], i + 1);
}

TEST(GenProntoqa, DistractorsMentionTheQueriedPropertyWithTheOtherPolarity) {
  ProntoqaOptions o;
  o.hops = {3};
  auto rows = make_prontoqa(50, 9, o);
  for (const auto& r : rows) {
    // The property is the last word of the query; it must occur at least twice in the
    // context (the proof's rule and the opposite-polarity distractor).
    std::string q = r["query"];
    q.pop_back();
    std::string prop = q.substr(q.rfind(' ') + 1);
    std::string ctx = r["context"];
    size_t count = 0;
    for (size_t at = ctx.find(" " + prop + "."); at != std::string::npos; at = ctx.find(" " + prop + ".", at + 1))
      ++count;
    EXPECT_GE(count, 2u) << r.dump();
  }
}

TEST(GenProntoqa, DeterministicPerSeed) {
  ProntoqaOptions o;
  auto a = gen_rows_to_jsonl(make_prontoqa(100, 42, o));
  auto b = gen_rows_to_jsonl(make_prontoqa(100, 42, o));
  auto c = gen_rows_to_jsonl(make_prontoqa(100, 43, o));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Rows are independent streams: the first rows of a longer file are the shorter file.
  auto prefix = gen_rows_to_jsonl(make_prontoqa(10, 42, o));
  EXPECT_EQ(a.substr(0, prefix.size()), prefix);
  std::set<std::string> ids;
  for (const auto& r : make_prontoqa(100, 42, o)) ids.insert(r["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 100u);
}

TEST(GenProntoqa, ImpossibleParametersThrow) {
  ProntoqaOptions o;
  o.hops = {7};
  try {
    make_prontoqa(5, 1, o);
    FAIL() << "7 hops accepted";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--hops 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 to 6"), std::string::npos) << e.what();
  }
  o.hops = {0};
  EXPECT_THROW(make_prontoqa(5, 1, o), rs::Error);
  EXPECT_THROW(make_prontoqa(0, 1, {}), rs::Error);
}
