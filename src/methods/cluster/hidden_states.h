// Hidden states of many sequences at one position per layer: the input of the clustering.
// Layer numbering follows Hugging Face's output_hidden_states: layer 0 is the token embedding
// (hook_embed), layer l >= 1 the residual stream after block l - 1
// (blocks.{l-1}.hook_resid_post). The paper's "layer 0" is the embedding layer.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace rs::cluster {

enum class Pool { Last, Mean };  // the last real token / the mean over every real token
Pool parse_pool(const std::string& s);  // "last" | "mean"; throws naming the value
const char* pool_name(Pool p);

// "all" -> 0..n_layer; "A-B" or "A" -> that inclusive range. Throws naming the value and the
// valid range.
std::vector<int64_t> parse_layer_range(const std::string& spec, int64_t n_layer);

struct HiddenStates {
  std::vector<at::Tensor> by_layer;  // one [N, D] f32 CPU tensor per requested layer
  at::Tensor final_last;             // [N, D] ln_final output at the last position (when asked)
};

// seqs: token ids (each non-empty), run in batches of batch_size (left-padded with pad_id),
// under no-grad. With want_final, all blocks run and final_last holds the normed residual at
// each row's last token (times lm_head^T it gives the next-token logits).
HiddenStates hidden_states(const Model& m, const std::vector<std::vector<int64_t>>& seqs,
                           int64_t pad_id, Pool pool, const std::vector<int64_t>& layers,
                           int64_t batch_size, bool want_final = false);

}  // namespace rs::cluster
