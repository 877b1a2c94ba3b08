// `cot-pairs --from F.jsonl`: every gold chain of thought of a prontoqa file as a valid row
// (label 1) and a corrupted row (label 0) for the informal variant of METHODS.md section 1.
//
// Row text: "<context>\n<query>\n<chain sentences joined by spaces>". One corruption per source
// row, its kind drawn from the seed and recorded in "corruption":
//   negated  one step's polarity flipped ("is" <-> "is not", "are" <-> "are not");
//   swapped  a derived step (index 2, 4, ...) exchanged with a random earlier step, so it now
//            comes before at least one of its premises;
//   dropped  one step other than the last removed, so a later step loses a premise.
// Fields (the "cot-pairs" schema): id, text, label, corruption (label-0 rows only), source_id,
// hops, and corrupted_step (label-0 rows: index in the gold chain of the step negated, moved
// or dropped).
// Each is invalid by construction under the strict step order of data/prover.h (a negated
// rule or fact is not in the context and does not follow; the tests check every row).
// Chains that are not in PrOntoQA's (fact, (rule, conclusion)*) shape, i.e. of even length or
// shorter than 3 sentences, can only be negated.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/gen_common.h"

namespace rs::data {

// "Sam is bright." -> "Sam is not bright."; "Wumpuses are not dull." -> "Wumpuses are dull."
// Throws rs::Error if the sentence has neither " is " nor " are ".
std::string negate_sentence(const std::string& sentence);

// Rows of a prontoqa file (already validated against the "prontoqa" schema) -> 2 rows each.
std::vector<GenRow> make_cot_pairs(const std::vector<nlohmann::json>& prontoqa_rows, uint64_t seed);

// The text of one row (shared with the tests, which parse it back).
std::string cot_text(const std::string& context, const std::string& query,
                     const std::vector<std::string>& chain);

}  // namespace rs::data
