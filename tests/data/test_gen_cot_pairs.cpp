// cot-pairs: every valid row is a valid chain and every corrupted row is invalid under the
// prover (data/prover.h), on our own prontoqa rows and on the PrOntoQA-OOD benchmark file.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/error.h"
#include "data/gen_cot_pairs.h"
#include "data/gen_prontoqa.h"
#include "data/prover.h"
#include "test_gen_util.h"

using namespace rs::data;

namespace {

// Parses a row's text back into context / query / chain and asks the prover. Returns counts
// of (valid rows judged valid, corrupted rows judged invalid) per corruption kind.
std::map<std::string, std::pair<int, int>> judge(const std::vector<GenRow>& rows) {
  std::map<std::string, std::pair<int, int>> out;  // kind -> (rows, agreed)
  for (const auto& r : rows) {
    auto lines = gen_test::split_lines(r["text"]);
    EXPECT_EQ(lines.size(), 3u) << r.dump();
    if (lines.size() != 3) continue;
    auto chain = prover::split_sentences(lines[2]);
    auto c = prover::check_prontoqa(lines[0], lines[1], chain, "");
    const bool label_valid = r["label"] == 1;
    const std::string kind = label_valid ? "valid" : r["corruption"].get<std::string>();
    auto& tally = out[kind];
    ++tally.first;
    // A corrupted chain must fail at a step (not merely stop short of the query).
    const bool agreed = label_valid ? c.chain_valid() : (c.problem.empty() && c.bad_step >= 0);
    tally.second += agreed;
    if (!agreed) ADD_FAILURE() << r.dump() << "\n" << c.problem << c.step_problem;
  }
  return out;
}

std::vector<nlohmann::json> benchmark_rows() {
  std::ifstream in(std::string(RS_SOURCE_DIR) + "/tests/data/fixtures/prontoqa/dev.jsonl");
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

void report(const char* what, const std::map<std::string, std::pair<int, int>>& t) {
  for (const auto& [kind, v] : t)
    std::printf("%s: %-8s %4d rows, prover agrees on %4d\n", what, kind.c_str(), v.first, v.second);
}

}  // namespace

TEST(GenCotPairs, NegateSentence) {
  EXPECT_EQ(negate_sentence("Sam is bright."), "Sam is not bright.");
  EXPECT_EQ(negate_sentence("Sam is not bright."), "Sam is bright.");
  EXPECT_EQ(negate_sentence("Every wumpus is a yumpus."), "Every wumpus is not a yumpus.");
  EXPECT_EQ(negate_sentence("Wumpuses are not yumpuses."), "Wumpuses are yumpuses.");
  EXPECT_THROW(negate_sentence("Hello there."), rs::Error);
}

TEST(GenCotPairs, ProverAgreesOnGeneratedProblems) {
  auto src = gen_test::plain(make_prontoqa(600, 77, {}));
  auto rows = make_cot_pairs(src, 5);
  ASSERT_EQ(rows.size(), 2 * src.size());
  EXPECT_EQ(gen_test::schema_problem(rows, "cot-pairs"), "");
  auto t = judge(rows);
  report("generated", t);
  ASSERT_EQ(t.size(), 4u) << "expected valid + negated + swapped + dropped";
  for (const auto& [kind, v] : t) {
    EXPECT_EQ(v.first, v.second) << kind;
    if (kind != "valid") {
      EXPECT_GT(v.first, 120) << kind;  // each kind about a third of 600
    }
  }
}

TEST(GenCotPairs, ProverAgreesOnBenchmarkProblems) {
  auto src = benchmark_rows();
  ASSERT_EQ(src.size(), 600u);
  auto rows = make_cot_pairs(src, 11);
  EXPECT_EQ(gen_test::schema_problem(rows, "cot-pairs"), "");
  auto t = judge(rows);
  report("benchmark", t);
  for (const auto& [kind, v] : t) EXPECT_EQ(v.first, v.second) << kind;
}

TEST(GenCotPairs, DeterministicPerSeed) {
  auto src = gen_test::plain(make_prontoqa(50, 1, {}));
  EXPECT_EQ(gen_rows_to_jsonl(make_cot_pairs(src, 3)), gen_rows_to_jsonl(make_cot_pairs(src, 3)));
  EXPECT_NE(gen_rows_to_jsonl(make_cot_pairs(src, 3)), gen_rows_to_jsonl(make_cot_pairs(src, 4)));
}
