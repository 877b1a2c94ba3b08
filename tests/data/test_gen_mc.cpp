// babi15 and ioi: the correct answer is derived here from the prompt text alone and must be
// the row's answer and the only candidate that fits; fields follow the "mc" schema.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "core/error.h"
#include "data/gen_babi15.h"
#include "data/gen_ioi.h"
#include "test_gen_util.h"

using namespace rs::data;

namespace {

std::string singular_animal(const std::string& plural) {
  static const std::map<std::string, std::string> irregular = {
      {"mice", "mouse"}, {"wolves", "wolf"}, {"sheep", "sheep"}, {"foxes", "fox"}};
  auto it = irregular.find(plural);
  return it != irregular.end() ? it->second : plural.substr(0, plural.size() - 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void expect_candidates_consistent(const GenRow& r) {
  auto wrong = r["wrong_answers"].get<std::vector<std::string>>();
  auto cands = r["candidates"].get<std::vector<std::string>>();
  std::set<std::string> w(wrong.begin(), wrong.end());
  EXPECT_EQ(w.size(), wrong.size()) << "duplicate wrong answers " << r.dump();
  EXPECT_EQ(w.count(r["answer"]), 0u) << r.dump();
  std::multiset<std::string> c(cands.begin(), cands.end()), expect(wrong.begin(), wrong.end());
  expect.insert(r["answer"].get<std::string>());
  EXPECT_EQ(c, expect) << r.dump();
}

}  // namespace

TEST(GenBabi15, AnswerFollowsFromTheStoryAndIsUnique) {
  auto rows = make_babi15(500, 3);
  EXPECT_EQ(gen_test::schema_problem(rows, "mc"), "");
  const std::regex fear(R"(([A-Z][a-z]+) are afraid of ([a-z]+)\.)");
  const std::regex member(R"(([A-Z][a-z]+) is an? ([a-z]+)\.)");
  const std::regex question(R"(What is ([A-Z][a-z]+) afraid of\?)");
  for (const auto& r : rows) {
    const std::string prompt = r["prompt"];
    std::map<std::string, std::string> fears, kind;
    for (std::sregex_iterator it(prompt.begin(), prompt.end(), fear), end; it != end; ++it)
      fears[singular_animal(lower((*it)[1]))] = singular_animal((*it)[2]);
    for (std::sregex_iterator it(prompt.begin(), prompt.end(), member), end; it != end; ++it)
      kind[(*it)[1]] = (*it)[2];
    std::smatch q;
    ASSERT_TRUE(std::regex_search(prompt, q, question)) << prompt;
    ASSERT_TRUE(kind.count(q[1])) << prompt;
    const std::string derived = fears.at(kind.at(q[1]));
    EXPECT_EQ(r["answer"], derived) << prompt;
    // Exactly one candidate is what the story says.
    int fitting = 0;
    for (const auto& c : r["candidates"]) fitting += c == derived;
    EXPECT_EQ(fitting, 1) << r.dump();
    expect_candidates_consistent(r);
    EXPECT_EQ(r["prompt"].get<std::string>().substr(prompt.size() - 7), "Answer:");
  }
}

TEST(GenIoi, IndirectObjectIsTheNameMentionedOnce) {
  auto rows = make_ioi(500, 3);
  EXPECT_EQ(gen_test::schema_problem(rows, "mc"), "");
  std::set<std::string> orders;
  for (const auto& r : rows) {
    const std::string prompt = r["prompt"];
    auto count = [&](const std::string& name) {
      std::regex word("\\b" + name + "\\b");
      return std::distance(std::sregex_iterator(prompt.begin(), prompt.end(), word), std::sregex_iterator());
    };
    int once = 0;
    std::string io;
    for (const auto& c : r["candidates"]) {
      auto k = count(c.get<std::string>());
      EXPECT_GE(k, 1) << prompt;
      if (k == 1) ++once, io = c.get<std::string>();
    }
    EXPECT_EQ(once, 1) << r.dump();
    EXPECT_EQ(r["answer"], io) << r.dump();
    EXPECT_EQ(count(r["wrong_answers"][0]), 2) << prompt;
    EXPECT_EQ(prompt.substr(prompt.size() - 3), " to");
    expect_candidates_consistent(r);
    orders.insert(r["order"].get<std::string>());
  }
  EXPECT_EQ(orders.size(), 2u);  // both ABB and BAB occur
}

TEST(GenMc, DeterministicPerSeed) {
  EXPECT_EQ(gen_rows_to_jsonl(make_babi15(50, 9)), gen_rows_to_jsonl(make_babi15(50, 9)));
  EXPECT_NE(gen_rows_to_jsonl(make_babi15(50, 9)), gen_rows_to_jsonl(make_babi15(50, 10)));
  EXPECT_EQ(gen_rows_to_jsonl(make_ioi(50, 9)), gen_rows_to_jsonl(make_ioi(50, 9)));
  EXPECT_NE(gen_rows_to_jsonl(make_ioi(50, 9)), gen_rows_to_jsonl(make_ioi(50, 10)));
  EXPECT_THROW(make_babi15(0, 1), rs::Error);
  EXPECT_THROW(make_ioi(0, 1), rs::Error);
}
