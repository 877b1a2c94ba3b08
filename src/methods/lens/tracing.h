// Causal tracing for two-hop prompts (Li et al. 2024, arXiv 2402.14328, section 4.2; the
// patching of Meng et al. 2022, ROME, section 2.1, with a clean "guide" run as the source):
// run the guide prompt (bridge entity written in) once, keep its hidden states, and copy them
// into the compositional run one layer (resid) or one window of layers (attn / mlp) at a time,
// at the last token and at the subject's last token. METHODS.md section 4, step 2.
//
// The guide run is computed once per case (its cache is reused by every patched run). The
// patched runs are batched: one forward of L rows per (component, position), row l carrying the
// patch centred on layer l, so a full sweep is C x P forward calls of L rows, i.e. exactly
// L x C x P patched sequences, plus the guide and the unpatched run.
//
// p(answer) is the probability of the whole answer sequence (the answer tokens follow the
// prompt in the same forward; patches sit at prompt positions, so they act on every answer
// token through attention), and rank is the rank of the answer's first token at the last
// prompt position.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace rs::lens {

enum class Component { Resid, Attn, Mlp };
enum class PatchPosition { Last, Subject };
const char* component_name(Component c);          // "resid", "attn", "mlp"
const char* patch_position_name(PatchPosition p);  // "last", "subject"
// The hook a component patches: blocks.{l}.hook_resid_post / hook_attn_out / hook_mlp_out.
std::string component_hook(Component c, int layer);

// Layers patched for a run centred on `layer`: resid patches that layer alone; attn / mlp the
// window [layer - window/2, layer - window/2 + window) clipped to [0, L) (ROME's convention).
std::vector<int> patch_window(Component c, int layer, int window, int n_layer);

struct TraceInput {
  std::vector<int64_t> composed;   // composition prompt ids
  std::vector<int64_t> guide;      // guide prompt ids
  std::vector<int64_t> answer;     // answer ids (scored after each prompt)
  int64_t composed_subject_pos = -1;  // last token of the composed subject in `composed`
  int64_t guide_subject_pos = -1;     // last token of the bridge subject in `guide`
};

struct TraceOptions {
  std::vector<Component> components = {Component::Resid, Component::Attn, Component::Mlp};
  std::vector<PatchPosition> positions = {PatchPosition::Last, PatchPosition::Subject};
  int window = 6;
  int64_t max_batch = 0;  // rows per forward call; 0 = all L layers at once
};

struct TraceResult {
  // [C, P, L]: log p(answer) and first-token rank with the patch centred on layer l.
  at::Tensor logp, rank;
  double clean_logp = 0, guide_logp = 0;  // unpatched composition run; guide run
  int64_t clean_rank = 0, guide_rank = 0;
  int64_t patched_sequences = 0;  // rows run with a patch
  int64_t forward_calls = 0;      // forward() calls, including the guide and the clean run
  int64_t guide_runs = 0;         // always 1: the guide cache is reused
};

// Whole-answer log-probability and first-token rank from logits [B, T, V] of prompt+answer
// sequences whose prompt has n_prompt tokens (no padding). Returns {logp [B] f64, rank [B]}.
std::pair<at::Tensor, at::Tensor> answer_logp_rank(const at::Tensor& logits, int64_t n_prompt,
                                                   const std::vector<int64_t>& answer);

TraceResult trace_case(const Model& m, const TraceInput& in, const TraceOptions& opts = {});

// Patch run with an explicit source cache: runs `ids` with blocks.{l}.<hook> at position `pos`
// set to source[l] ([D]) for every l in layers; returns the logits [1, T, V]. Used by the tests
// ("patching a run with its own cache changes nothing").
at::Tensor run_patched(const Model& m, const std::vector<int64_t>& ids, Component c,
                       const std::vector<int>& layers, int64_t pos,
                       const std::vector<at::Tensor>& source);

}  // namespace rs::lens
