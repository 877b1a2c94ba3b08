// `pairs --from F.jsonl`: positive/negative pairs for control vectors (METHODS.md section 3,
// after Højer et al., ICLR 2025): positive = question + " " + correct answer, negative =
// question + " " + a wrong answer, from a multiple-choice file ("mc" schema: the question is
// the prompt, the wrong answer one of wrong_answers drawn by the seed) or a prontoqa file
// (question = context + "\n" + query + "\nAnswer:", answers "True"/"False").
// Fields (the "pairs" schema): id, positive, negative, source_id, task, plus question, answer
// and wrong_answer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/gen_common.h"

namespace rs::data {

// `kind` is "prontoqa" or "mc" (see pairs_source_kind).
std::vector<GenRow> make_pairs(const std::vector<nlohmann::json>& rows, const std::string& kind,
                               uint64_t seed);
// The prompt a prontoqa row is asked with (shared with the QK template of section 2).
std::string prontoqa_question(const std::string& context, const std::string& query);

}  // namespace rs::data
