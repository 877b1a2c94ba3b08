// Model bookkeeping: names, parameter counts, random construction, RoPE frequencies, the GGUF
// q/k row permutation, left-padded batches, the KV cache, thread setup.
#include "core/text.h"
#include "model/model.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "core/error.h"

namespace rs {

void set_threads(int n) {
  // The default follows OpenMP's own convention, so that a caller running several processes side
  // by side (ctest -j: tests/CMakeLists.txt) can give each one thread: two threads per process on
  // two busy cores spent about half their CPU time waiting at barriers (CI time, issue 21).
  if (n <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    char* end = nullptr;
    const long v = env ? std::strtol(env, &end, 10) : 0;
    const bool valid = env && end != env && *end == '\0' && v > 0 && v <= 4096;
    n = valid ? static_cast<int>(v) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  at::set_num_threads(n);
}

// ------------------------------------------------------------------------------------ names
std::vector<std::pair<std::string, at::Tensor>> Model::named_weights() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto put = [&](const std::string& name, const at::Tensor& t) {
    if (t.defined()) out.emplace_back(name, t);
  };
  const bool gemma_norms = config.post_attn_norm;  // gemma names its pre-MLP norm differently
  put("model.embed_tokens.weight", embed);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& w = layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    put(p + "input_layernorm.weight", w.ln1);
    put(p + "self_attn.q_proj.weight", w.q);
    put(p + "self_attn.q_proj.bias", w.q_bias);
    put(p + "self_attn.k_proj.weight", w.k);
    put(p + "self_attn.k_proj.bias", w.k_bias);
    put(p + "self_attn.v_proj.weight", w.v);
    put(p + "self_attn.v_proj.bias", w.v_bias);
    put(p + "self_attn.o_proj.weight", w.o);
    put(p + "self_attn.o_proj.bias", w.o_bias);
    put(p + "self_attn.q_norm.weight", w.q_norm);
    put(p + "self_attn.k_norm.weight", w.k_norm);
    if (gemma_norms) {
      put(p + "post_attention_layernorm.weight", w.post_attn_norm);
      put(p + "pre_feedforward_layernorm.weight", w.ln2);
      put(p + "post_feedforward_layernorm.weight", w.post_mlp_norm);
    } else {
      put(p + "post_attention_layernorm.weight", w.ln2);
    }
    put(p + "mlp.gate_proj.weight", w.gate);
    put(p + "mlp.gate_proj.bias", w.gate_bias);
    put(p + "mlp.up_proj.weight", w.up);
    put(p + "mlp.up_proj.bias", w.up_bias);
    put(p + "mlp.down_proj.weight", w.down);
    put(p + "mlp.down_proj.bias", w.down_bias);
  }
  put("model.norm.weight", final_norm);
  if (!config.tied_embeddings) put("lm_head.weight", lm_head);
  return out;
}

at::Tensor Model::weight(const std::string& hf_name) const {
  if (native)
    fail(config.source, ": weight '", hf_name, "' is kept quantised (native weights); load with "
         "--weights dequant (LoadOptions::weights = Dequantize) to read or edit weights");
  const auto all = named_weights();
  for (const auto& [n, t] : all)
    if (n == hf_name) return t;
  if (hf_name == "lm_head.weight") return lm_head;
  std::vector<std::pair<size_t, std::string>> near;
  for (const auto& [n, t] : all) near.emplace_back(edit_distance(hf_name, n), n);
  std::sort(near.begin(), near.end());
  std::string list;
  for (size_t i = 0; i < near.size() && i < 3; ++i) list += (i ? ", " : "") + near[i].second;
  fail(config.source, ": no weight named '", hf_name, "' (nearest: ", list, ")");
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_weights()) n += t.numel();
  return n;
}

int64_t Model::nbytes() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_weights()) n += t.numel() * static_cast<int64_t>(t.element_size());
  return n;
}

