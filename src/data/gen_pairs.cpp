// Control-vector pairs (see gen_pairs.h).
#include "data/gen_pairs.h"

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

std::string prontoqa_question(const std::string& context, const std::string& query) {
  return context + "\n" + query + "\nAnswer:";
}

std::vector<GenRow> make_pairs(const std::vector<nlohmann::json>& rows, const std::string& kind,
                               uint64_t seed) {
  std::vector<GenRow> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    GenRng rng = GenRng::stream(seed, i);
    std::string question, answer, wrong, task;
    if (kind == "prontoqa") {
      question = prontoqa_question(r.at("context").get<std::string>(), r.at("query").get<std::string>());
      answer = r.at("answer").get<std::string>();
      wrong = answer == "True" ? "False" : "True";
      task = "prontoqa";
    } else if (kind == "mc") {
      question = r.at("prompt").get<std::string>();
      answer = r.at("answer").get<std::string>();
      const auto wrongs = r.at("wrong_answers").get<std::vector<std::string>>();
      wrong = rng.pick(wrongs);
      task = r.contains("task") && r["task"].is_string() ? r["task"].get<std::string>() : "mc";
    } else {
      fail("pairs: unknown source kind \"", kind, "\" (expected prontoqa or mc)");
    }
    const std::string id = r.at("id").get<std::string>();
    GenRow row;
    row["id"] = id + "-pair";
    row["positive"] = question + " " + answer;
    row["negative"] = question + " " + wrong;
    row["source_id"] = id;
    row["task"] = task;
    row["question"] = question;
    row["answer"] = answer;
    row["wrong_answer"] = wrong;
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace rs::data
