// `babi15`: bAbI task 15 style deduction (Weston et al., "Towards AI-Complete Question
// Answering", 2015, task 15 "basic deduction"), as multiple choice for METHODS.md section 3:
//   context  "Sheep are afraid of wolves. Cats are afraid of mice. ... Gertrude is a sheep. ..."
//   prompt   context + " Question: What is Gertrude afraid of? Answer:"
//   answer   "wolf"; wrong_answers: the other species of the story (the individual's own species
//            among them), so exactly one candidate follows from the story.
// Fields (the "mc" schema): id, prompt, answer, wrong_answers, task, context, question, plus
// candidates (answer and wrong answers in a seeded order).
#pragma once
#include <cstdint>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

std::vector<GenRow> make_babi15(uint64_t n, uint64_t seed);

}  // namespace rs::data