std::vector<std::pair<std::string, at::Tensor>> Model::make_trainable() {
  if (native)
    fail(config.source, ": native (quantised) weights cannot be trained; load with --weights dequant");
  const bool tied = lm_head.defined() && lm_head.is_same(embed);
  auto leaf = [](at::Tensor& t) {
    if (t.defined()) t = t.detach().clone().set_requires_grad(true);
  };
  leaf(embed);
  for (auto& w : layers) {
    w.qkv = at::Tensor();
    w.qkv_bias = at::Tensor();
    w.gate_up = at::Tensor();
    for (at::Tensor* t : {&w.ln1, &w.q, &w.k, &w.v, &w.o, &w.q_bias, &w.k_bias, &w.v_bias,
                          &w.o_bias, &w.q_norm, &w.k_norm, &w.post_attn_norm, &w.ln2, &w.gate,
                          &w.up, &w.down, &w.gate_bias, &w.up_bias, &w.down_bias, &w.post_mlp_norm})
      leaf(*t);
  }
  leaf(final_norm);
  if (tied) lm_head = embed;
  else leaf(lm_head);
  return named_weights();
}

// ------------------------------------------------------------------------- fused buffers
// Concatenate q,k,v (and gate,up) rows into one matrix and turn the originals into row views of
// it: one GEMM instead of three reads the activations once and keeps the BLAS tiles full.
LayerWeights allocate_layer_f32(const ModelConfig& c, bool keep_fused) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const int64_t D = c.d_model, F = c.d_ff, H = c.n_head, Hkv = c.n_head_kv, dh = c.d_head;
  LayerWeights w;
  w.ln1 = at::empty({D}, f32);
  at::Tensor qkv = at::empty({(H + 2 * Hkv) * dh, D}, f32);
  w.q = qkv.narrow(0, 0, H * dh);
  w.k = qkv.narrow(0, H * dh, Hkv * dh);
  w.v = qkv.narrow(0, (H + Hkv) * dh, Hkv * dh);
  if (keep_fused) w.qkv = qkv;
  if (c.attn_qkv_bias) {
    at::Tensor b = at::empty({(H + 2 * Hkv) * dh}, f32);
    w.q_bias = b.narrow(0, 0, H * dh);
    w.k_bias = b.narrow(0, H * dh, Hkv * dh);
    w.v_bias = b.narrow(0, (H + Hkv) * dh, Hkv * dh);
    if (keep_fused) w.qkv_bias = b;
  }
  w.o = at::empty({D, H * dh}, f32);
  if (c.attn_out_bias) w.o_bias = at::empty({D}, f32);
  w.ln2 = at::empty({D}, f32);
  at::Tensor gate_up = at::empty({2 * F, D}, f32);
  w.gate = gate_up.narrow(0, 0, F);
  w.up = gate_up.narrow(0, F, F);
  if (keep_fused) w.gate_up = gate_up;
  w.down = at::empty({D, F}, f32);
  if (c.qk_norm) {
    w.q_norm = at::empty({dh}, f32);
    w.k_norm = at::empty({dh}, f32);
  }
  if (c.post_attn_norm) w.post_attn_norm = at::empty({D}, f32);
  if (c.post_mlp_norm) w.post_mlp_norm = at::empty({D}, f32);
  if (c.mlp_bias) {
    w.gate_bias = at::empty({F}, f32);
    w.up_bias = at::empty({F}, f32);
    w.down_bias = at::empty({D}, f32);
  }
  return w;
}

void fuse_layer_weights(LayerWeights& w) {
  auto fuse = [](std::vector<at::Tensor*> parts) {
    std::vector<at::Tensor> ts;
    for (auto* p : parts) ts.push_back(*p);
    at::Tensor all = at::cat(ts, 0);
    int64_t row = 0;
    for (auto* p : parts) {
      const int64_t n = p->size(0);
      *p = all.narrow(0, row, n);
      row += n;
    }
    return all;
  };
  w.qkv = fuse({&w.q, &w.k, &w.v});
  if (w.q_bias.defined() && w.k_bias.defined() && w.v_bias.defined())
    w.qkv_bias = fuse({&w.q_bias, &w.k_bias, &w.v_bias});
  w.gate_up = fuse({&w.gate, &w.up});
}

