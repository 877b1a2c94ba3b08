// The multi-sequence decode step (batch_decode.h). With native weights it is forward_native's
// layer loop for one new token per row, except that positions, the KV cache, attention and hooks
// are per row; the shared pieces (products, norms, attention of one query, activation) are
// forward_native's own (native_detail.h), so a row computes exactly what it would alone.
#include "model/batch_decode.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hooks/hooks.h"
#include "model/native.h"
#include "model/native_detail.h"

namespace rs {
namespace {

float* grow(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

struct StepWorkspace {
  std::vector<float> x, h, q, k, v, z, gate, up;
  native_detail::RopeTables rope;
  std::vector<int64_t> pos, past;
};

// Hooks per row: row i's buffer is a [1, 1, ...] tensor for its own Hooks, as when it runs alone.
struct RowHooks {
  const std::vector<SeqStep>& rows;
  const std::vector<int64_t>& pos;
  const std::vector<int64_t>& past;
  bool any = false;
  void run(HookPoint p, int l, float* buf, int64_t per_row, std::vector<int64_t> shape) const {
    if (!any) return;
    for (size_t i = 0; i < rows.size(); ++i) {
      Hooks* h = rows[i].hooks;
      if (!h || !h->active(p, l)) continue;
      float* row = buf + static_cast<int64_t>(i) * per_row;
      HookContext ctx;
      ctx.positions = at::full({1, 1}, pos[i], at::kLong);
      ctx.mask = at::ones({1, 1}, at::kLong);
      ctx.past = past[i];
      at::Tensor t = at::from_blob(row, shape, at::kFloat).clone();
      at::Tensor r = h->run(p, l, t, ctx);
      if (!h->modifies(p, l)) continue;
      if (r.sizes() != t.sizes())
        fail("hook at ", HookId{p, l}.name(), " returned shape ", r.sizes(), ", expected ", t.sizes());
      r = r.to(at::kCPU, at::kFloat).contiguous();
      std::copy(r.data_ptr<float>(), r.data_ptr<float>() + r.numel(), row);
    }
  }
};

at::Tensor step_native(const Model& m, const std::vector<SeqStep>& rows) {
  namespace nd = native_detail;
  const ModelConfig& c = m.config;
  const NativeWeights& nw = *m.native;
  const int64_t N = static_cast<int64_t>(rows.size());
  const int64_t D = c.d_model, H = c.n_head, Hkv = c.n_head_kv, G = H / Hkv, dh = c.d_head, F = c.d_ff;
  const int64_t V = c.n_vocab;
  // A reference, so the pool's threads (which have their own thread_locals) see this thread's.
  thread_local StepWorkspace tl_ws;
  StepWorkspace& ws = tl_ws;

  // Positions: the real tokens each sequence holds (as forward_native counts them).
  ws.pos.resize(static_cast<size_t>(N));
  ws.past.resize(static_cast<size_t>(N));
  bool any_hooks = false;
  int64_t max_keys = 0;
  for (int64_t i = 0; i < N; ++i) {
    const SeqStep& r = rows[static_cast<size_t>(i)];
    KVCache& cache = *r.cache;
    ws.past[static_cast<size_t>(i)] = cache.length;
    ws.pos[static_cast<size_t>(i)] = cache.n_real.to(at::kCPU, at::kLong).item<int64_t>();
    if (c.n_ctx_train > 0 && ws.pos[static_cast<size_t>(i)] >= c.n_ctx_train)
      fail_as(ExitCode::kTooLong, "decode step: row ", i, " is at position ", ws.pos[static_cast<size_t>(i)],
              ", beyond the model's context of ", c.n_ctx_train, " tokens (", c.source, ")");
    nd::grow_cache(cache, c, 1, cache.length + 1);
    cache.mask = cache.mask.to(at::kCPU, at::kLong).contiguous();
    max_keys = std::max(max_keys, cache.length + 1);
    if (r.hooks) {
      if (r.hooks->config().n_layer != c.n_layer)
        fail("decode step: row ", i, "'s hooks were made for a model with ", r.hooks->config().n_layer,
             " layers, this one has ", c.n_layer);
      nd::check_native_hooks(*r.hooks, c);
      any_hooks = true;
    }
  }
  const RowHooks hk{rows, ws.pos, ws.past, any_hooks};

  // RoPE tables, one row per sequence, as forward_native builds them.
  ws.rope.build(m, ws.pos.data(), N);
  const bool has_local = ws.rope.has_local();
  auto rope = [&](float* y, int64_t heads, bool local) { ws.rope.apply(y, heads, dh, local); };

  const float q_scale = static_cast<float>(c.attn_scale > 0 ? c.attn_scale : 1.0 / std::sqrt(static_cast<double>(dh)));
  float* x = grow(ws.x, N * D);
  float* hbuf = grow(ws.h, N * std::max(D, F));
  float* q = grow(ws.q, N * H * dh);
  float* kx = grow(ws.k, N * Hkv * dh);
  float* vx = grow(ws.v, N * Hkv * dh);
  float* z = grow(ws.z, N * H * dh);
  float* gate = grow(ws.gate, N * F);
  float* up = grow(ws.up, N * F);

  const QuantMatrix& E = nw.embed;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = rows[static_cast<size_t>(i)].token;
    dequantize(E.type, E.data + static_cast<uint64_t>(t) * E.row_bytes, x + i * D, D);
  }
  if (c.embedding_scale != 1.0)
    for (int64_t i = 0; i < N * D; ++i) x[i] *= static_cast<float>(c.embedding_scale);
  hk.run(HookPoint::embed, -1, x, D, {1, 1, D});

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& lw = m.layers[static_cast<size_t>(l)];
    const NativeLayer& w = nw.layers[static_cast<size_t>(l)];
    hk.run(HookPoint::resid_pre, l, x, D, {1, 1, D});

    nd::rms_norm(x, lw.ln1.data_ptr<float>(), hbuf, N, D, c.rms_eps);
    hk.run(HookPoint::ln1_normalized, l, hbuf, D, {1, 1, D});
    nd::matmuls(hbuf, N, D, {{&w.q, q, H * dh}, {&w.k, kx, Hkv * dh}, {&w.v, vx, Hkv * dh}});
    nd::add_bias(q, lw.q_bias, N, H * dh);
    nd::add_bias(kx, lw.k_bias, N, Hkv * dh);
    nd::add_bias(vx, lw.v_bias, N, Hkv * dh);
    hk.run(HookPoint::q, l, q, H * dh, {1, 1, H, dh});
    hk.run(HookPoint::k, l, kx, Hkv * dh, {1, 1, Hkv, dh});
    hk.run(HookPoint::v, l, vx, Hkv * dh, {1, 1, Hkv, dh});
    if (c.qk_norm) {
      nd::rms_norm(q, lw.q_norm.data_ptr<float>(), q, N * H, dh, c.rms_eps);
      nd::rms_norm(kx, lw.k_norm.data_ptr<float>(), kx, N * Hkv, dh, c.rms_eps);
    }
    const bool sliding = c.sliding_window > 0 && !c.layer_sliding.empty() && c.layer_sliding[static_cast<size_t>(l)];
    rope(q, H, sliding && has_local);
    rope(kx, Hkv, sliding && has_local);
    hk.run(HookPoint::rot_q, l, q, H * dh, {1, 1, H, dh});
    hk.run(HookPoint::rot_k, l, kx, Hkv * dh, {1, 1, Hkv, dh});

    // each row's k, v at column `past` of its own cache [1, Hkv, cap, dh]
    for (int64_t i = 0; i < N; ++i) {
      KVCache& cache = *rows[static_cast<size_t>(i)].cache;
      float* kc = cache.k[static_cast<size_t>(l)].data_ptr<float>();
      float* vc = cache.v[static_cast<size_t>(l)].data_ptr<float>();
      const int64_t past = ws.past[static_cast<size_t>(i)];
      for (int64_t h = 0; h < Hkv; ++h) {
        const int64_t dst = (h * cache.capacity + past) * dh, src = (i * Hkv + h) * dh;
        std::copy(kx + src, kx + src + dh, kc + dst);
        std::copy(vx + src, vx + src + dh, vc + dst);
      }
    }
    const int64_t window = sliding ? c.sliding_window : 0;
    nd::pool().parallel_for(N * H, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> scores;
      if (scores.size() < static_cast<size_t>(max_keys)) scores.resize(static_cast<size_t>(max_keys));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t i = task / H, h = task % H, hkv = h / G;
        const KVCache& cache = *rows[static_cast<size_t>(i)].cache;
        const int64_t cap = cache.capacity, self = ws.past[static_cast<size_t>(i)];
        const float* kb = cache.k[static_cast<size_t>(l)].data_ptr<float>() + hkv * cap * dh;
        const float* vb = cache.v[static_cast<size_t>(l)].data_ptr<float>() + hkv * cap * dh;
        const int64_t first = window > 0 ? std::max<int64_t>(0, self - window + 1) : 0;
        // the key mask of the cached columns; the new column (self) is always seen
        nd::attend(q + (i * H + h) * dh, kb, vb, cache.mask.data_ptr<int64_t>(), first, self, dh, q_scale,
                   scores.data(), z + (i * H + h) * dh);
      }
    });
    hk.run(HookPoint::z, l, z, H * dh, {1, 1, H, dh});
    nd::matmuls(z, N, H * dh, {{&w.o, hbuf, D}});
    nd::add_bias(hbuf, lw.o_bias, N, D);
    if (c.post_attn_norm) nd::rms_norm(hbuf, lw.post_attn_norm.data_ptr<float>(), hbuf, N, D, c.rms_eps);
    hk.run(HookPoint::attn_out, l, hbuf, D, {1, 1, D});
    for (int64_t i = 0; i < N * D; ++i) x[i] += hbuf[i];
    hk.run(HookPoint::resid_mid, l, x, D, {1, 1, D});

