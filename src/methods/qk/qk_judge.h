// QK-score judges: head selection on the calibration rows, the saved judge (heads.json), and
// the evaluation of every judge (heads, top-k ensemble, the model's own answer) on held-out rows.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "methods/qk/heads_file.h"
#include "methods/qk/qk_data.h"
#include "methods/qk/qk_runner.h"
#include "methods/qk/qk_score.h"
#include "model/config.h"

namespace rs::qk {

// Content-order scores of every judge under both option orders ([0] given, [1] reversed).
struct JudgeScores {
  std::array<at::Tensor, 2> heads;  // [N, L, H, O] f32: raw q . k per head
  std::array<at::Tensor, 2> first;  // [N, O] f64: log p(first answer token); undefined if absent
  std::array<at::Tensor, 2> seq;    // [N, O] f64: log p(whole answer)
};
// From a scan of 2N prompts, prompts [0, N) in the given order and [N, 2N) reversed;
// seq_lp [2N, O], the scan's seq_lp (undefined: no baselines).
JudgeScores judge_scores(const ScanResult& r, const at::Tensor& seq_lp, const std::vector<Prompt>& prompts);

// Balanced accuracy over `rows`: the mean over answer classes of the within-class share of
// correct rows. correct [N, ...] bool, answer [N] -> [...] f64.
at::Tensor balanced_accuracy(const at::Tensor& correct, const at::Tensor& answer, const std::vector<int64_t>& rows);

// Head selection on the calibration rows: every head ranked by balanced accuracy (right under
// both orders, averaged over answer classes, so a head that always says "True" ranks at 0.5
// however many answers are True), ties by mean z-scored answer margin; top1 = the best, the ensemble = the best k,
// with their z-score parameters fitted on the same rows. answer [N] int64; n_head_kv is
// recorded so a saved judge can refuse a model of another shape.
SavedHeads select_heads(const JudgeScores& js, const at::Tensor& answer,
                        const std::vector<int64_t>& calib_rows, int64_t k, int64_t n_head_kv);

// The ensemble's content scores under both orders, [N, O] f64 each (mean z-scored differences).
std::array<at::Tensor, 2> ensemble_of(const JudgeScores& js, const SavedHeads& s);
// One head's content scores under both orders, [N, O].
std::array<at::Tensor, 2> head_of(const JudgeScores& js, const HeadRef& h);

}  // namespace rs::qk