// --------------------------------------------------------------------------------- random
Model make_random_model(const ModelConfig& cfg, uint64_t seed, const LoadOptions& opts,
                        double init_std) {
  cfg.validate();
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  auto randn = [&](std::vector<int64_t> shape) {
    return at::normal(0.0, init_std, shape, gen, f32);
  };
  auto ones = [&](int64_t n) { return at::ones({n}, f32); };
  const int64_t D = cfg.d_model, H = cfg.n_head, Hkv = cfg.n_head_kv, dh = cfg.d_head,
                F = cfg.d_ff, V = cfg.n_vocab;
  Model m;
  m.config = cfg;
  m.embed = randn({V, D});
  m.layers.resize(static_cast<size_t>(cfg.n_layer));
  for (auto& w : m.layers) {
    w.ln1 = ones(D);
    w.q = randn({H * dh, D});
    w.k = randn({Hkv * dh, D});
    w.v = randn({Hkv * dh, D});
    w.o = randn({D, H * dh});
    if (cfg.attn_qkv_bias) {
      w.q_bias = randn({H * dh});
      w.k_bias = randn({Hkv * dh});
      w.v_bias = randn({Hkv * dh});
    }
    if (cfg.attn_out_bias) w.o_bias = randn({D});
    if (cfg.qk_norm) {
      w.q_norm = ones(dh);
      w.k_norm = ones(dh);
    }
    if (cfg.post_attn_norm) w.post_attn_norm = ones(D);
    if (cfg.post_mlp_norm) w.post_mlp_norm = ones(D);
    w.ln2 = ones(D);
    w.gate = randn({F, D});
    w.up = randn({F, D});
    w.down = randn({D, F});
    if (cfg.mlp_bias) {
      w.gate_bias = randn({F});
      w.up_bias = randn({F});
      w.down_bias = randn({D});
    }
  }
  m.final_norm = ones(D);
  m.lm_head = cfg.tied_embeddings ? m.embed : randn({V, D});
  // Move/convert, then fuse on the target (the views must point into the final buffers).
  auto move = [&](at::Tensor& t) {
    if (t.defined()) t = t.to(opts.device, opts.dtype);
  };
  move(m.embed);
  for (auto& w : m.layers)
    for (at::Tensor* t : {&w.ln1, &w.q, &w.k, &w.v, &w.o, &w.q_bias, &w.k_bias, &w.v_bias,
                          &w.o_bias, &w.q_norm, &w.k_norm, &w.post_attn_norm, &w.ln2, &w.gate,
                          &w.up, &w.down, &w.gate_bias, &w.up_bias, &w.down_bias, &w.post_mlp_norm})
      move(*t);
  move(m.final_norm);
  if (cfg.tied_embeddings) m.lm_head = m.embed;
  else move(m.lm_head);
  if (opts.fuse)
    for (auto& w : m.layers) fuse_layer_weights(w);
  init_rope(m);
  return m;
}

// ----------------------------------------------------------------------------------- RoPE
// inv_freq[i] = theta^(-2i/n_rot), i < n_rot/2 (RoFormer, arXiv 2104.09864, eq. 15), computed in
// f32 like the HF reference. Scaling, as in transformers' modeling_rope_utils:
//   linear: positions / factor  == inv_freq / factor;
//   llama3: wavelengths longer than original_max/low_freq_factor are divided by factor, shorter
//   than original_max/high_freq_factor kept, and the band between interpolated smoothly.
void init_rope(Model& m) {
  const RopeConfig& r = m.config.rope;
  const int64_t n_rot = r.n_rot ? r.n_rot : m.config.d_head;
  at::Tensor exponent = at::arange(0, n_rot, 2, at::kLong).to(at::kFloat) / static_cast<float>(n_rot);
  at::Tensor inv = 1.0 / at::pow(at::scalar_tensor(static_cast<float>(r.theta)), exponent);
  if (m.rope_freq_factors.defined()) {
    inv = inv / m.rope_freq_factors.to(at::kCPU, at::kFloat);
  } else if (r.scaling == RopeScalingType::Linear) {
    inv = inv / static_cast<float>(r.factor);
  } else if (r.scaling == RopeScalingType::Llama3) {
    const double old_ctx = static_cast<double>(r.original_max_position);
    const double low_wavelen = old_ctx / r.low_freq_factor;
    const double high_wavelen = old_ctx / r.high_freq_factor;
    auto acc = inv.accessor<float, 1>();
    for (int64_t i = 0; i < inv.size(0); ++i) {
      const double f = acc[i];
      const double wavelen = 2.0 * M_PI / f;
      double out = f;
      if (wavelen > low_wavelen) {
        out = f / r.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_ctx / wavelen - r.low_freq_factor) /
                               (r.high_freq_factor - r.low_freq_factor);
        out = (1 - smooth) * f / r.factor + smooth * f;
      }
      acc[i] = static_cast<float>(out);
    }
  }
  m.inv_freq = inv.to(m.embed.defined() ? m.embed.device() : at::Device(at::kCPU));
}

