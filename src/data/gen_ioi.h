// `ioi`: indirect-object identification (Wang et al., "Interpretability in the Wild", ICLR
// 2023), as multiple choice for METHODS.md section 3:
//   prompt "When Mary and John went to the store, John gave a drink to"  answer "Mary"
//   wrong_answers ["John"] (the subject, named twice; the answer is named once).
// Both name orders (ABB and BAB) occur. Fields (the "mc" schema): id, prompt, answer,
// wrong_answers, task, plus candidates and template (which sentence frame was used).
#pragma once
#include <cstdint>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

std::vector<GenRow> make_ioi(uint64_t n, uint64_t seed);

}  // namespace rs::data
