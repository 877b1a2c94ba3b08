// QK-score judges: head selection on the calibration rows, the saved judge (heads.json), and
// the evaluation of every judge (heads, top-k ensemble, the model's own answer) on held-out rows.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
// seq_lp [2N, O] from sequence_logprobs (undefined: no baselines).
JudgeScores judge_scores(const ScanResult& r, const at::Tensor& seq_lp, const std::vector<Prompt>& prompts);

struct HeadRef {
  int64_t layer = 0, head = 0;
};

// The reusable judge written to DIR/heads.json and read back by --heads.
struct SavedHeads {
  std::string model, template_text, rope = "pre", format;
  int64_t n_layer = 0, n_head = 0, n_head_kv = 0, n_options = 0, n_calib = 0;
  HeadRef top1;
  std::vector<HeadRef> ensemble;
  std::vector<std::vector<double>> mu;  // [K][O] z-score centre per ensemble head and content slot
  std::vector<double> sigma;            // [K] z-score scale per ensemble head
  std::vector<RankedHead> ranking;      // heads by calibration balanced accuracy (informational)
};
nlohmann::json to_json(const SavedHeads& s);
// `where` names the file in errors. Checks types, ranges and sizes.
SavedHeads saved_heads_from_json(const nlohmann::json& j, const std::string& where);
// Throws when the saved judge was made for a model of another shape or another option count.
void check_fits(const SavedHeads& s, const ModelConfig& c, int64_t n_options, const std::string& where);

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
