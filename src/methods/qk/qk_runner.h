// The QK-score scan on a model: left-padded batched forwards that keep only what the score
// needs (the query at each prompt's last token and the keys at its option tokens, per layer)
// plus the model's own log-probabilities of each option as the answer.
//
//   rs::qk::ScanOptions o;  o.post_rope = false;  o.batch_size = 8;
//   rs::qk::ScanResult r = rs::qk::scan(model, prompts, o);   // r.scores [P, L, H, O]
//
// Positions differ per row (each prompt has its own option tokens), which the hooks' Positions
// lists do not express (one list for every row), so the scan gathers the columns itself in a
// custom hook: column = (T - length) + position under left padding. The forward's output is
// unchanged by these hooks (they return x as is).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "methods/qk/qk_data.h"
#include "model/model.h"

namespace rs::qk {

struct ScanOptions {
  bool post_rope = false;     // attn.hook_rot_q / hook_rot_k instead of hook_q / hook_k
  int64_t batch_size = 8;     // prompts per forward (sorted by length to waste little padding)
  bool logits = true;         // the model's own answer: first_token_lp and seq_lp below
  int64_t pad_id = 0;
  std::function<void(size_t n_done)> on_batch;  // progress: prompts finished so far
};

struct ScanResult {
  at::Tensor scores;            // [P, L, H, O] f32 CPU, display order (slot j of each prompt)
  at::Tensor first_token_lp;    // [P, O] f64 CPU: log p(first answer token of slot j | prompt)
  // [P, O] f64 CPU: log p(every answer token of slot j | prompt), summed over its tokens; the
  // same number as first_token_lp for a one-token answer. The later tokens are scored on the
  // prompt's KV cache, so the prompt is forwarded once (the scan's own forward) and the
  // unembedding runs only at the answer positions.
  at::Tensor seq_lp;
};

// Every prompt must have the same number of options. Throws rs::Error otherwise or when a
// prompt does not fit the model's context.
ScanResult scan(const Model& m, const std::vector<Prompt>& prompts, const ScanOptions& o);

// The captured vectors themselves, for tests (pre- vs post-RoPE): q [P, L, H, dh] and
// k [P, L, O, Hkv, dh] f32 CPU in prompt order.
struct Captured {
  at::Tensor q, k;
};
Captured capture_qk(const Model& m, const std::vector<Prompt>& prompts, const ScanOptions& o);

}  // namespace rs::qk
