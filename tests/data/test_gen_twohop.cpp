// twohop: tables are consistent and large enough, every answer equals the direct table lookup
// (done here from data/facts/ without the generator's composition code), probes make sense,
// deterministic per seed, too many rows rejected.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "data/facts/facts.h"
#include "data/gen_twohop.h"
#include "test_gen_util.h"

using namespace rs::data;
namespace F = rs::data::facts;

namespace {

// Independent lookups straight from the tables.
std::string country_of_city(const std::string& city) {
  for (const auto& c : F::cities())
    if (c.name == city) return c.country;
  return "?";
}
std::string first_hop(const std::string& rel, const std::string& subject) {
  if (rel == "city_country") return country_of_city(subject);
  if (rel == "landmark_country")
    for (const auto& l : F::landmarks())
      if (l.name == subject) return l.country;
  for (const auto& o : F::organisations())
    if (o.name == subject) {
      if (rel == "org_hq_city") return o.hq_city;
      if (rel == "org_hq_country") return country_of_city(o.hq_city);
    }
  return "?";
}
std::string second_hop(const std::string& rel, const std::string& bridge) {
  if (rel == "country") return country_of_city(bridge);
  std::string country = rel == "city_continent" ? country_of_city(bridge) : bridge;
  for (const auto& c : F::countries())
    if (c.name == country) {
      if (rel == "capital") return c.capital;
      if (rel == "official_language") return c.language;
      if (rel == "currency") return c.currency;
      if (rel == "continent" || rel == "city_continent") return c.continent;
    }
  return "?";
}

// A phrase may open a sentence and so be capitalised there: compare from its second letter.
bool mentions(const std::string& text, const std::string& phrase) {
  return text.find(phrase.substr(1)) != std::string::npos;
}

}  // namespace

TEST(GenTwohop, TablesAreConsistent) {
  std::set<std::string> countries, cities;
  for (const auto& c : F::countries()) EXPECT_TRUE(countries.insert(c.name).second) << c.name;
  for (const auto& c : F::cities()) {
    EXPECT_TRUE(cities.insert(c.name).second) << "duplicate city " << c.name;
    EXPECT_TRUE(countries.count(c.country)) << c.name << " -> " << c.country;
  }
  for (const auto& o : F::organisations()) EXPECT_TRUE(cities.count(o.hq_city)) << o.name;
  for (const auto& l : F::landmarks()) EXPECT_TRUE(countries.count(l.country)) << l.name;
  for (const auto& c : F::countries()) EXPECT_FALSE(c.capital.empty()) << c.name;
}

TEST(GenTwohop, AtLeastEightyFirstHopSubjects) {
  std::set<std::string> subjects;
  for (const auto& q : twohop_questions()) subjects.insert(q.subject);
  std::printf("twohop: %zu questions over %zu first-hop subjects\n", twohop_questions().size(),
              subjects.size());
  EXPECT_GE(subjects.size(), 80u);
}

TEST(GenTwohop, AnswersEqualTableLookups) {
  const size_t n = twohop_questions().size();
  auto rows = make_twohop(n, 7);
  ASSERT_EQ(rows.size(), n);
  EXPECT_EQ(gen_test::schema_problem(rows, "twohop"), "");
  EXPECT_EQ(gen_test::schema_problem(rows, "mquake-2hop"), "");
  std::set<std::string> ids, questions;
  for (const auto& r : rows) {
    const std::string subject = r["subject"], rel1 = r["first_relation"], rel2 = r["second_relation"];
    EXPECT_TRUE(ids.insert(r["id"].get<std::string>()).second);
    EXPECT_TRUE(questions.insert(r["composed_cloze"].get<std::string>()).second) << r["composed_cloze"];
    const std::string bridge = first_hop(rel1, subject);
    EXPECT_EQ(r["bridge_answer"], bridge) << r.dump();
    EXPECT_EQ(r["answer"], second_hop(rel2, bridge)) << r.dump();
    EXPECT_NE(r["answer"], "");
    // The prompts mention what they should and never give the answer away.
    const std::string cloze = r["composed_cloze"], single = r["single_cloze"];
    EXPECT_TRUE(mentions(cloze, subject)) << cloze;
    EXPECT_EQ(cloze.find(r["answer"].get<std::string>()), std::string::npos) << cloze;
    EXPECT_TRUE(mentions(single, r["bridge_subject"])) << single;
    EXPECT_TRUE(mentions(r["first_hop_cloze"], subject)) << r["first_hop_cloze"];
    EXPECT_EQ(r["composed_questions"].size(), 3u);
    for (const auto& q : r["composed_questions"])
      EXPECT_TRUE(mentions(q, r["composed_subject"])) << q;
    // Probes: generalisation answers equal the lookups; irrelevant answers differ.
    ASSERT_EQ(r["generalization_clozes"].size(), r["generalization_answers"].size());
    ASSERT_EQ(r["irrelevant_clozes"].size(), 5u);
    ASSERT_EQ(r["irrelevant_answers"].size(), 5u);
    for (const auto& a : r["irrelevant_answers"]) EXPECT_NE(a, r["answer"]);
    for (const auto& c : r["generalization_clozes"])
      EXPECT_TRUE(mentions(c, r["composed_subject"])) << c;
  }
}

TEST(GenTwohop, DeterministicAndBounded) {
  EXPECT_EQ(gen_rows_to_jsonl(make_twohop(100, 1)), gen_rows_to_jsonl(make_twohop(100, 1)));
  EXPECT_NE(gen_rows_to_jsonl(make_twohop(100, 1)), gen_rows_to_jsonl(make_twohop(100, 2)));
  EXPECT_THROW(make_twohop(0, 1), rs::Error);
  try {
    make_twohop(twohop_questions().size() + 1, 1);
    FAIL() << "too many rows accepted";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("distinct two-hop questions"), std::string::npos);
  }
}
