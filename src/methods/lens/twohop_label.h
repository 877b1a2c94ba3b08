// What the model gets right on a two-hop case (METHODS.md section 4, "Data"): the first hop,
// the second hop and the composition, each judged two ways:
//   greedy     the greedy continuation starts with the answer (answer_scoring.h greedy_matches)
//   prob       the whole answer sequence is more probable than every alternative (answers of
//              other cases with the same second-hop relation, AnswerPools)
// A hop counts as right when both agree it is (greedy and prob); the category follows:
//   all_right                  both hops and the composition right
//   hops_right_comp_wrong      both hops right, composition wrong  (what tracing and CREME fix)
//   comp_right_hop_wrong       composition right although a hop is wrong
//   hop_wrong                  a hop and the composition wrong
#pragma once
#include <string>
#include <vector>

#include "methods/lens/twohop_case.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::lens {

struct HopVerdict {
  std::string prompt, target;
  std::string greedy;              // greedy continuation
  bool greedy_ok = false;
  double logp_target = 0;          // log p(whole target | prompt)
  std::string best_alternative;    // most probable alternative ("" if none)
  double logp_best_alternative = 0;
  bool prob_ok = false;            // target beats every alternative (true when none)
  bool ok() const { return greedy_ok && prob_ok; }
};

struct CaseLabel {
  HopVerdict first, second, composed;
  std::string category;
  std::string wrong_answer;  // composition: the most probable alternative when it beats the
                             // target, else the model's greedy text ("" when right)
};

const std::vector<std::string>& category_names();
std::string categorize(bool first, bool second, bool composed);

struct LabelOptions {
  size_t alternatives = 5;
  int64_t max_new_tokens = 8;
  int64_t batch = 16;
};

std::vector<CaseLabel> label_cases(const Model& m, const tok::Tokenizer& t,
                                   const std::vector<TwohopCase>& cases, const AnswerPools& pools,
                                   const LabelOptions& opts = {});

}  // namespace rs::lens
