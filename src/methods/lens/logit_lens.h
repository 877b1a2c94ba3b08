// Logit lens (nostalgebraist 2020; used by Li et al. 2024, arXiv 2402.14328, section 4.1): read a
// hidden state as if it were the last one, by projecting resid_post[l] through the final norm and
// the unembedding. METHODS.md section 4, step 1. Optionally without the final norm, as the
// paper's released script did.
//
//   at::Tensor resid = lens_residuals(model, ids, {p});          // [L, P, D] on the model's device (every block)
//   at::Tensor lp = lens_logprobs(model, resid, /*final_norm=*/true);   // [L, P, V] f32 log-probs
//
// The lens reads one position at a time: what layer l "predicts" for the token after position p.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace rs::lens {

// resid [..., D] (any leading shape) -> log-softmax over the vocabulary [..., V], f32.
//   logits = RMSNorm_final(resid) W_U^T   (with final_norm)   or   resid W_U^T   (without)
// Applies the model's final logit soft-cap when it has one, so that at the last layer with the
// norm this equals the model's own log-probabilities.
at::Tensor lens_logprobs(const Model& m, const at::Tensor& resid, bool final_norm = true);

// The residual stream of each layer at the given positions of one prompt, in one forward pass.
// ids: token ids; positions: 0-based indices into ids (empty = every position); layers: block
// indices, or kEmbedLayer for the embeddings (core/layers.h), in the order wanted (empty = every
// block). Returns [layers, P, D] in the model's dtype on the model's device.
at::Tensor lens_residuals(const Model& m, const std::vector<int64_t>& ids,
                          const std::vector<int64_t>& positions, std::vector<int> layers = {});

// Rank (0 = top) of each token under log-probs lp [..., V] along the last axis: the number of
// tokens with a strictly larger value. tokens: one id; returns [...] int64.
at::Tensor token_rank(const at::Tensor& lp, int64_t token);

}  // namespace rs::lens
