// Schemas: every field type and constraint, the built-in schemas' fields, the registry.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/schema.h"

using namespace rs::data;
using nlohmann::json;

namespace {

std::string problem(const Schema& s, const json& row) { return row_problem(s, row, "f.jsonl", 7); }

}  // namespace

TEST(Schema, EachFieldType) {
  Schema s;
  s.name = "all";
  s.req("s", FieldType::String).req("i", FieldType::Int).req("n", FieldType::Number);
  s.req("b", FieldType::Bool).req("sa", FieldType::StringArray).req("a", FieldType::Array);
  s.req("o", FieldType::Object).req("any", FieldType::Any);
  json ok = {{"s", "x"}, {"i", -3}, {"n", 2.5}, {"b", false}, {"sa", {"p", "q"}},
             {"a", {1, "x"}}, {"o", {{"k", 1}}}, {"any", nullptr}};
  EXPECT_EQ(problem(s, ok), "");
  json r = ok;
  r["n"] = 4;  // an integer is a number
  EXPECT_EQ(problem(s, r), "");
  r["sa"] = json::array();  // empty string array is still a string array
  EXPECT_EQ(problem(s, r), "");

  auto with = [&](const char* k, json v) {
    json x = ok;
    x[k] = v;
    return problem(s, x);
  };
  EXPECT_EQ(with("s", 1), "f.jsonl:7: field 's': expected string, found number");
  EXPECT_EQ(with("i", 1.0), "f.jsonl:7: field 'i': expected int, found number");
  EXPECT_EQ(with("i", "1"), "f.jsonl:7: field 'i': expected int, found string");
  EXPECT_EQ(with("n", "2.5"), "f.jsonl:7: field 'n': expected number, found string");
  EXPECT_EQ(with("b", 0), "f.jsonl:7: field 'b': expected bool, found number");
  EXPECT_EQ(with("sa", json::array({"a", 2})),
            "f.jsonl:7: field 'sa': expected string array, found number at index 1");
  EXPECT_EQ(with("sa", "a"), "f.jsonl:7: field 'sa': expected string array, found string");
  EXPECT_EQ(with("a", json::object()), "f.jsonl:7: field 'a': expected array, found object");
  EXPECT_EQ(with("o", json::array()), "f.jsonl:7: field 'o': expected object, found array");
  EXPECT_EQ(with("s", nullptr), "f.jsonl:7: field 's': expected string, found null");
  json missing = ok;
  missing.erase("b");
  EXPECT_EQ(problem(s, missing), "f.jsonl:7: field 'b': missing (expected bool)");
  EXPECT_EQ(problem(s, json::array()), "f.jsonl:7: expected a JSON object, found array");
  EXPECT_THROW(validate_row(s, missing, "f.jsonl", 7), rs::Error);
  EXPECT_NO_THROW(validate_row(s, ok, "f.jsonl", 7));
}

TEST(Schema, OptionalFieldsAndConstraints) {
  Schema s;
  s.name = "c";
  s.opt("o", FieldType::String);
  s.req("k", FieldType::String).last().allowed_strings = {"True", "False"};
  s.req("h", FieldType::Int).last().min_int = 1;
  s.last().max_int = 6;
  s.req("ne", FieldType::StringArray).last().non_empty = true;
  json ok = {{"k", "True"}, {"h", 3}, {"ne", {"x"}}};
  EXPECT_EQ(problem(s, ok), "");
  json r = ok;
  r["o"] = 1;  // optional but present: type still checked
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'o': expected string, found number");
  r = ok;
  r["k"] = "true";
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'k': expected one of \"True\", \"False\", found \"true\"");
  r = ok;
  r["h"] = 0;
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'h': expected an integer >= 1, found 0");
  r["h"] = 7;
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'h': expected an integer <= 6, found 7");
  r["h"] = json(uint64_t(18446744073709551615ull));
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'h': expected an integer <= 6, found 18446744073709551615");
  r = ok;
  r["ne"] = json::array();
  EXPECT_EQ(problem(s, r), "f.jsonl:7: field 'ne': expected a non-empty array, found []");
}

