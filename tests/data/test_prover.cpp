// The forward-chaining prover on hand-written cases with known answers, and on the
// independently generated PrOntoQA-OOD benchmark file (a copy in tests/data/fixtures/prontoqa).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "data/prover.h"

using namespace rs::data::prover;

TEST(ProverParse, SentenceShapes) {
  Parser p;
  for (const char* s : {"Every wumpus is a yumpus.", "Wumpuses are zumpuses.", "Sam is an impus."})
    p.learn(s);
  auto r = p.parse("Every wumpus is a yumpus.");
  ASSERT_TRUE(r && r->is_rule);
  EXPECT_EQ(r->rule.concept, "wumpus");
  EXPECT_EQ(r->rule.head.predicate, "yumpus");
  EXPECT_TRUE(r->rule.head.concept);
  EXPECT_TRUE(r->rule.positive);

  r = p.parse("Wumpuses are zumpuses.");
  ASSERT_TRUE(r && r->is_rule);
  EXPECT_EQ(r->rule.concept, "wumpus");
  EXPECT_EQ(r->rule.head.predicate, "zumpus");
  EXPECT_TRUE(r->rule.head.concept);

  r = p.parse("Wumpuses are not nervous.");
  ASSERT_TRUE(r && r->is_rule);
  EXPECT_EQ(r->rule.head.predicate, "nervous");
  EXPECT_FALSE(r->rule.head.concept);
  EXPECT_FALSE(r->rule.positive);

  r = p.parse("Each impus is not bright.");
  ASSERT_TRUE(r && r->is_rule);
  EXPECT_EQ(r->rule.concept, "impus");
  EXPECT_FALSE(r->rule.positive);

  r = p.parse("Sam is an impus.");
  ASSERT_TRUE(r && !r->is_rule);
  EXPECT_EQ(r->fact.subject, "Sam");
  EXPECT_TRUE(r->fact.atom.concept);
  EXPECT_EQ(r->fact.atom.predicate, "impus");

  r = p.parse("Sam is not a wumpus.");
  ASSERT_TRUE(r && !r->is_rule);
  EXPECT_FALSE(r->fact.positive);

  std::string err;
  EXPECT_FALSE(p.parse("The cat sat on the mat.", &err));
  EXPECT_NE(err.find("cannot parse"), std::string::npos);
}

TEST(ProverParse, SplitAndSingular) {
  auto s = split_sentences("Every a is b. Sam is an impus.");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "Every a is b.");
  EXPECT_EQ(s[1], "Sam is an impus.");
  EXPECT_EQ(singular("wumpuses"), "wumpus");
  EXPECT_EQ(singular("bunnies"), "bunny");
  EXPECT_EQ(singular("cats"), "cat");
}

TEST(ProverClosure, ModusPonensChains) {
  const std::string ctx =
      "Every wumpus is a yumpus. Yumpuses are zumpuses. Each zumpus is not bright. "
      "Every dumpus is bright. Sam is a wumpus.";
  auto ok = check_prontoqa(ctx, "True or false: Sam is not bright.",
                           {"Sam is a wumpus.", "Every wumpus is a yumpus.", "Sam is a yumpus.",
                            "Yumpuses are zumpuses.", "Sam is a zumpus.",
                            "Each zumpus is not bright.", "Sam is not bright."},
                           "True");
  EXPECT_TRUE(ok.problem.empty()) << ok.problem;
  EXPECT_TRUE(ok.query_derivable);
  EXPECT_FALSE(ok.negation_derivable);
  EXPECT_TRUE(ok.answer_confirmed);
  EXPECT_TRUE(ok.chain_valid()) << ok.step_problem;

  // Same context, the answer "False" is refuted.
  EXPECT_FALSE(check_prontoqa(ctx, "True or false: Sam is not bright.", {}, "False").answer_confirmed);
  // Nothing is known about an unrelated property: neither answer is confirmed.
  auto unknown = check_prontoqa(ctx, "True or false: Sam is loud.", {}, "False");
  EXPECT_FALSE(unknown.query_derivable);
  EXPECT_FALSE(unknown.negation_derivable);
  EXPECT_FALSE(unknown.answer_confirmed);
}

TEST(ProverChain, RejectsBrokenSteps) {
  const std::string ctx = "Every wumpus is a yumpus. Yumpuses are bright. Sam is a wumpus.";
  const std::string q = "True or false: Sam is bright.";
  // Conclusion before its rule.
  auto swapped = check_prontoqa(ctx, q, {"Sam is a wumpus.", "Sam is a yumpus.",
                                         "Every wumpus is a yumpus.", "Yumpuses are bright.",
                                         "Sam is bright."}, "True");
  EXPECT_EQ(swapped.bad_step, 1);
  // A rule that is not in the context.
  auto negated = check_prontoqa(ctx, q, {"Sam is a wumpus.", "Every wumpus is not a yumpus."}, "True");
  EXPECT_EQ(negated.bad_step, 1);
  // Dropped intermediate conclusion.
  auto dropped = check_prontoqa(ctx, q, {"Sam is a wumpus.", "Every wumpus is a yumpus.",
                                         "Yumpuses are bright.", "Sam is bright."}, "True");
  EXPECT_EQ(dropped.bad_step, 3);
  // Complete chain that stops early: every step fine, but it never reaches the query.
  auto early = check_prontoqa(ctx, q, {"Sam is a wumpus.", "Every wumpus is a yumpus.",
                                       "Sam is a yumpus."}, "True");
  EXPECT_EQ(early.bad_step, -1);
  EXPECT_FALSE(early.reaches_query);
  EXPECT_FALSE(early.chain_valid());
}

// The benchmark was made by the PrOntoQA-OOD generator (not ours): the prover must confirm
// every answer and every chain of thought it contains.
TEST(ProverBenchmark, ConfirmsPrOntoQAOodDevSet) {
  const std::string path = std::string(RS_SOURCE_DIR) + "/tests/data/fixtures/prontoqa/dev.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  int rows = 0, answers = 0, chains = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    auto c = check_prontoqa(j["context"], j["query"],
                            j["chain_of_thought"].get<std::vector<std::string>>(), j["answer"]);
    ++rows;
    answers += c.answer_confirmed;
    chains += c.chain_valid();
    if (!c.answer_confirmed || !c.chain_valid())
      ADD_FAILURE() << j["id"] << ": " << c.problem << c.step_problem
                    << " query_derivable=" << c.query_derivable
                    << " negation_derivable=" << c.negation_derivable;
  }
  std::printf("prover on %s: %d rows, answers confirmed %d, chains valid %d\n", path.c_str(), rows,
              answers, chains);
  EXPECT_EQ(rows, 600);
  EXPECT_EQ(answers, rows);
  EXPECT_EQ(chains, rows);
}
