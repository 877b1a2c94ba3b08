// Hidden states of many sequences at one position per layer: the input of the clustering.
// Layers follow core/layers.h: block l is blocks.{l}.hook_resid_post, kEmbedLayer the token
// embeddings (hook_embed). The paper's "layer 0" (Hugging Face's hidden_states[0]) is `embed`;
// its layer l >= 1 is block l - 1.
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

// kEmbedLayer then every block 0..n_layer-1: the paper's layers 0..n_layer.
std::vector<int64_t> embed_and_blocks(int64_t n_layer);

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
