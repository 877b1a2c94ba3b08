// The forward pass of a decoder-only transformer (llama / qwen2; gemma3 options inline), read
// top to bottom: embed -> L x [norm -> attention -> residual -> norm -> MLP -> residual] ->
// final norm -> unembed. One implementation for inference, cached decoding and autograd.
// Every named intermediate goes through H(...), the hook point of the same name (hooks/hooks.h);
// an unhooked point costs one table lookup. Shapes: B batch, T new tokens, K = cached + new key
// columns, D d_model, H / Hkv query / key-value heads, G = H / Hkv, dh head dim, F d_ff, V vocab.
#include <algorithm>
#include <cmath>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "hooks/hooks.h"
#include "model/layers.h"
#include "model/model.h"
#include "model/native.h"

namespace rs {
namespace {

// Everything one call shares between layers.
struct Step {
  const Model& m;
  Hooks* hooks;
  HookContext ctx;
  KVCache* cache;
  int64_t B, T, past, K;
  layers::RopeTables rope;             // cos/sin for this call's positions
  layers::RopeTables rope_local;       // the same for sliding-window layers' base (gemma3), or empty
  at::Tensor bias, bias_sliding;        // additive attention masks [B|1, 1, 1, T, K] (or undefined)
  double q_scale;

  // H(point, layer, x): the hook point. Zero cost when nothing is attached there.
  at::Tensor H(HookPoint p, int layer, at::Tensor x) {
    if (hooks && hooks->active(p, layer)) return hooks->run(p, layer, std::move(x), ctx);
    return x;
  }
  bool hooked(HookPoint p, int layer) const { return hooks && hooks->active(p, layer); }
};

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  return b.defined() ? at::linear(x, w, b) : at::matmul(x, w.t());
}

// softmax over keys, in f32 for reduced dtypes (as the HF reference does). libtorch's CPU kernel
// for bf16 already computes in f32 and rounds once, so it gives the same bits without the two
// conversions (6x faster; tests/model/test_bf16_softmax.cpp checks the equality).
at::Tensor softmax_keys(const at::Tensor& x) {
  const auto dt = x.scalar_type();
  if (dt == at::kBFloat16 && x.is_cpu()) return at::softmax(x, -1);
  return dt == at::kHalf || dt == at::kBFloat16 ? at::softmax(x, -1, at::kFloat).to(dt) : at::softmax(x, -1);
}

// The attention core  z = softmax(q k^T / sqrt(dh) + mask) v  on the grouped layout:
// qh [B, Hkv, G*T, dh] (already scaled), k_all / v_all [B, Hkv, K, dh], bias [B|1, 1, 1, T, K]
// -> z [B, Hkv, G*T, dh]. Scores and pattern go through their hooks as [B, H, T, K].
//
// Batched version (autograd, CUDA): whole-tensor matmuls.
at::Tensor attention_core_batched(Step& s, int l, const at::Tensor& qh, const at::Tensor& k_all,
                                  const at::Tensor& v_all, const at::Tensor& bias, bool hooked_attn) {
  const int64_t B = s.B, T = s.T, K = s.K, Hkv = qh.size(1), G = qh.size(2) / T, H = Hkv * G;
  at::Tensor scores = at::matmul(qh, k_all.transpose(-1, -2));        // [B, Hkv, G*T, K]
  if (bias.defined()) scores.view({B, Hkv, G, T, K}).add_(bias);
  at::Tensor probs;
  if (hooked_attn) {
    const at::Tensor sc = s.H(HookPoint::attn_scores, l, scores.view({B, H, T, K}));
    probs = s.H(HookPoint::pattern, l, softmax_keys(sc)).reshape({B, Hkv, G * T, K});
  } else {
    probs = softmax_keys(scores);
  }
  return at::matmul(probs, v_all);
}

// Inference on CPU: one task per (batch row, kv head), each running its GEMM - mask - softmax -
// GEMM while its [G*T, K] scores are still in cache, the tasks spread over the threads (measured
// 2.7x faster than the batched version on one thread for 8 x 256 tokens). When scores or
// patterns are hooked, the scores are gathered into one tensor for the hooks between the two
// GEMMs; the per-row arithmetic is the same either way, so a capture changes no bit.
at::Tensor attention_core_per_head(Step& s, int l, const at::Tensor& qh, const at::Tensor& k_all,
                                   const at::Tensor& v_all, const at::Tensor& bias, bool hooked_attn) {
  const int64_t B = s.B, T = s.T, K = s.K, Hkv = qh.size(1), GT = qh.size(2), G = GT / T, H = Hkv * G;
  at::Tensor zh = at::empty({B, Hkv, GT, qh.size(3)}, qh.options());
  auto bias_of = [&](int64_t b) { return bias.select(0, bias.size(0) == 1 ? 0 : b).select(0, 0); };  // [1, T, K]
  if (!hooked_attn) {
    at::parallel_for(0, B * Hkv, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t b = i / Hkv, h = i % Hkv;
        at::Tensor sc = at::mm(qh[b][h], k_all[b][h].t());               // [G*T, K]
        if (bias.defined()) sc.view({G, T, K}).add_(bias_of(b));
        at::Tensor out = zh[b][h];
        at::mm_out(out, softmax_keys(sc), v_all[b][h]);
      }
    });
    return zh;
  }
  at::Tensor scores = at::empty({B, Hkv, GT, K}, qh.options());
  at::parallel_for(0, B * Hkv, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / Hkv, h = i % Hkv;
      at::Tensor sc = scores[b][h];
      at::mm_out(sc, qh[b][h], k_all[b][h].t());
      if (bias.defined()) sc.view({G, T, K}).add_(bias_of(b));
    }
  });
  const at::Tensor sc = s.H(HookPoint::attn_scores, l, scores.view({B, H, T, K}));
  const at::Tensor probs = s.H(HookPoint::pattern, l, softmax_keys(sc)).reshape({B, Hkv, GT, K});
  at::parallel_for(0, B * Hkv, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / Hkv, h = i % Hkv;
      at::Tensor out = zh[b][h];
      at::mm_out(out, probs[b][h], v_all[b][h]);
    }
  });
  return zh;
}

