// GGUF -> Model with native weights: the matrices stay where they are in the mapped file (no
// copy, no dequantisation: resident memory is the file's pages), norms and biases become small
// f32 tensors. Tensor names and shapes as in load_gguf.cpp (llama.cpp's naming).
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "io/gguf.h"
#include "kernels/quant_matmul.h"
#include "model/model.h"
#include "model/native.h"

namespace rs {

int64_t NativeWeights::nbytes() const {
  auto bytes = [](const QuantMatrix& q) { return static_cast<int64_t>(q.row_bytes) * q.rows; };
  int64_t n = bytes(embed) + (lm_head.data == embed.data ? 0 : bytes(lm_head));
  for (const auto& l : layers)
    for (const QuantMatrix* q : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) n += bytes(*q);
  return n;
}

Model load_gguf_native(const std::string& path) {
  std::shared_ptr<const gguf::File> file = gguf::File::open(path);
  const gguf::File& f = *file;
  Model m;
  m.config = config_from_gguf(f);
  const ModelConfig& c = m.config;
  if (c.norm_weight_plus_one)
    fail(path, ": native weights expect norm weights stored as they multiply (a (1 + w) norm "
         "convention is not supported here); use --weights dequant");
  const int64_t D = c.d_model, H = c.n_head, Hkv = c.n_head_kv, dh = c.d_head, F = c.d_ff, V = c.n_vocab;
  if (D % kernels::kActBlock != 0 || F % kernels::kActBlock != 0 || (H * dh) % kernels::kActBlock != 0)
    fail(path, ": native weights need d_model, d_ff and n_head*d_head to be multiples of 32 (found ",
         D, ", ", F, ", ", H * dh, "); use --weights dequant");
  const bool permuted = c.arch == "llama";  // llama.cpp permutes q/k rows for llama only

  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, int64_t qk_heads = 0) {
    const gguf::TensorInfo& ti = f.tensor(name);
    if (ti.ne != std::vector<int64_t>{cols, rows})
      fail(path, ": tensor ", name, ": expected ne [", cols, ", ", rows, "], found ", ti.ne.size(), " dims [",
           ti.ne.empty() ? 0 : ti.ne[0], ti.ne.size() > 1 ? ", " + std::to_string(ti.ne[1]) : "", "]");
    if (!kernels::matmul_supported(ti.type) || cols % ggml_block_size(ti.type) != 0)
      fail(path, ": tensor ", name, ": type ", ggml_type_name(ti.type),
           " has no native kernel; use --weights dequant");
    QuantMatrix q{ti.type, ti.data, rows, cols, ggml_row_bytes(ti.type, cols), {}};
    if (qk_heads > 0) {
      // GGUF row h*d + 2i + j holds HF row h*d + j*d/2 + i (see gguf_to_hf_qk_rows)
      const int64_t d = rows / qk_heads;
      q.hf_row.resize(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t h = r / d, rem = r % d;
        q.hf_row[static_cast<size_t>(r)] = static_cast<int32_t>(h * d + (rem % 2) * (d / 2) + rem / 2);
      }
    }
    return q;
  };
  // small f32 tensors (norms, biases), dequantised
  auto vec = [&](const std::string& name, int64_t n, int64_t qk_heads = 0) {
    const gguf::TensorInfo& ti = f.tensor(name);
    if (ti.n_elements() != n) fail(path, ": tensor ", name, ": expected ", n, " elements, found ", ti.n_elements());
    std::vector<float> v = f.dequantize_tensor(ti);
    at::Tensor t = at::from_blob(v.data(), {n}, at::kFloat).clone();
    return qk_heads > 0 ? gguf_to_hf_qk_rows(t, qk_heads) : t;
  };

  auto nw = std::make_shared<NativeWeights>();
  nw->embed = matrix("token_embd.weight", V, D);
  nw->lm_head = c.tied_embeddings ? nw->embed : matrix("output.weight", V, D);
  m.layers.resize(static_cast<size_t>(c.n_layer));
  nw->layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& w = m.layers[static_cast<size_t>(l)];
    NativeLayer& q = nw->layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    w.ln1 = vec(p + "attn_norm.weight", D);
    w.ln2 = vec(p + "ffn_norm.weight", D);
    if (c.qk_norm) {
      w.q_norm = vec(p + "attn_q_norm.weight", dh);
      w.k_norm = vec(p + "attn_k_norm.weight", dh);
    }
    if (c.post_attn_norm) w.post_attn_norm = vec(p + "post_attention_norm.weight", D);
    if (c.post_mlp_norm) w.post_mlp_norm = vec(p + "post_ffw_norm.weight", D);
    q.q = matrix(p + "attn_q.weight", H * dh, D, permuted ? H : 0);
    q.k = matrix(p + "attn_k.weight", Hkv * dh, D, permuted ? Hkv : 0);
    q.v = matrix(p + "attn_v.weight", Hkv * dh, D);
    q.o = matrix(p + "attn_output.weight", D, H * dh);
    q.gate = matrix(p + "ffn_gate.weight", F, D);
    q.up = matrix(p + "ffn_up.weight", F, D);
    q.down = matrix(p + "ffn_down.weight", D, F);
    if (c.attn_qkv_bias) {
      w.q_bias = vec(p + "attn_q.bias", H * dh, permuted ? H : 0);
      w.k_bias = vec(p + "attn_k.bias", Hkv * dh, permuted ? Hkv : 0);
      w.v_bias = vec(p + "attn_v.bias", Hkv * dh);
    }
    if (c.attn_out_bias) w.o_bias = vec(p + "attn_output.bias", D);
    if (c.mlp_bias) {
      w.gate_bias = f.find_tensor(p + "ffn_gate.bias") ? vec(p + "ffn_gate.bias", F) : at::zeros({F}, at::kFloat);
      w.up_bias = vec(p + "ffn_up.bias", F);
      w.down_bias = vec(p + "ffn_down.bias", D);
    }
  }
  m.final_norm = vec("output_norm.weight", D);
  if (f.find_tensor("rope_freqs.weight")) {
    const int64_t n_rot = c.rope.n_rot ? c.rope.n_rot : dh;
    m.rope_freq_factors = vec("rope_freqs.weight", n_rot / 2);
  }
  nw->file = std::move(file);
  m.native = std::move(nw);
  init_rope(m);
  log_debug(str("loaded ", path, " with native weights (", ggml_type_name(m.native->embed.type), " embedding, ",
                ggml_type_name(m.native->layers[0].q.type), " layers; kernels: ",
                kernels::isa_name(kernels::active_isa()), ")"));
  return m;
}

}  // namespace rs
