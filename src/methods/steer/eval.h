// Scoring a task under steering (METHODS.md section 3, step 4, with its fixes): for one
// (layer, alpha), each multiple-choice item is scored by
//   - first-token accuracy: softmax over the candidates' first-token logits (Højer et al.)
//   - sequence accuracy: the full candidate log-likelihood sum_j log p(c_j | prompt, c_<j)
//     (METHODS.md fix: the published code scored only the first token)
//   - KL(p_ref || p_steered) of the next-token distribution after the prompt, eps = 1e-8 as in
//     the published code: sum_v p_ref (log(p_ref + eps) - log(p_st + eps)), in nats
//   - entropy of the steered next-token distribution in bits: -sum_v p log2 p
//   - p_correct / p_incorrect: next-token probability of the correct candidate's first token /
//     of the wrong candidates' (distinct) first tokens
// Steering hooks are active in every forward call (prompt and candidate tokens alike).
#pragma once
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "hooks/hooks.h"
#include "model/model.h"

namespace rs::steer {

struct McItem {
  std::string id;
  std::vector<int64_t> prompt;                   // token ids (with BOS where the model adds one)
  std::vector<std::vector<int64_t>> candidates;  // continuation ids, each non-empty
  int64_t correct = 0;                           // index into candidates
};

struct ItemScore {
  bool first_token_correct = false;
  bool sequence_correct = false;
  double kl = 0;             // nats
  double entropy_bits = 0;
  double p_correct = 0, p_incorrect = 0;
  std::vector<double> candidate_logprobs;  // full-sequence log-likelihood of each candidate
};

// ref_logprobs: log-softmax [V] of the unsteered next-token distribution for this item (from a
// run with hooks == nullptr); when undefined, kl = 0. next_logprobs (optional out): this run's.
ItemScore score_mc_item(const Model& m, const McItem& item, Hooks* hooks,
                        const at::Tensor& ref_logprobs, at::Tensor* next_logprobs = nullptr);

// KL(ref || st) with eps (both log-softmax [V]); entropy in bits of st.
double kl_divergence(const at::Tensor& ref_logprobs, const at::Tensor& st_logprobs, double eps = 1e-8);
double entropy_bits(const at::Tensor& logprobs);

// GSM8K-style answers: the number after "####", else the last number in the text; commas
// dropped ("1,000" -> "1000"), a trailing ".0" kept as written. Empty when there is none.
std::string extract_final_number(const std::string& text);
// Numeric equality of two extracted numbers (so "18" == "18.0"); false if either is empty.
bool same_number(const std::string& a, const std::string& b);

}  // namespace rs::steer
