// Architecture hyper-parameters: one struct holds everything the forward pass needs, built from
// GGUF metadata (<arch>.* keys, GGUF spec docs/gguf.md "LLM" section) or a Hugging Face
// config.json. Optional features (biases, rope scaling, the gemma3 extras) are plain fields with
// neutral defaults, so a new architecture sets fields instead of copying the forward pass.
// No libtorch here: the CLI's `info` and the tokenizer can include it cheaply.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rs {
namespace gguf { class File; }

enum class RopeScalingType { None, Linear, Llama3 };

// RoPE (Su et al. 2021, arXiv 2104.09864) in the Hugging Face half-split ("rotate_half") layout.
struct RopeConfig {
  double theta = 10000.0;            // base of inv_freq[i] = theta^(-2i/d_rot)
  int64_t n_rot = 0;                 // rotated dims per head (0 = d_head)
  RopeScalingType scaling = RopeScalingType::None;
  double factor = 1.0;               // linear: positions / factor; llama3: low-frequency divisor
  double low_freq_factor = 1.0;      // llama3 only (HF modeling_rope_utils "llama3")
  double high_freq_factor = 4.0;     // llama3 only
  int64_t original_max_position = 8192;  // llama3 only
};

enum class Activation { SiLU, GeluTanh };  // SwiGLU (llama, qwen2) / GeGLU (gemma)

struct ModelConfig {
  std::string arch;        // "llama", "qwen2", "gemma3" (its options below)
  std::string source;      // file or directory it came from (for messages)
  int64_t n_layer = 0;
  int64_t d_model = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t d_head = 0;      // usually d_model / n_head
  int64_t d_ff = 0;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0; // longest context the model was trained for (prompts beyond -> error)
  RopeConfig rope;
  double rms_eps = 1e-5;
  bool tied_embeddings = false;  // lm_head shares token_embd
  bool attn_qkv_bias = false;    // qwen2
  bool attn_out_bias = false;
  bool mlp_bias = false;

  // ---- optional, gemma3-style (all off for llama / qwen2) ----
  Activation activation = Activation::SiLU;
  bool qk_norm = false;           // RMSNorm on q and k per head before RoPE
  bool post_attn_norm = false;    // RMSNorm on the attention output before the residual add
  bool post_mlp_norm = false;     // RMSNorm on the MLP output before the residual add
  bool norm_weight_plus_one = false;  // RMSNorm multiplies by (1 + w) (gemma HF checkpoints;
                                      // a gemma GGUF stores 1 + w already: false there)
  double embedding_scale = 1.0;   // token embeddings times this (gemma: sqrt(d_model))
  double attn_scale = 0.0;        // query scale; 0 = 1/sqrt(d_head)
  int64_t sliding_window = 0;     // 0 = none
  std::vector<bool> layer_sliding;  // per layer: uses the sliding window (empty = none)
  double rope_theta_local = 0.0;  // theta for sliding layers, unscaled (0 = rope.theta and its scaling)
  double final_logit_softcap = 0.0;  // 0 = none

  int64_t group_size() const { return n_head / n_head_kv; }   // query heads per kv head
  int64_t n_params() const;       // parameters, counting a tied matrix once
  // Throws rs::Error naming `source` when sizes are inconsistent (n_head % n_head_kv, ...).
  void validate() const;
  // Bounded parsing: every block has tensors of its own, so a file holding n_tensors tensors
  // has at most that many blocks. Checked before a loader allocates per-block structures (a
  // 15 KB file claiming 117 million blocks took 21 GB; found by fuzz_gguf).
  void check_layers_fit(size_t n_tensors) const;
  std::string summary() const;    // one line: "llama L=30 d=576 H=9/3 ..."
};

const std::vector<std::string>& supported_architectures();   // {"llama", "qwen2", "gemma3"}

// From GGUF metadata (general.architecture, <arch>.block_count, .embedding_length,
// .feed_forward_length, .attention.head_count(_kv), .attention.key_length, .rope.freq_base,
// .rope.dimension_count, .rope.scaling.*, .attention.layer_norm_rms_epsilon, .context_length,
// .vocab_size or the token list length); gemma3 adds .attention.sliding_window (config.cpp says
// where each gemma3 option comes from). Tied = no output.weight tensor. Throws rs::Error
// "unsupported architecture 'X' in <file> (supported: llama, qwen2, gemma3)".
ModelConfig config_from_gguf(const gguf::File& file);

// From the text of a Hugging Face config.json (model_type llama / qwen2; LlamaForCausalLM,
// Qwen2ForCausalLM). `path` is used in messages.
ModelConfig config_from_hf_json(const std::string& json_text, const std::string& path);

}  // namespace rs
