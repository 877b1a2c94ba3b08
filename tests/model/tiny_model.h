// Tiny random models for tests: built directly (make_random_model) and written through our own
// GGUF writer in llama.cpp's layout (q/k rows permuted for llama), so the loader is exercised.
#pragma once
#include <ATen/ATen.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "io/gguf.h"
#include "model/model.h"

namespace rs::test {

inline ModelConfig tiny_config(const std::string& arch = "llama", bool tied = true) {
  ModelConfig c;
  c.arch = arch;
  c.source = "tiny-" + arch;
  c.n_layer = 2;
  c.d_model = 32;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.d_head = 8;
  c.d_ff = 48;
  c.n_vocab = 61;
  c.n_ctx_train = 256;
  c.rope.theta = 10000.0;
  c.rms_eps = 1e-5;
  c.tied_embeddings = tied;
  c.attn_qkv_bias = arch == "qwen2";
  return c;
}

// Random weights with non-trivial norms so every weight matters.
inline Model tiny_model(const ModelConfig& c, uint64_t seed = 1, const LoadOptions& opts = {}) {
  Model m = make_random_model(c, seed, opts, 0.2);
  at::manual_seed(seed + 100);
  for (auto& [name, t] : m.named_weights())
    if (t.dim() == 1 && name.find("norm") != std::string::npos) t.copy_(1.0 + 0.1 * at::randn(t.sizes()));
  return m;
}

inline std::vector<float> to_vec(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Write m as a GGUF in llama.cpp's naming and layout (the inverse of load_gguf).
inline void write_gguf(const Model& m, const std::string& path) {
  using gguf::Value;
  const ModelConfig& c = m.config;
  gguf::Writer w;
  const std::string a = c.arch + ".";
  w.set("general.architecture", Value::of_string(c.arch));
  w.set(a + "block_count", Value::of_u32(static_cast<uint32_t>(c.n_layer)));
  w.set(a + "context_length", Value::of_u32(static_cast<uint32_t>(c.n_ctx_train)));
  w.set(a + "embedding_length", Value::of_u32(static_cast<uint32_t>(c.d_model)));
  w.set(a + "feed_forward_length", Value::of_u32(static_cast<uint32_t>(c.d_ff)));
  w.set(a + "attention.head_count", Value::of_u32(static_cast<uint32_t>(c.n_head)));
  w.set(a + "attention.head_count_kv", Value::of_u32(static_cast<uint32_t>(c.n_head_kv)));
  w.set(a + "rope.freq_base", Value::of_f32(static_cast<float>(c.rope.theta)));
  w.set(a + "attention.layer_norm_rms_epsilon", Value::of_f32(static_cast<float>(c.rms_eps)));
  const bool permute = c.arch == "llama";
  auto put = [&](const std::string& name, at::Tensor t) {
    t = t.detach().to(at::kCPU, at::kFloat).contiguous();
    std::vector<int64_t> ne(t.sizes().rbegin(), t.sizes().rend());  // ggml order: innermost first
    w.add_tensor_f32(name, ne, t.data_ptr<float>());
  };
  put("token_embd.weight", m.embed);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights& L = m.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    put(p + "attn_norm.weight", L.ln1);
    put(p + "attn_q.weight", permute ? hf_to_gguf_qk_rows(L.q, c.n_head) : L.q);
    put(p + "attn_k.weight", permute ? hf_to_gguf_qk_rows(L.k, c.n_head_kv) : L.k);
    put(p + "attn_v.weight", L.v);
    if (L.q_bias.defined()) {
      put(p + "attn_q.bias", permute ? hf_to_gguf_qk_rows(L.q_bias, c.n_head) : L.q_bias);
      put(p + "attn_k.bias", permute ? hf_to_gguf_qk_rows(L.k_bias, c.n_head_kv) : L.k_bias);
      put(p + "attn_v.bias", L.v_bias);
    }
    put(p + "attn_output.weight", L.o);
    put(p + "ffn_norm.weight", L.ln2);
    put(p + "ffn_gate.weight", L.gate);
    put(p + "ffn_up.weight", L.up);
    put(p + "ffn_down.weight", L.down);
  }
  put("output_norm.weight", m.final_norm);
  if (!c.tied_embeddings) put("output.weight", m.lm_head);
  w.write(path);
}

inline std::string temp_path(const std::string& name) {
  return "/tmp/rs_model_test_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace rs::test
