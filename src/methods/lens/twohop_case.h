// Two-hop cases as the lens / patch / CREME commands read them: rows of
// ../shared/benchmarks/mquake-2hop/dev.jsonl or of `reasonscope data make twohop`, optionally
// labelled by `data label twohop` (category, wrong_answer). METHODS.md section 4.
//
// Prompts (the same for every command, so labels, tracing and evaluation agree):
//   composition   composed_cloze                      "The capital of the country where X is located is"
//   guide         single_cloze (bridge written in)    "The capital of France is"
//   first hop     first_hop_cloze when the row has one, else "Q: <first_hop_question>\nA:"
//   paraphrase    "Q: <composed question>\nA:"
// and an answer is scored as the continuation " <answer>" (one leading space).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rs::lens {

struct TwohopCase {
  std::string file;   // for messages
  uint64_t line = 0;
  std::string id;
  std::string first_hop_question, first_hop_cloze, second_hop_question;
  std::vector<std::string> composed_questions;
  std::string bridge_answer, answer;
  std::string composed_cloze, single_cloze, composed_subject, bridge_subject;
  std::vector<std::string> generalization_clozes, generalization_answers;
  std::vector<std::string> irrelevant_clozes, irrelevant_answers;
  std::string category;      // from `data label twohop` ("" if unlabelled)
  std::string wrong_answer;  // ditto: the alternative the model prefers on the composition

  std::string where() const;           // "file:line"
  std::string first_hop_prompt() const;
  // Second-hop relation key: single_cloze with bridge_subject replaced by "{x}" (groups cases
  // whose answers are of one kind, e.g. "The capital of {x} is").
  std::string relation_key() const;
};

std::string qa_prompt(const std::string& question);  // "Q: <question>\nA:"
std::string answer_text(const std::string& answer);  // " <answer>"

// Reads and checks every row: required string fields (composed_cloze, single_cloze,
// composed_subject, bridge_subject, bridge_answer, answer, first_hop_question, ...), non-empty
// bridge and answer, subjects found inside their clozes. Throws rs::Error naming file:line and
// the field. limit > 0 keeps the first rows only.
std::vector<TwohopCase> read_twohop_cases(const std::string& path, uint64_t limit = 0);

// Alternatives for scoring "against the alternatives": for each relation key, the distinct
// values of `answer` (resp. `bridge_answer`) over all cases with that key, most frequent first.
struct AnswerPools {
  std::map<std::string, std::vector<std::string>> answers, bridges;
  // Up to k alternatives to `target` for case c (from the case's relation key, excluding the
  // target itself, case-insensitively).
  std::vector<std::string> answer_alternatives(const TwohopCase& c, size_t k) const;
  std::vector<std::string> bridge_alternatives(const TwohopCase& c, size_t k) const;
};
AnswerPools make_answer_pools(const std::vector<TwohopCase>& cases);

// Case-insensitive position of needle in hay (npos if absent).
size_t find_nocase(const std::string& hay, const std::string& needle);

}  // namespace rs::lens
