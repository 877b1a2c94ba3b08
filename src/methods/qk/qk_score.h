// QK-score maths (METHODS.md section 2; Tulchinskii et al., arXiv 2502.17017): pure functions
// over captured queries and keys, no model in sight.
//
// For every layer l and query head h, the query at the LAST prompt token q and the key at the
// last token of option line i, k_i, give score_i = q . k_i (raw dot product, no 1/sqrt(d)
// scaling; the ranking over options is the same either way). Grouped-query attention: query
// head h reads key head h / (H / H_kv). The head's prediction is argmax_i score_i.
//
// Where we differ from the paper: it writes S = q_{a_i} . k_s (query at an answer token, key at
// the statement); METHODS.md fixes the query at the last prompt token and the keys at the
// option lines, so one forward pass scores every option of every head at once.
//
// Every judge (a head, the top-k ensemble, the model's own probabilities) is run on the prompt
// with the options in the given order and in reversed order. Its content scores are indexed by
// the option's place in the row's own list (answer_index refers to it), whatever the order it
// was shown in; a judge is right on an example only when it picks the answer under BOTH orders
// (a head must be right for the content, not the position).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "methods/qk/heads_file.h"

namespace rs::qk {

// Query head h -> the key/value head it reads under grouped-query attention (Ainslie et al.
// 2023): groups of G = H / H_kv consecutive query heads share one kv head.
int64_t kv_head_of(int64_t h, int64_t n_head, int64_t n_head_kv);

// q [N, L, H, dh] (query at the last prompt token), k [N, L, O, Hkv, dh] (keys at the options'
// last tokens) -> scores [N, L, H, O] in f32, score[n,l,h,o] = q[n,l,h] . k[n,l,o,kv_head_of(h)].
// Any device; one batched matmul per (n, l, kv head) group, K never repeated.
at::Tensor qk_scores(const at::Tensor& q, const at::Tensor& k);

// Display order -> content order. scores [N, ..., O] with option o shown at display slot o;
// shown [N, O] int64: shown[n, j] = which content (index into the row's option list) sits at
// display slot j. Returns [N, ..., O] with out[..., c] = the score of content c.
at::Tensor to_content_order(const at::Tensor& scores, const at::Tensor& shown);

// The display permutation for `n_options` options in the given order (identity) or reversed.
std::vector<int64_t> display_order(int64_t n_options, bool reversed);

// Correct under both orders. c0, c1 [N, ..., O] content-order scores of the two orders; answer
// [N] int64 -> bool [N, ...]: the answer beats every other option, strictly, under both orders
// (answer_margin > 0 twice). A tie is wrong: a head that scores every option the same must not
// look right whenever the answer happens to be content 0.
at::Tensor correct_both_orders(const at::Tensor& c0, const at::Tensor& c1, const at::Tensor& answer);

// Same content picked under both orders: argmax c0 == argmax c1, bool [N, ...].
at::Tensor same_choice_both_orders(const at::Tensor& c0, const at::Tensor& c1);

// Margin of the answer over the best other option, [N, ...]: c[answer] - max_{o != answer} c[o].
// Positive = right with no tie.
at::Tensor answer_margin(const at::Tensor& c, const at::Tensor& answer);

// The mean of a bool/float [N, ...] tensor over the rows `rows` (indices into N) -> [...] f64.
at::Tensor mean_over_rows(const at::Tensor& x, const std::vector<int64_t>& rows);

// ------------------------------------------------------------------ head selection
// Heads sorted by accuracy (desc), then margin (desc), then (layer, head) (asc).
// accuracy, margin [L, H].
std::vector<RankedHead> rank_heads(const at::Tensor& accuracy, const at::Tensor& margin);

// ------------------------------------------------------------------ top-k ensemble
// Per-head normalisation of score differences, fitted on the calibration rows:
//   d[n, c] = s[n, c] - mean_o s[n, o]         (the score difference of content c)
//   z[n, c] = (d[n, c] - mu[c]) / sigma        (mu per content slot, sigma pooled)
// mu and sigma over both orders' calibration rows. Shapes: mu [L, H, O], sigma [L, H].
struct ZScore {
  at::Tensor mu, sigma;
};
ZScore fit_zscore(const at::Tensor& c0, const at::Tensor& c1, const std::vector<int64_t>& rows);
// content-order scores [N, L, H, O] -> z [N, L, H, O]
at::Tensor zscore(const at::Tensor& c, const ZScore& z);
// Ensemble of heads (layer, head): mean of their z-scored differences, [N, O].
at::Tensor ensemble_scores(const at::Tensor& z, const std::vector<std::pair<int64_t, int64_t>>& heads);

}  // namespace rs::qk