// Grouped-query self-attention (Vaswani et al. 2017 eq. 1; GQA: Ainslie et al. 2023).
// h [B, T, D] (normalised residual) -> attention output [B, T, D].
at::Tensor attention(Step& s, int l, const at::Tensor& h) {
  const ModelConfig& c = s.m.config;
  const LayerWeights& w = s.m.layers[static_cast<size_t>(l)];
  const int64_t B = s.B, T = s.T, H = c.n_head, Hkv = c.n_head_kv, G = H / Hkv, dh = c.d_head;

  // q = h Wq^T + bq, k = h Wk^T + bk, v = h Wv^T + bv   (one fused GEMM when available)
  at::Tensor q, k, v;
  if (w.qkv.defined()) {
    const at::Tensor qkv = linear(h, w.qkv, w.qkv_bias);             // [B, T, (H + 2Hkv) dh]
    q = qkv.narrow(-1, 0, H * dh).view({B, T, H, dh});
    k = qkv.narrow(-1, H * dh, Hkv * dh).view({B, T, Hkv, dh});
    v = qkv.narrow(-1, (H + Hkv) * dh, Hkv * dh).view({B, T, Hkv, dh});
  } else {
    q = linear(h, w.q, w.q_bias).view({B, T, H, dh});
    k = linear(h, w.k, w.k_bias).view({B, T, Hkv, dh});
    v = linear(h, w.v, w.v_bias).view({B, T, Hkv, dh});
  }
  q = s.H(HookPoint::q, l, q);                                         // [B, T, H, dh] pre-RoPE
  k = s.H(HookPoint::k, l, k);                                         // [B, T, Hkv, dh]
  v = s.H(HookPoint::v, l, v);
  if (c.qk_norm) {                                                     // gemma3: per-head RMSNorm
    q = layers::rms_norm(q, w.q_norm, c.rms_eps, c.norm_weight_plus_one);
    k = layers::rms_norm(k, w.k_norm, c.rms_eps, c.norm_weight_plus_one);
  }

  // RoPE on q and k                           [B, T, H|Hkv, dh]
  // (gemma3: sliding-window layers rotate with their own base)
  const bool sliding = c.sliding_window > 0 && !c.layer_sliding.empty() && c.layer_sliding[static_cast<size_t>(l)];
  const layers::RopeTables& rope = sliding && s.rope_local.cos_full.defined() ? s.rope_local : s.rope;
  const at::Tensor q_rot = s.H(HookPoint::rot_q, l, layers::apply_rope(q, rope));
  const at::Tensor k_rot = s.H(HookPoint::rot_k, l, layers::apply_rope(k, rope));

  // Heads first. Queries grouped by their kv head: [B, Hkv, G*T, dh], so one batched GEMM per
  // kv head serves its G query heads and K/V are never repeated. The softmax scale 1/sqrt(dh)
  // goes on q here (T*dh multiplies instead of T*K), into a fresh copy.
  at::Tensor qh = q_rot.view({B, T, Hkv, G, dh}).permute({0, 2, 3, 1, 4}).clone(at::MemoryFormat::Contiguous);
  qh = qh.view({B, Hkv, G * T, dh}).mul_(s.q_scale);
  at::Tensor k_all, v_all;                                             // [B, Hkv, K, dh]
  if (s.cache) {
    at::Tensor& kc = s.cache->k[static_cast<size_t>(l)];
    at::Tensor& vc = s.cache->v[static_cast<size_t>(l)];
    kc.narrow(2, s.past, T).copy_(k_rot.permute({0, 2, 1, 3}));
    vc.narrow(2, s.past, T).copy_(v.permute({0, 2, 1, 3}));
    k_all = kc.narrow(2, 0, s.K);
    v_all = vc.narrow(2, 0, s.K);
  } else {
    k_all = k_rot.permute({0, 2, 1, 3}).contiguous();
    v_all = v.permute({0, 2, 1, 3}).contiguous();
  }

  const at::Tensor& bias = sliding ? s.bias_sliding : s.bias;
  const bool hooked_attn = s.hooked(HookPoint::attn_scores, l) || s.hooked(HookPoint::pattern, l);
  // Per-head tasks only pay off when there are enough of them to keep every thread busy.
  const bool per_head = !at::GradMode::is_enabled() && qh.device().is_cpu() &&
                        B * Hkv >= 4 * static_cast<int64_t>(at::get_num_threads());
  const at::Tensor zh = per_head
                            ? attention_core_per_head(s, l, qh, k_all, v_all, bias, hooked_attn)
                            : attention_core_batched(s, l, qh, k_all, v_all, bias, hooked_attn);
  // z: [B, Hkv, G*T, dh] -> [B, T, H, dh]
  at::Tensor z = zh.view({B, Hkv, G, T, dh}).permute({0, 3, 1, 2, 4}).reshape({B, T, H, dh});
  z = s.H(HookPoint::z, l, z);

  // out = z Wo^T (+ bo). Per head when hook_result is asked for: result[h] = z[h] Wo[:, h]^T;
  // the output is then rebuilt from the heads only if someone changes them (a capture alone
  // must not change a bit of the output).
  at::Tensor out;
  if (s.hooked(HookPoint::result, l)) {
    const at::Tensor wo = w.o.view({c.d_model, H, dh});
    at::Tensor result = at::einsum("bthd,mhd->bthm", {z, wo});         // [B, T, H, D]
    const bool changes = s.hooks->modifies(HookPoint::result, l);
    result = s.H(HookPoint::result, l, result);
    if (changes) {
      out = result.sum(2);
      if (w.o_bias.defined()) out = out + w.o_bias;
    }
  }
  if (!out.defined()) out = linear(z.reshape({B, T, H * dh}), w.o, w.o_bias);
  if (c.post_attn_norm) out = layers::rms_norm(out, w.post_attn_norm, c.rms_eps, c.norm_weight_plus_one);
  return out;
}

