// One decode step over several independent sequences (continuous batching, as a server runs
// it): each sequence has its own KV cache (batch 1, its own length and positions) and its own
// hooks (steering); the matrix products run over all rows stacked together, so each weight row is
// read once per step for every sequence, and attention runs per sequence against its own cache.
//
//   rs::KVCache a, b;                        // each prefilled by rs::forward(m, prompt, {}, fo)
//   std::vector<rs::SeqStep> rows = {{tok_a, &a, &hooks_a}, {tok_b, &b, nullptr}};
//   at::Tensor logits = rs::decode_step(m, rows);   // [2, V]: the next token of a and of b
//
// A row's logits are those rs::forward(m, token [1, 1], {}, {cache, hooks}) gives for that
// sequence alone: with native weights the step shares forward_native's kernels and arithmetic
// (and the kernels compute each activation row on its own), so the two agree bit for bit;
// other weights run rs::forward once per row (any device), which is that by construction.
// A sequence joins by being prefilled into its own cache and leaves by not being passed again.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace rs {

struct SeqStep {
  int64_t token = 0;       // the token this sequence feeds next
  KVCache* cache = nullptr;  // its cache, batch 1, not empty (prefilled); appended to
  Hooks* hooks = nullptr;  // its hooks (captures, interventions), or none
};

// Logits [rows, V] (f32, on the model's device) of the next token of every row. Throws rs::Error
// for no rows, a missing or empty or multi-row cache, a token outside the vocabulary, a sequence
// at the end of the model's context.
at::Tensor decode_step(const Model& m, const std::vector<SeqStep>& rows);

}  // namespace rs
