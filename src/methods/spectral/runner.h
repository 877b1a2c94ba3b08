// Running the spectral analysis on a model: one text -> per-layer spectral features and the two
// baselines (token count, mean token log-probability), all from ONE forward pass.
//
// Memory: nothing captures every layer's [H, N, N] pattern. A custom hook at each wanted
// blocks.{l}.attn.hook_pattern reduces the pattern to W [N, N] (graph.h) inside the forward and
// returns it unchanged; blocks.{l}.hook_resid_post is kept as the signal X [N, D]. The maths
// (features.h) then runs on all the wanted layers at once, in double precision.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "methods/spectral/features.h"
#include "model/model.h"

namespace rs::spectral {

struct RunOptions {
  FeatureOptions features;
  int64_t max_tokens = 512;   // longer token sequences are truncated to their first max_tokens
  std::vector<int> layers;    // which layers (empty: all)
  bool per_head = false;      // also features of each head's own graph
  int spectrum_points = 21;   // eigenvalue quantiles kept per layer (for the mean spectrum chart)
};

struct TextResult {
  int64_t n_tokens_raw = 0;   // tokens of the whole text
  int64_t n_tokens = 0;       // tokens analysed (<= max_tokens)
  bool truncated = false;
  double mean_logprob = 0;    // mean over tokens 1..n-1 of log p(t_i | t_<i), natural log
  at::Tensor features;        // [layers, kNumMetrics] double, CPU
  at::Tensor per_head;        // [layers, H, kNumMetrics] (per_head only)
  at::Tensor spectrum;        // [layers, spectrum_points]: eigenvalue quantiles 0..1
  double forward_seconds = 0; // forward pass incl. the hooks' reduction to W
  double maths_seconds = 0;   // eigendecompositions and features
};

// ids: the text's tokens (BOS included if the tokenizer adds one); at least 2.
// Throws rs::Error for fewer than 2 tokens or a layer out of range.
TextResult analyse_tokens(const Model& m, std::vector<int64_t> ids, const RunOptions& opts);

}  // namespace rs::spectral
