// instructions: each row's output is its task's mapping of its input, the instruction names
// its own task (and no other), distributions do not share filler words, the task definitions
// do not depend on the seed, and impossible T / M are rejected.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "data/gen_instructions.h"
#include "test_gen_util.h"

using namespace rs::data;

namespace {
std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
}  // namespace

TEST(GenInstructions, RowsFollowTheirTask) {
  const int T = 8, M = 4;
  auto tasks = instruction_tasks(T);
  ASSERT_EQ(tasks.size(), size_t(T));
  std::map<std::string, int> keyword_task;
  for (int t = 0; t < T; ++t) {
    std::set<std::string> inputs;
    for (const auto& [in, out] : tasks[t].mapping) inputs.insert(in);
    EXPECT_EQ(inputs.size(), size_t(kInstructionMappings)) << "task " << t;
    for (const auto& k : tasks[t].keywords) EXPECT_TRUE(keyword_task.emplace(k, t).second) << k;
  }
  auto rows = make_instructions(2000, 5, T, M);
  EXPECT_EQ(gen_test::schema_problem(rows, "instructions"), "");
  std::set<std::pair<std::string, int>> seen;
  std::map<int, std::set<std::string>> shapes;  // distribution -> instruction word counts etc.
  for (const auto& r : rows) {
    const std::string label = r["task"];
    const int t = std::stoi(label.substr(4));
    const int m = r["distribution"];
    ASSERT_GE(t, 0);
    ASSERT_LT(t, T);
    ASSERT_GE(m, 0);
    ASSERT_LT(m, M);
    seen.insert({label, m});
    // output = task mapping(input)
    std::string expected;
    for (const auto& [in, out] : tasks[t].mapping)
      if (in == r["input"]) expected = out;
    EXPECT_EQ(r["output"], expected) << r.dump();
    // exactly one keyword, and it is this task's
    int found = 0;
    for (const auto& w : words(r["instruction"])) {
      auto it = keyword_task.find(w);
      if (it != keyword_task.end()) {
        ++found;
        EXPECT_EQ(it->second, t) << r.dump();
      }
    }
    EXPECT_EQ(found, 1) << r.dump();
  }
  EXPECT_EQ(seen.size(), size_t(T * M));  // every task under every distribution
}

TEST(GenInstructions, DistributionsDoNotShareWords) {
  std::map<std::string, int> owner;
  for (int m = 0; m < instruction_max_distributions(); ++m)
    for (const auto& w : instruction_distribution_words(m)) {
      auto [it, fresh] = owner.emplace(w, m);
      EXPECT_TRUE(fresh || it->second == m) << w << " in distributions " << it->second << " and " << m;
    }
  // Nor with the keywords, inputs or outputs of the largest task set.
  for (const auto& task : instruction_tasks(instruction_max_tasks())) {
    for (const auto& k : task.keywords) EXPECT_EQ(owner.count(k), 0u) << k;
    for (const auto& [in, out] : task.mapping) {
      EXPECT_EQ(owner.count(in), 0u) << in;
      EXPECT_EQ(owner.count(out), 0u) << out;
    }
  }
}

TEST(GenInstructions, TasksIndependentOfSeedRowsNot) {
  auto a = make_instructions(300, 1, 8, 4), b = make_instructions(300, 2, 8, 4);
  EXPECT_NE(gen_rows_to_jsonl(a), gen_rows_to_jsonl(b));
  EXPECT_EQ(gen_rows_to_jsonl(a), gen_rows_to_jsonl(make_instructions(300, 1, 8, 4)));
  // Same (task, input) -> same output across seeds: the tasks are shared.
  std::map<std::pair<std::string, std::string>, std::string> f;
  for (const auto* rows : {&a, &b})
    for (const auto& r : *rows) {
      auto [it, fresh] = f.emplace(std::make_pair(r["task"].get<std::string>(), r["input"].get<std::string>()),
                                   r["output"].get<std::string>());
      EXPECT_EQ(it->second, r["output"]);
    }
}

TEST(GenInstructions, ImpossibleParametersThrow) {
  EXPECT_THROW(make_instructions(10, 1, 0, 4), rs::Error);
  EXPECT_THROW(make_instructions(10, 1, instruction_max_tasks() + 1, 4), rs::Error);
  EXPECT_THROW(make_instructions(10, 1, 8, 0), rs::Error);
  EXPECT_THROW(make_instructions(10, 1, 8, instruction_max_distributions() + 1), rs::Error);
  EXPECT_THROW(make_instructions(0, 1, 8, 4), rs::Error);
  EXPECT_NO_THROW(make_instructions(10, 1, instruction_max_tasks(), instruction_max_distributions()));
}

TEST(GenInstructions, VocabularyCoversEveryWord) {
  const auto vocab = instruction_vocabulary();
  ASSERT_TRUE(std::is_sorted(vocab.begin(), vocab.end()));
  const std::set<std::string> known(vocab.begin(), vocab.end());
  EXPECT_EQ(known.size(), vocab.size());
  for (const auto& row : make_instructions(3000, 9, instruction_max_tasks(), instruction_max_distributions())) {
    std::istringstream words(row.at("instruction").get<std::string>() + " " +
                             row.at("input").get<std::string>() + " " + row.at("output").get<std::string>());
    for (std::string w; words >> w;) EXPECT_TRUE(known.count(w)) << w;
  }
}