// Gated MLP (Shazeer 2020, arXiv 2002.05202): down( act(h Wg^T) * (h Wu^T) ). h [B, T, D].
at::Tensor mlp(Step& s, int l, const at::Tensor& h) {
  const ModelConfig& c = s.m.config;
  const LayerWeights& w = s.m.layers[static_cast<size_t>(l)];
  const int64_t F = c.d_ff;
  at::Tensor pre, up;
  if (w.gate_up.defined() && !w.gate_bias.defined()) {
    const at::Tensor gu = at::matmul(h, w.gate_up.t());               // [B, T, 2F]
    pre = gu.narrow(-1, 0, F);
    up = gu.narrow(-1, F, F);
  } else {
    pre = linear(h, w.gate, w.gate_bias);
    up = linear(h, w.up, w.up_bias);
  }
  pre = s.H(HookPoint::mlp_pre, l, pre);                               // gate pre-activation [B, T, F]
  const at::Tensor act = c.activation == Activation::SiLU ? at::silu(pre) : at::gelu(pre, "tanh");
  const at::Tensor post = s.H(HookPoint::mlp_post, l, act * up);       // [B, T, F]
  at::Tensor out = linear(post, w.down, w.down_bias);
  if (c.post_mlp_norm) out = layers::rms_norm(out, w.post_mlp_norm, c.rms_eps, c.norm_weight_plus_one);
  return out;
}

