// Before/after evaluation of an edit on two-hop cases (METHODS.md section 4, step 4; the
// metrics of Li et al. 2024, arXiv 2402.14328, section 6.1), all with whole-answer-sequence
// probabilities:
//   correction       composed_cloze: p(target), and whether p(target) > p(wrong)
//   paraphrase       each composed question as "Q: ...\nA:", same target and wrong answer
//   generalization   generalization_clozes (same first hop, other second hops) with their answers
//   specificity      irrelevant_clozes: |p_post - p_pre| of their own answers, and whether the
//                    greedy continuation (4 tokens) is unchanged
// The wrong answer of correction / paraphrase is the case's wrong_answer (data label twohop),
// else the alternative the unedited model finds most probable on the composition; for each
// generalization probe it is the alternative the unedited model finds most probable among the
// other cases' generalization answers of the same relation.
#pragma once
#include <string>
#include <vector>

#include "methods/lens/twohop_case.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::lens {

struct Probe {
  std::string prompt, target, wrong;  // wrong may be "" (specificity probes)
};

struct CaseProbes {
  std::vector<Probe> correction, paraphrase, generalization, irrelevant;
};

// Builds the probes; wrong answers are chosen with the CURRENT (unedited) model m.
std::vector<CaseProbes> build_probes(const Model& m, const tok::Tokenizer& t,
                                     const std::vector<TwohopCase>& cases, size_t alternatives = 5,
                                     int64_t batch = 16);

struct ProbeScore {
  double lp_target = 0, lp_wrong = 0;  // log-probabilities (lp_wrong: -inf without a wrong answer)
  std::string greedy;                  // specificity probes only
};
struct CaseScores {
  std::vector<ProbeScore> correction, paraphrase, generalization, irrelevant;
};

// Scores one case's probes with the model as it is now (edited or not).
CaseScores score_probes(const Model& m, const tok::Tokenizer& t, const CaseProbes& p,
                        int64_t batch = 16);

// Means over probes for one group (correction / paraphrase / generalization).
struct GroupMetrics {
  double n = 0;
  double n_with_wrong = 0;  // probes that have a wrong answer: the shares are over these only
  double share_target_gt_wrong_pre = 0, share_target_gt_wrong_post = 0;
  double mean_p_target_pre = 0, mean_p_target_post = 0;
};
struct SpecificityMetrics {
  double n = 0;
  double mean_abs_delta_p_own_answer = 0, mean_delta_p_own_answer = 0, share_answer_unchanged = 0;
};
// Accumulate a case into running sums (call finish() on the totals to divide by n).
void accumulate(GroupMetrics& g, const std::vector<ProbeScore>& pre, const std::vector<ProbeScore>& post);
void accumulate(SpecificityMetrics& s, const std::vector<ProbeScore>& pre, const std::vector<ProbeScore>& post);
void finish(GroupMetrics& g);
void finish(SpecificityMetrics& s);

}  // namespace rs::lens
