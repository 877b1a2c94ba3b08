// The transformer: weights in the Hugging Face layout, one forward pass for inference, cached
// decoding and autograd training, with a hook point at every named intermediate.
//
// How to call it
//   rs::set_threads(0);                                   // libtorch starts with 1 thread here
//   rs::Model m = rs::load_model(path, {at::kCPU, at::kFloat});   // .gguf or HF directory
//   rs::Batch b = rs::make_batch({{1, 2, 3}, {4, 5}}, pad_id);    // LEFT padding + mask
//   rs::ForwardOptions o;  o.logits = rs::LogitsMode::Last;      // [B, 1, V] only
//   at::Tensor logits = rs::forward(m, b.tokens, b.mask, o);     // NoGradGuard is yours to set
//
//   // incremental decoding: the cache keeps K/V, the mask history and each row's next position
//   rs::KVCache cache;  o.cache = &cache;
//   logits = rs::forward(m, b.tokens, b.mask, o);                 // prefill
//   logits = rs::forward(m, next_tokens /*[B,1]*/, {}, o);        // one step (mask = all real)
//
//   // hooks (hooks/hooks.h): capture and interventions, active in every call they are passed to
//   rs::Hooks h(m.config);  h.capture("blocks.*.hook_resid_post", rs::Positions::last());
//   o.hooks = &h;  rs::forward(m, b.tokens, b.mask, o);  at::Tensor r = h.get("blocks.3.hook_resid_post");
//
// Conventions: tokens are int64 [B, T]; mask is [B, T] (1 = real token, 0 = left padding) for the
// NEW tokens; position ids default to "number of real tokens before this one in its row" (counted
// across the cache), so a left-padded batch computes exactly what each prompt computes alone.
// Left padding means column T-1 is every row's last token. Hook positions are these position ids.
#pragma once
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>  // at::NoGradGuard: not pulled in by ATen.h in libtorch 2.x

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"

namespace rs {

class Hooks;  // hooks/hooks.h
struct NativeWeights;  // model/native.h

// Set libtorch's intra-op threads (at::set_num_threads); n <= 0 -> OMP_NUM_THREADS when it is a
// number from 1 to 4096, else the number of cores.
void set_threads(int n);

// One decoder block's weights, Linear weights [out, in] as in HF (model.layers.{l}.*).
// Undefined tensors = absent (biases, gemma3 norms).
struct LayerWeights {
  at::Tensor ln1;            // input_layernorm.weight [D]
  at::Tensor q, k, v, o;     // self_attn.{q,k,v,o}_proj.weight [H*dh, D] [Hkv*dh, D] x2 [D, H*dh]
  at::Tensor q_bias, k_bias, v_bias, o_bias;
  at::Tensor q_norm, k_norm;               // gemma3: self_attn.{q,k}_norm.weight [dh]
  at::Tensor post_attn_norm;               // gemma3: post_attention_layernorm (after attention)
  at::Tensor ln2;            // post_attention_layernorm.weight (llama naming: before the MLP)
  at::Tensor gate, up, down; // mlp.{gate,up,down}_proj.weight [F, D] [F, D] [D, F]
  at::Tensor gate_bias, up_bias, down_bias;
  at::Tensor post_mlp_norm;                // gemma3
  // Fused copies for speed (forward uses them when defined): qkv = cat(q, k, v) rows, and
  // gate_up = cat(gate, up) rows. The q/k/v/gate/up tensors above are row-slices (views) of
  // these, so in-place edits through either name are seen by both.
  at::Tensor qkv, qkv_bias, gate_up;
};

struct Model {
  ModelConfig config;
  at::Tensor embed;          // model.embed_tokens.weight [V, D]
  std::vector<LayerWeights> layers;
  at::Tensor final_norm;     // model.norm.weight [D]
  at::Tensor lm_head;        // lm_head.weight [V, D]; the same tensor as embed when tied
  at::Tensor inv_freq;       // RoPE inverse frequencies [n_rot/2], f32, scaling applied
  at::Tensor rope_freq_factors;  // optional [n_rot/2] divisors from a GGUF rope_freqs.weight
  // Set when loaded with WeightFormat::Native (model/native.h): the matrices stay in their GGUF
  // block format and forward() runs our quantised kernels; embed, lm_head and the layers'
  // matrices are then undefined (norms, biases and inv_freq stay as f32 tensors).
  std::shared_ptr<const NativeWeights> native;