at::Tensor local_inv_freq(const Model& m) {
  const double theta = m.config.rope_theta_local;
  if (!(theta > 0)) return {};
  const int64_t n_rot = m.config.rope.n_rot ? m.config.rope.n_rot : m.config.d_head;
  // inv_freq[i] = theta^(-2i/n_rot), f32 as init_rope
  const at::Tensor exponent = at::arange(0, n_rot, 2, at::kLong).to(at::kFloat) / static_cast<float>(n_rot);
  const at::Tensor inv = 1.0 / at::pow(at::scalar_tensor(static_cast<float>(theta)), exponent);
  return inv.to(m.inv_freq.defined() ? m.inv_freq.device() : at::Device(at::kCPU));
}

// ------------------------------------------------------------------- GGUF q/k permutation
at::Tensor gguf_to_hf_qk_rows(const at::Tensor& w, int64_t n_head) {
  // GGUF [n_head, d/2, 2, rest] -> HF [n_head, 2, d/2, rest]
  const int64_t rows = w.size(0), d = rows / n_head;
  if (rows % n_head != 0 || d % 2 != 0)
    fail("q/k permutation: ", rows, " rows do not split into ", n_head, " heads of even size");
  auto sizes = w.sizes().vec();
  std::vector<int64_t> shape = {n_head, d / 2, 2};
  shape.insert(shape.end(), sizes.begin() + 1, sizes.end());
  return w.reshape(shape).transpose(1, 2).reshape(sizes).contiguous();
}

at::Tensor hf_to_gguf_qk_rows(const at::Tensor& w, int64_t n_head) {
  const int64_t rows = w.size(0), d = rows / n_head;
  if (rows % n_head != 0 || d % 2 != 0)
    fail("q/k permutation: ", rows, " rows do not split into ", n_head, " heads of even size");
  auto sizes = w.sizes().vec();
  std::vector<int64_t> shape = {n_head, 2, d / 2};
  shape.insert(shape.end(), sizes.begin() + 1, sizes.end());
  return w.reshape(shape).transpose(1, 2).reshape(sizes).contiguous();
}

// ------------------------------------------------------------------------------- batching
Batch make_batch(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id, at::Device device) {
  if (seqs.empty()) fail("make_batch: no sequences");
  size_t T = 0;
  for (const auto& s : seqs) T = std::max(T, s.size());
  if (T == 0) fail("make_batch: every sequence is empty");
  const int64_t B = static_cast<int64_t>(seqs.size());
  at::Tensor tokens = at::full({B, static_cast<int64_t>(T)}, pad_id, at::kLong);
  at::Tensor mask = at::zeros({B, static_cast<int64_t>(T)}, at::kLong);
  auto ta = tokens.accessor<int64_t, 2>();
  auto ma = mask.accessor<int64_t, 2>();
  Batch b;
  for (int64_t i = 0; i < B; ++i) {
    const auto& s = seqs[static_cast<size_t>(i)];
    if (s.empty()) fail("make_batch: sequence ", i, " is empty");
    const size_t off = T - s.size();  // left padding
    for (size_t t = 0; t < s.size(); ++t) {
      ta[i][static_cast<int64_t>(off + t)] = s[t];
      ma[i][static_cast<int64_t>(off + t)] = 1;
    }
    b.lengths.push_back(static_cast<int64_t>(s.size()));
  }
  b.tokens = tokens.to(device);
  b.mask = mask.to(device);
  return b;
}

void KVCache::select_rows(const at::Tensor& rows) {
  if (empty()) return;
  const at::Tensor idx = rows.to(mask.device(), at::kLong);
  for (auto& t : k) t = t.index_select(0, idx);
  for (auto& t : v) t = t.index_select(0, idx);
  mask = mask.index_select(0, idx);
  n_real = n_real.index_select(0, idx);
}

}  // namespace rs
