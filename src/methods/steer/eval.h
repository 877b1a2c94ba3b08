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

// One steering setting: alpha * vec added to blocks.{layer}.hook_resid_post at every position,
// vec [D] in the model's dtype on its device (as add_steering puts it).
struct SteerSetting {
  int64_t layer = 0;
  at::Tensor vec;
  double alpha = 0;
};

// The unsteered score (kl 0) and one per setting (KL against the unsteered run), computed as
// score_mc_item computes each with its own forward passes, but sharing the work: the unsteered
// run goes once, and a setting at layer l starts at block l+1 from its saved residual stream
// (blocks 0..l are the same as unsteered). Settings of one layer run as the rows of one batch,
// at most max_rows at a time (1: every product has the shape score_mc_item gives it, so the
// numbers are the same bits). unsteered_logprobs (optional out): the unsteered next-token
// log-softmax [V]. Dequantised weights only (ForwardOptions::start_at_layer).
std::vector<ItemScore> score_mc_item_settings(const Model& m, const McItem& item,
                                              const std::vector<SteerSetting>& settings,
                                              int64_t max_rows, at::Tensor* unsteered_logprobs = nullptr);

// KL(ref || st) with eps (both log-softmax [V]); entropy in bits of st.
double kl_divergence(const at::Tensor& ref_logprobs, const at::Tensor& st_logprobs, double eps = 1e-8);
double entropy_bits(const at::Tensor& logprobs);

// GSM8K-style answers: the number after "####", else the last number in the text; commas
// dropped ("1,000" -> "1000"), a trailing ".0" kept as written. Empty when there is none.
std::string extract_final_number(const std::string& text);
// Numeric equality of two extracted numbers (so "18" == "18.0"); false if either is empty.
bool same_number(const std::string& a, const std::string& b);

}  // namespace rs::steer