void grow_cache(KVCache& cache, const Model& m, int64_t B, int64_t needed) {
  const ModelConfig& c = m.config;
  if (cache.length > 0 && cache.mask.size(0) != B)
    fail("KV cache holds ", cache.mask.size(0), " rows but the batch has ", B,
         " (use KVCache::select_rows or clear())");
  if (needed <= cache.capacity) return;
  const int64_t cap = std::max<int64_t>({needed, 2 * cache.capacity, 64, cache.reserve});
  const auto opts = m.embed.options().requires_grad(false);
  cache.k.resize(static_cast<size_t>(c.n_layer));
  cache.v.resize(static_cast<size_t>(c.n_layer));
  for (size_t l = 0; l < cache.k.size(); ++l) {
    for (at::Tensor* t : {&cache.k[l], &cache.v[l]}) {
      at::Tensor fresh = at::empty({B, c.n_head_kv, cap, c.d_head}, opts);
      if (cache.length > 0) fresh.narrow(2, 0, cache.length).copy_(t->narrow(2, 0, cache.length));
      *t = fresh;
    }
  }
  cache.capacity = cap;
}

}  // namespace

at::Tensor forward(const Model& m, const at::Tensor& tokens_in, const at::Tensor& mask_in,
                   const ForwardOptions& o) {
  if (m.native) {
    if (o.start_at_layer > 0) fail("forward: start_at_layer needs dequantised weights (--weights dequant)");
    return forward_native(m, tokens_in, mask_in, o);  // weights kept quantised
  }
  const ModelConfig& c = m.config;
  const auto dev = m.device();
  if (!tokens_in.defined() || tokens_in.dim() != 2)
    fail("forward: tokens must be [batch, positions], found ", tokens_in.defined() ? tokens_in.dim() : 0, " dims");
  const int64_t B = tokens_in.size(0), T = tokens_in.size(1);
  if (B == 0 || T == 0) fail("forward: empty input (batch ", B, ", positions ", T, ")");
  const at::Tensor tokens = tokens_in.to(dev, at::kLong);
  const at::Tensor mask = mask_in.defined() ? mask_in.to(dev, at::kLong) : at::ones({B, T}, tokens.options());
  if (mask.sizes() != tokens.sizes()) fail("forward: mask shape differs from the tokens' shape");
  if (o.hooks && o.hooks->config().n_layer != c.n_layer)
    fail("forward: the hooks were made for a model with ", o.hooks->config().n_layer, " layers, this one has ", c.n_layer);
  {
    const auto mn = tokens.min().item<int64_t>(), mx = tokens.max().item<int64_t>();
    if (mn < 0 || mx >= c.n_vocab) fail("forward: token id ", mn < 0 ? mn : mx, " outside the vocabulary [0, ", c.n_vocab, ")");
  }

  KVCache* cache = o.cache;
  const int64_t past = cache ? cache->length : 0;
  // Position ids: real tokens before this one in its row (across the cache); pads clamp to 0.
  at::Tensor pos;
  if (o.positions.defined()) {
    pos = o.positions.to(dev, at::kLong);
    if (pos.sizes() != tokens.sizes()) fail("forward: positions shape differs from the tokens' shape");
  } else {
    at::Tensor base = cache && past > 0 ? cache->n_real.unsqueeze(1) : at::zeros({B, 1}, tokens.options());
    pos = (base + mask.cumsum(1) - 1).clamp_min(0);
  }
  const int64_t max_pos = pos.max().item<int64_t>();
  if (c.n_ctx_train > 0 && max_pos >= c.n_ctx_train)
    fail_as(ExitCode::kTooLong, "forward: position ", max_pos, " is beyond the model's context of ", c.n_ctx_train, " tokens (", c.source, ")");

  at::Tensor key_mask = mask;
  if (cache) {
    grow_cache(*cache, m, B, past + T);
    key_mask = past > 0 ? at::cat({cache->mask, mask}, 1) : mask;
  }
  const bool any_pad = !key_mask.all().item<bool>();

  Step s{m, o.hooks, HookContext{}, cache, B, T, past, past + T, {}, {}, {}, {}, 0.0};
  s.ctx.positions = pos;
  s.ctx.mask = mask;
  s.ctx.past = past;
  s.q_scale = c.attn_scale > 0 ? c.attn_scale : 1.0 / std::sqrt(static_cast<double>(c.d_head));
  const auto dt = m.dtype();
  s.rope = layers::rope_tables(pos, m.inv_freq, dt);
  s.bias = layers::attention_bias(key_mask, past, T, any_pad, 0, dt);
  if (c.sliding_window > 0) s.bias_sliding = layers::attention_bias(key_mask, past, T, any_pad, c.sliding_window, dt);
  if (c.rope_theta_local > 0) s.rope_local = layers::rope_tables(pos, local_inv_freq(m), dt);

  const int64_t first_layer = o.start_at_layer;
  const int64_t last_layer = o.stop_after_layer >= 0 ? std::min<int64_t>(o.stop_after_layer, c.n_layer - 1) : c.n_layer - 1;
  at::Tensor x;
  if (first_layer > 0) {
    if (first_layer > c.n_layer || first_layer > last_layer + 1)
      fail("forward: start_at_layer ", first_layer, " is beyond the last block to run (", last_layer, ")");
    if (!o.resid_in.defined() || o.resid_in.dim() != 3 || o.resid_in.size(0) != B || o.resid_in.size(1) != T ||
        o.resid_in.size(2) != c.d_model)
      fail("forward: start_at_layer needs resid_in [", B, ", ", T, ", ", c.d_model, "]");
    if (o.resid_in.scalar_type() != m.dtype() || o.resid_in.device() != dev)
      fail("forward: resid_in must have the model's dtype and device");
    x = o.resid_in;
  } else {
    // x = E[tokens] * embedding_scale             [B, T, D]
    x = at::embedding(m.embed, tokens);
    if (c.embedding_scale != 1.0) x = x * c.embedding_scale;
    x = s.H(HookPoint::embed, -1, x);
  }

  for (int l = static_cast<int>(first_layer); l <= last_layer; ++l) {
    const LayerWeights& w = m.layers[static_cast<size_t>(l)];
    x = s.H(HookPoint::resid_pre, l, x);
    // x = x + Attn(RMSNorm(x))
    const at::Tensor h1 = s.H(HookPoint::ln1_normalized, l, layers::rms_norm(x, w.ln1, c.rms_eps, c.norm_weight_plus_one));
    const at::Tensor attn_out = s.H(HookPoint::attn_out, l, attention(s, l, h1));
    x = s.H(HookPoint::resid_mid, l, x + attn_out);
    // x = x + MLP(RMSNorm(x))
    const at::Tensor h2 = s.H(HookPoint::ln2_normalized, l, layers::rms_norm(x, w.ln2, c.rms_eps, c.norm_weight_plus_one));
    const at::Tensor mlp_out = s.H(HookPoint::mlp_out, l, mlp(s, l, h2));
    x = s.H(HookPoint::resid_post, l, x + mlp_out);
  }
  if (cache) {
    cache->mask = key_mask;
    cache->n_real = (past > 0 ? cache->n_real : at::zeros({B}, mask.options())) + mask.sum(1);
    cache->length = past + T;
  }
  if (last_layer < c.n_layer - 1) return x;

  // Only the last column when asked: with left padding it is every row's last token, and the
  // unembedding is the single largest GEMM per position.
  if (o.logits == LogitsMode::Last && T > 1) {
    x = x.narrow(1, T - 1, 1);
    s.ctx.positions = pos.narrow(1, T - 1, 1);
    s.ctx.mask = mask.narrow(1, T - 1, 1);
  }
  x = s.H(HookPoint::ln_final_normalized, -1, layers::rms_norm(x, m.final_norm, c.rms_eps, c.norm_weight_plus_one));
  if (o.logits == LogitsMode::None) return x;
  // logits = x E^T (tied) or x W_U^T           [B, T|1, V], f32
  at::Tensor logits = at::matmul(x, m.lm_head.t());
  if (logits.scalar_type() == at::kHalf || logits.scalar_type() == at::kBFloat16) logits = logits.to(at::kFloat);
  if (c.final_logit_softcap > 0) logits = at::tanh(logits / c.final_logit_softcap) * c.final_logit_softcap;
  return s.H(HookPoint::logits, -1, logits);
}

}  // namespace rs