  at::Device device() const { return embed.defined() ? embed.device() : at::Device(at::kCPU); }
  at::ScalarType dtype() const { return embed.defined() ? embed.scalar_type() : at::kFloat; }
  // Every weight by its Hugging Face name (lm_head.weight omitted when tied). The tensors share
  // storage with the model: in-place edits (e.g. a CREME W_O update) change the model.
  std::vector<std::pair<std::string, at::Tensor>> named_weights() const;
  at::Tensor weight(const std::string& hf_name) const;   // throws with the nearest names
  int64_t n_params() const;
  int64_t nbytes() const;
  // Make every weight an independent autograd leaf (undoes the fused views) and set
  // requires_grad. Use before training; returns the leaves by HF name.
  std::vector<std::pair<std::string, at::Tensor>> make_trainable();
};

// How a GGUF's matrices are held: Dequantize = dense tensors of `dtype` (exact activations; the
// default, and what analyses use); Native = kept in the file's block format and multiplied by
// our SIMD kernels with 8-bit activations (fast decoding, CPU only; model/native.h).
enum class WeightFormat { Dequantize, Native };

struct LoadOptions {
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;  // kFloat, kBFloat16, kHalf
  bool fuse = true;                   // build the fused qkv / gate_up buffers
  WeightFormat weights = WeightFormat::Dequantize;  // Native: .gguf files only
};

// A .gguf file or a directory with config.json + *.safetensors. Throws rs::Error.
Model load_model(const std::string& path, const LoadOptions& opts = {});
Model load_gguf(const std::string& path, const LoadOptions& opts = {});
Model load_hf_dir(const std::string& dir, const LoadOptions& opts = {});
// Random weights (normal * init_std, norms = 1) straight from a config: tests, training.
Model make_random_model(const ModelConfig& cfg, uint64_t seed, const LoadOptions& opts = {},
                        double init_std = 0.02);
// Loaders: one block's uninitialised f32 CPU buffers, q/k/v as row views of one
// [(H + 2Hkv) dh, D] buffer and gate/up of one [2F, D] buffer (so dequantising straight into
// q, k, v fills the fused copy too); qkv/gate_up are kept in w only when keep_fused. Biases are
// allocated only where the config has them.
LayerWeights allocate_layer_f32(const ModelConfig& c, bool keep_fused);
// Build w.qkv / w.gate_up and make q,k,v / gate,up row views of them (the loaders do this).
void fuse_layer_weights(LayerWeights& w);
// Fill inv_freq from config.rope, or theta alone divided by rope_freq_factors when those are set
// (called by the loaders; call again after editing config.rope).
void init_rope(Model& m);
// The sliding-window layers' inverse frequencies (gemma3): theta = config.rope_theta_local, no
// scaling (HF applies rope_scaling to the global layers only), on m's device; undefined when
// rope_theta_local is 0 (every layer uses inv_freq).
at::Tensor local_inv_freq(const Model& m);

// Undo / apply llama.cpp's q/k row permutation (convert_hf_to_gguf.py LlamaModel.permute:
// w.reshape(n_head, 2, d/2, ...).swapaxes(1, 2)): GGUF row h*d + 2i + j <- HF row h*d + j*d/2 + i.
// w: [n_head * d_head, ...] (weights or biases). Returns a new tensor.
at::Tensor gguf_to_hf_qk_rows(const at::Tensor& w, int64_t n_head);
at::Tensor hf_to_gguf_qk_rows(const at::Tensor& w, int64_t n_head);

// ---------------------------------------------------------------- batching
struct Batch {
  at::Tensor tokens;   // [B, T] int64, left-padded with pad_id
  at::Tensor mask;     // [B, T] int64, 1 = real
  std::vector<int64_t> lengths;  // real tokens per row
};
Batch make_batch(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id,
                 at::Device device = at::kCPU);

// ---------------------------------------------------------------- KV cache
// Post-RoPE keys and values per layer, [B, Hkv, capacity, dh], grown by doubling; plus the mask
// of every cached column and each row's count of real tokens (the next position id).
struct KVCache {
  std::vector<at::Tensor> k, v;
  at::Tensor mask;        // [B, length] int64
  at::Tensor n_real;      // [B] int64
  int64_t length = 0;     // cached columns
  int64_t capacity = 0;
  int64_t reserve = 0;    // columns to allocate at the first growth (e.g. prompt + new tokens)
  void clear() { *this = KVCache(); }
  bool empty() const { return length == 0; }
  // Keep only rows `rows` (int64 [B']) e.g. to drop finished sequences.
  void select_rows(const at::Tensor& rows);
};

// ---------------------------------------------------------------- forward
enum class LogitsMode { All, Last, None };

struct ForwardOptions {
  LogitsMode logits = LogitsMode::All;
  KVCache* cache = nullptr;   // read and appended to when given
  Hooks* hooks = nullptr;     // capture + interventions (hooks/hooks.h)
  at::Tensor positions;       // optional [B, T] int64 position ids (default: see top)
  int64_t stop_after_layer = -1;  // >= 0: stop after that block (no final norm/logits)
  // > 0: begin at that block (as TransformerLens' start_at_layer) from resid_in [B, T, D], the
  // residual stream entering it (blocks.{start-1}.hook_resid_post as a run from the embedding
  // left it, after that hook), in the model's dtype. The embedding, the blocks before it and
  // their hooks do not run; tokens still give the positions, the mask and the cache's
  // bookkeeping, and a cache's layers below `start_at_layer` are neither written nor read (a
  // later call on that cache must start there too). Lets runs that differ only from some block
  // on share the blocks below it (steer eval). Not on native weights.
  int64_t start_at_layer = 0;
  at::Tensor resid_in;
};

// tokens [B, T] int64 (new tokens), mask [B, T] or undefined (all real).
// Returns logits [B, T, V] (All), [B, 1, V] (Last) or the final residual [B, T, D] (None, after
// ln_final when all layers ran). Logits are f32 for f32/bf16/f16 weights (f64 stays f64).
at::Tensor forward(const Model& m, const at::Tensor& tokens, const at::Tensor& mask,
                   const ForwardOptions& opts = {});

}  // namespace rs