    nd::rms_norm(x, lw.ln2.data_ptr<float>(), hbuf, N, D, c.rms_eps);
    hk.run(HookPoint::ln2_normalized, l, hbuf, D, {1, 1, D});
    nd::matmuls(hbuf, N, D, {{&w.gate, gate, F}, {&w.up, up, F}});
    nd::add_bias(gate, lw.gate_bias, N, F);
    nd::add_bias(up, lw.up_bias, N, F);
    hk.run(HookPoint::mlp_pre, l, gate, F, {1, 1, F});
    nd::pool().parallel_for(N * F, [&](int64_t b, int64_t e) { nd::gated_activation(c, gate + b, up + b, e - b); }, 16);
    hk.run(HookPoint::mlp_post, l, gate, F, {1, 1, F});
    nd::matmuls(gate, N, F, {{&w.down, hbuf, D}});
    nd::add_bias(hbuf, lw.down_bias, N, D);
    if (c.post_mlp_norm) nd::rms_norm(hbuf, lw.post_mlp_norm.data_ptr<float>(), hbuf, N, D, c.rms_eps);
    hk.run(HookPoint::mlp_out, l, hbuf, D, {1, 1, D});
    for (int64_t i = 0; i < N * D; ++i) x[i] += hbuf[i];
    hk.run(HookPoint::resid_post, l, x, D, {1, 1, D});
  }
  for (const SeqStep& r : rows) {  // the new column is a real token
    KVCache& cache = *r.cache;
    cache.mask = at::cat({cache.mask, at::ones({1, 1}, at::kLong)}, 1);
    cache.n_real = cache.n_real.to(at::kCPU, at::kLong) + 1;
    cache.length += 1;
  }

  at::Tensor normed = at::empty({N, D}, at::kFloat);
  nd::rms_norm(x, m.final_norm.data_ptr<float>(), normed.data_ptr<float>(), N, D, c.rms_eps);
  hk.run(HookPoint::ln_final_normalized, -1, normed.data_ptr<float>(), D, {1, 1, D});
  at::Tensor logits = at::empty({N, V}, at::kFloat);
  nd::matmuls(normed.data_ptr<float>(), N, D, {{&nw.lm_head, logits.data_ptr<float>(), V}});
  if (c.final_logit_softcap > 0) {  // logits = cap * tanh(logits / cap)
    const float cap = static_cast<float>(c.final_logit_softcap);
    float* lg = logits.data_ptr<float>();
    for (int64_t i = 0; i < N * V; ++i) lg[i] = cap * std::tanh(lg[i] / cap);
  }
  hk.run(HookPoint::logits, -1, logits.data_ptr<float>(), V, {1, 1, V});
  return logits;
}

}  // namespace