TEST(Schema, BuiltinsExistWithTheirFields) {
  for (const char* name : {"prontoqa", "mquake-2hop", "twohop", "minif2f", "labelled-text",
                           "cot-pairs", "mc", "instructions", "pairs", "text"})
    EXPECT_NE(find_schema(name), nullptr) << name;
  const Schema& mc = get_schema("mc");
  ASSERT_NE(mc.find(fields::kWrongAnswers), nullptr);
  EXPECT_EQ(mc.find(fields::kWrongAnswers)->type, FieldType::StringArray);
  EXPECT_TRUE(mc.find(fields::kPrompt)->required);
  EXPECT_FALSE(mc.find(fields::kTask)->required);
  json row = {{"id", "babi15-1"}, {"prompt", "Sheep are afraid of wolves. Gertrude is a sheep. "
                                            "What is Gertrude afraid of? Answer:"},
              {"answer", " wolves"}, {"wrong_answers", {" mice", " cats"}}, {"task", "babi15"}};
  EXPECT_EQ(problem(mc, row), "");
  row["wrong_answers"] = json::array();
  EXPECT_EQ(problem(mc, row), "f.jsonl:7: field 'wrong_answers': expected a non-empty array, found []");

  const Schema& cot = get_schema("cot-pairs");
  json c = {{"id", "a"}, {"text", "t"}, {"label", 0}, {"corruption", "swapped"}};
  EXPECT_EQ(problem(cot, c), "");
  c["corruption"] = "shuffled";
  EXPECT_NE(problem(cot, c), "");
  c.erase("corruption");
  c["label"] = 2;
  EXPECT_EQ(problem(cot, c), "f.jsonl:7: field 'label': expected an integer <= 1, found 2");

  json p = {{"id", "a"}, {"positive", "yes"}, {"negative", "no"}};
  EXPECT_EQ(problem(get_schema("pairs"), p), "");
  p.erase("negative");
  EXPECT_EQ(problem(get_schema("pairs"), p), "f.jsonl:7: field 'negative': missing (expected string)");

  json ins = {{"id", "i"}, {"instruction", "Reverse the word."}, {"input", "abc"},
              {"output", "cba"}, {"task", "reverse"}, {"distribution", 2}};
  EXPECT_EQ(problem(get_schema("instructions"), ins), "");
  ins["distribution"] = "2";
  EXPECT_NE(problem(get_schema("instructions"), ins), "");

  json pq = {{"id", "x"}, {"hops", 2}, {"context", "c"}, {"query", "q"},
             {"chain_of_thought", {"a", "b"}}, {"answer", "Maybe"}};
  EXPECT_EQ(problem(get_schema("prontoqa"), pq),
            "f.jsonl:7: field 'answer': expected one of \"True\", \"False\", found \"Maybe\"");
  // twohop: probe lists optional; mquake-2hop: required.
  json th = {{"id", "t"}, {"first_hop_question", "q1"}, {"second_hop_question", "q2"},
             {"composed_questions", {"q"}}, {"bridge_answer", "France"}, {"answer", "Paris"},
             {"composed_cloze", "c"}, {"single_cloze", "s"}, {"composed_subject", "cs"},
             {"bridge_subject", "France"}};
  EXPECT_EQ(problem(get_schema("twohop"), th), "");
  EXPECT_EQ(problem(get_schema("mquake-2hop"), th),
            "f.jsonl:7: field 'generalization_clozes': missing (expected string array)");
}

TEST(Schema, RegistryAndTextSchema) {
  EXPECT_EQ(find_schema("no-such"), nullptr);
  try {
    get_schema("no-such");
    FAIL();
  } catch (const rs::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("unknown schema 'no-such'"), std::string::npos);
    EXPECT_NE(m.find("prontoqa"), std::string::npos);  // lists the known ones
  }
  Schema s;
  s.name = "my-schema";
  s.req("q", FieldType::String);
  s.unique_field = "q";
  register_schema(s);
  ASSERT_NE(find_schema("my-schema"), nullptr);
  EXPECT_EQ(get_schema("my-schema").fields.size(), 1u);
  auto names = schema_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "my-schema"), names.end());
  Schema unnamed;
  EXPECT_THROW(register_schema(unnamed), rs::Error);

  auto t = text_schema("prompt");
  EXPECT_EQ(problem(t, {{"prompt", "hi"}}), "");
  EXPECT_EQ(problem(t, {{"text", "hi"}}), "f.jsonl:7: field 'prompt': missing (expected string)");
  EXPECT_EQ(problem(get_schema("text"), {{"text", "hi"}, {"other", 1}}), "");
}
