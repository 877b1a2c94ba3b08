// pairs: positive = question + " " + correct answer, negative = question + " " + a wrong one,
// from mc rows (babi15, ioi) and from prontoqa rows.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/gen_babi15.h"
#include "data/gen_ioi.h"
#include "data/gen_pairs.h"
#include "data/gen_prontoqa.h"
#include "test_gen_util.h"

using namespace rs::data;

TEST(GenPairs, FromMultipleChoice) {
  for (auto src : {make_babi15(100, 1), make_ioi(100, 1)}) {
    auto plain = gen_test::plain(src);
    auto rows = make_pairs(plain, "mc", 4);
    ASSERT_EQ(rows.size(), plain.size());
    EXPECT_EQ(gen_test::schema_problem(rows, "pairs"), "");
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      const std::string prompt = plain[i]["prompt"];
      EXPECT_EQ(r["positive"], prompt + " " + plain[i]["answer"].get<std::string>());
      const std::string neg = r["negative"];
      ASSERT_EQ(neg.rfind(prompt + " ", 0), 0u);
      const std::string wrong = neg.substr(prompt.size() + 1);
      bool listed = false;
      for (const auto& w : plain[i]["wrong_answers"]) listed |= w == wrong;
      EXPECT_TRUE(listed) << wrong;
      EXPECT_NE(r["positive"], r["negative"]);
      EXPECT_EQ(r["source_id"].get<std::string>(), plain[i]["id"].get<std::string>());
    }
  }
}

TEST(GenPairs, FromProntoqa) {
  auto plain = gen_test::plain(make_prontoqa(60, 2, {}));
  auto rows = make_pairs(plain, "prontoqa", 1);
  EXPECT_EQ(gen_test::schema_problem(rows, "pairs"), "");
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string q = prontoqa_question(plain[i]["context"], plain[i]["query"]);
    const std::string ans = plain[i]["answer"];
    EXPECT_EQ(rows[i]["positive"], q + " " + ans);
    EXPECT_EQ(rows[i]["negative"], q + " " + (ans == "True" ? "False" : "True"));
  }
  EXPECT_THROW(make_pairs(plain, "nonsense", 1), rs::Error);
}