at::Tensor decode_step(const Model& m, const std::vector<SeqStep>& rows) {
  if (rows.empty()) fail("decode step: no sequences given");
  for (size_t i = 0; i < rows.size(); ++i) {
    const SeqStep& r = rows[i];
    if (!r.cache || r.cache->empty())
      fail("decode step: row ", i, " has no prefilled KV cache (run rs::forward on its prompt with a cache first)");
    if (r.cache->mask.size(0) != 1)
      fail("decode step: row ", i, "'s KV cache holds ", r.cache->mask.size(0), " sequences; each row needs its own");
    if (r.token < 0 || r.token >= m.config.n_vocab)
      fail("decode step: row ", i, ": token id ", r.token, " outside the vocabulary [0, ", m.config.n_vocab, ")");
    for (size_t j = 0; j < i; ++j)
      if (rows[j].cache == r.cache) fail("decode step: rows ", j, " and ", i, " share one KV cache");
  }
  at::NoGradGuard no_grad;
  if (m.native) return step_native(m, rows);
  // Other weights: each row through rs::forward alone (any device), stacked.
  std::vector<at::Tensor> out;
  out.reserve(rows.size());
  for (const SeqStep& r : rows) {
    ForwardOptions fo;
    fo.logits = LogitsMode::Last;
    fo.cache = r.cache;
    fo.hooks = r.hooks;
    const at::Tensor tok = at::full({1, 1}, r.token, at::TensorOptions().dtype(at::kLong).device(m.device()));
    out.push_back(forward(m, tok, at::Tensor(), fo).select(1, 0));
  }
  return at::cat(out, 0);
}

}  // namespace rs
