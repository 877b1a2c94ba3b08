// The forward pass on native (quantised) weights: the same transformer as forward.cpp, written
// as plain loops over raw f32 buffers so that a decode step costs its arithmetic and memory
// traffic, not ~600 small libtorch ops (several microseconds of dispatch each). Buffers live in
// a per-thread workspace that only grows, the KV cache is the usual KVCache (preallocated by
// KVCache::reserve), and every matrix product is one parallel loop of our kernels
// (kernels/quant_matmul.h) over the rows of the matrices it needs (q, k and v in one loop;
// gate and up in one loop). Shapes as in forward.cpp: B batch, T new tokens, K = past + T keys.
//
// Hook points run through the same Hooks object: the buffer is copied into a tensor for the
// hook and copied back when an intervention is attached there.
#include <algorithm>
#include <cmath>
#include <memory>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "core/log.h"
#include "hooks/hooks.h"
#include "kernels/quant_matmul.h"
#include "kernels/thread_pool.h"
#include "kernels/vec_f32.h"
#include "model/model.h"
#include "model/native.h"
#include "model/native_detail.h"

namespace rs {
namespace {

using kernels::ActRow;
using kernels::ActRows;

kernels::ThreadPool& pool() {
  // one pool per thread count (rs::set_threads / at::set_num_threads decide it)
  static std::unique_ptr<kernels::ThreadPool> p;
  const int want = std::max(1, at::get_num_threads());
  if (!p || p->size() != want) p = std::make_unique<kernels::ThreadPool>(want);
  return *p;
}

float* grow(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

// Everything a call needs, kept between calls (per calling thread): no allocation per step.
struct Workspace {
  std::vector<float> x, h, q, k, v, z, attn, gate, up, tmp, last;
  native_detail::RopeTables rope;
  std::vector<int64_t> pos, key_mask;
  ActRows acts;
  std::vector<ActRow> rows;
};
Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

// y = x W^T for one or more matrices sharing the input (one parallel loop over all their rows).
using native_detail::Product;

// `for_`: the matrices that will read the rows, so that only the forms they need are made
// (empty: both forms)
void quantize_rows(Workspace& ws, const float* x, int64_t n_rows, int64_t n,
                   std::initializer_list<const QuantMatrix*> for_ = {}) {
  bool need32 = for_.size() == 0, needk = for_.size() == 0;
  for (const QuantMatrix* m : for_) {
    if (!kernels::has_integer_kernel(m->type)) continue;  // the generic path reads the f32 copy
    (kernels::uses_k_acts(m->type) ? needk : need32) = true;
  }
  // a prompt's rows on every thread: on one, prefill's other threads waited ~10% of its time
  ws.acts.resize(n_rows, n, need32, needk);
  if (n_rows > 1) pool().parallel_for(n_rows, [&](int64_t b0, int64_t b1) { ws.acts.quantize_rows(x, b0, b1, n); });
  else ws.acts.quantize_rows(x, 0, n_rows, n);
  ws.rows.resize(static_cast<size_t>(n_rows));
  for (int64_t b = 0; b < n_rows; ++b) ws.rows[static_cast<size_t>(b)] = ws.acts.row(b);
}

void products(Workspace& ws, std::initializer_list<Product> ps) {
  const int64_t BT = ws.acts.rows();
  int64_t total = 0;
  for (const Product& p : ps) total += p.w->rows;
  // Permuted matrices (llama q/k) write into tmp first, then scatter into their HF rows.
  int64_t tmp_need = 0;
  for (const Product& p : ps)
    if (!p.w->hf_row.empty()) tmp_need += BT * p.w->rows;
  float* tmp = grow(ws.tmp, std::max<int64_t>(tmp_need, 1));
  const ActRow* rows = ws.rows.data();
  pool().parallel_for(total, [&](int64_t b, int64_t e) {
    int64_t off = 0, tmp_off = 0;
    for (const Product& p : ps) {
      const QuantMatrix& w = *p.w;
      const int64_t r0 = std::max(b, off) - off, r1 = std::min(e, off + w.rows) - off;
      if (r0 < r1) {
        if (w.hf_row.empty()) {
          kernels::matmul_rows(w.type, w.data, w.cols, r0, r1, rows, BT, p.y, p.ldy);
        } else {
          float* t = tmp + tmp_off;  // [BT, rows]
          kernels::matmul_rows(w.type, w.data, w.cols, r0, r1, rows, BT, t, w.rows);
          for (int64_t i = 0; i < BT; ++i)
            for (int64_t r = r0; r < r1; ++r) p.y[i * p.ldy + w.hf_row[static_cast<size_t>(r)]] = t[i * w.rows + r];
        }
      }
      if (!w.hf_row.empty()) tmp_off += BT * w.rows;
      off += w.rows;
    }
  }, 16);
}

void add_bias(float* y, const at::Tensor& bias, int64_t rows, int64_t n) {
  if (!bias.defined()) return;
  const float* b = bias.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < n; ++j) y[i * n + j] += b[j];
}

// y = x / sqrt(mean(x^2) + eps) * w, per row of n   (RMSNorm, Zhang & Sennrich 2019)
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, double eps) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * n;
    const float ms = kernels::dot_f32(xi, xi, n) / static_cast<float>(n);
    const float inv = 1.0f / std::sqrt(ms + static_cast<float>(eps));
    for (int64_t j = 0; j < n; ++j) y[i * n + j] = xi[j] * inv * w[j];
  }
}

// The hook points, on raw buffers.
struct NativeHooks {
  Hooks* hooks;
  HookContext ctx;
  bool on(HookPoint p, int l) const { return hooks && hooks->active(p, l); }
  void run(HookPoint p, int l, float* buf, std::vector<int64_t> shape) {
    if (!on(p, l)) return;
    // a copy: captures keep it, and the workspace is overwritten by the next step
    at::Tensor t = at::from_blob(buf, shape, at::kFloat).clone();
    at::Tensor r = hooks->run(p, l, t, ctx);
    if (!hooks->modifies(p, l)) return;
    if (r.sizes() != t.sizes())
      fail("hook at ", HookId{p, l}.name(), " returned shape ", r.sizes(), ", expected ", t.sizes());
    r = r.to(at::kCPU, at::kFloat).contiguous();
    std::copy(r.data_ptr<float>(), r.data_ptr<float>() + r.numel(), buf);
  }
};

void grow_cache(KVCache& cache, const ModelConfig& c, int64_t B, int64_t needed) {
  if (cache.length > 0 && cache.mask.size(0) != B)
    fail("KV cache holds ", cache.mask.size(0), " rows but the batch has ", B,
         " (use KVCache::select_rows or clear())");
  if (needed <= cache.capacity && static_cast<int64_t>(cache.k.size()) == c.n_layer) return;
  const int64_t cap = std::max<int64_t>({needed, 2 * cache.capacity, 64, cache.reserve});
  cache.k.resize(static_cast<size_t>(c.n_layer));
  cache.v.resize(static_cast<size_t>(c.n_layer));
  for (size_t l = 0; l < cache.k.size(); ++l)
    for (at::Tensor* t : {&cache.k[l], &cache.v[l]}) {
      at::Tensor fresh = at::empty({B, c.n_head_kv, cap, c.d_head}, at::kFloat);
      if (cache.length > 0) fresh.narrow(2, 0, cache.length).copy_(t->narrow(2, 0, cache.length));
      *t = fresh;
    }
  cache.capacity = cap;
}

}  // namespace

// The entry points batch_decode.cpp shares (native_detail.h).
namespace native_detail {

kernels::ThreadPool& pool() { return rs::pool(); }

void matmuls(const float* x, int64_t rows, int64_t n, std::initializer_list<Product> ps) {
  Workspace& ws = workspace();
  quantize_rows(ws, x, rows, n);
  products(ws, ps);
}

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, double eps) {
  rs::rms_norm(x, w, y, rows, n, eps);
}

void add_bias(float* y, const at::Tensor& bias, int64_t rows, int64_t n) { rs::add_bias(y, bias, rows, n); }

void grow_cache(KVCache& cache, const ModelConfig& c, int64_t B, int64_t needed) {
  rs::grow_cache(cache, c, B, needed);
}

void attend(const float* qv, const float* kb, const float* vb, const int64_t* key_mask, int64_t first,
            int64_t self, int64_t dh, float scale, float* scores, float* zv) {
  float mx = -INFINITY;
  for (int64_t j = first; j <= self; ++j) {
    const bool ok = j == self || key_mask[j] != 0;
    scores[j] = ok ? kernels::dot_f32(qv, kb + j * dh, dh) * scale : -INFINITY;
    mx = std::max(mx, scores[j]);
  }
  float sum = 0.0f;
  for (int64_t j = first; j <= self; ++j) {
    scores[j] = scores[j] == -INFINITY ? 0.0f : std::exp(scores[j] - mx);
    sum += scores[j];
  }
  std::fill(zv, zv + dh, 0.0f);
  const float inv = 1.0f / sum;
  for (int64_t j = first; j <= self; ++j)
    if (scores[j] != 0.0f) kernels::axpy_f32(scores[j] * inv, vb + j * dh, zv, dh);
}

void check_native_hooks(const Hooks& hooks, const ModelConfig& c) {
  for (int l = 0; l < c.n_layer; ++l)
    for (HookPoint p : {HookPoint::attn_scores, HookPoint::pattern, HookPoint::result})
      if (hooks.active(p, l))
        fail("hook ", HookId{p, l}.name(), " needs the exact attention path: native (quantised) weights "
             "do not materialise it; load the model with --weights dequant (LoadOptions::weights = "
             "WeightFormat::Dequantize)");
}

void gated_activation(const ModelConfig& c, float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    // SiLU(g) = g sigmoid(g); GELU(tanh approximation) for gemma-style configs
    const float a = c.activation == Activation::SiLU
                        ? g / (1.0f + std::exp(-g))
                        : 0.5f * g * (1.0f + std::tanh(0.7978845608f * (g + 0.044715f * g * g * g)));
    gate[i] = a * up[i];
  }
}

void RopeTables::build(const Model& m, const int64_t* positions, int64_t n) {
  n_ = n;
  half_ = m.inv_freq.size(0);  // the local table rotates the same pairs
  auto table = [&](const at::Tensor& inv_freq, std::vector<float>& cos_buf, std::vector<float>& sin_buf) {
    const at::Tensor inv = inv_freq.to(at::kCPU, at::kFloat).contiguous();
    const float* invf = inv.data_ptr<float>();
    float* cs = grow(cos_buf, n * half_);
    float* sn = grow(sin_buf, n * half_);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < half_; ++j) {
        const float angle = static_cast<float>(positions[i]) * invf[j];
        cs[i * half_ + j] = std::cos(angle);
        sn[i * half_ + j] = std::sin(angle);
      }
  };
  has_local_ = m.config.rope_theta_local > 0;
  if (has_local_) table(local_inv_freq(m), cos_local_, sin_local_);
  table(m.inv_freq, cos_, sin_);
}

void RopeTables::apply(float* y, int64_t heads, int64_t dh, bool local) const {
  const float* cosv = local ? cos_local_.data() : cos_.data();
  const float* sinv = local ? sin_local_.data() : sin_.data();
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      float* v = y + (i * heads + h) * dh;
      for (int64_t j = 0; j < half_; ++j) {
        const float x1 = v[j], x2 = v[j + half_], cs = cosv[i * half_ + j], sn = sinv[i * half_ + j];
        v[j] = x1 * cs - x2 * sn;
        v[j + half_] = x2 * cs + x1 * sn;
      }
    }
}

}  // namespace native_detail

at::Tensor forward_native(const Model& m, const at::Tensor& tokens_in, const at::Tensor& mask_in,
                          const ForwardOptions& o) {
  const ModelConfig& c = m.config;
  const NativeWeights& nw = *m.native;
  if (!tokens_in.defined() || tokens_in.dim() != 2)
    fail("forward: tokens must be [batch, positions], found ", tokens_in.defined() ? tokens_in.dim() : 0, " dims");
  const int64_t B = tokens_in.size(0), T = tokens_in.size(1), BT = B * T;
  if (B == 0 || T == 0) fail("forward: empty input (batch ", B, ", positions ", T, ")");
  const at::Tensor tokens = tokens_in.to(at::kCPU, at::kLong).contiguous();
  const at::Tensor mask = mask_in.defined() ? mask_in.to(at::kCPU, at::kLong).contiguous() : at::Tensor();
  if (mask.defined() && mask.sizes() != tokens.sizes()) fail("forward: mask shape differs from the tokens' shape");
  if (o.hooks && o.hooks->config().n_layer != c.n_layer)
    fail("forward: the hooks were made for a model with ", o.hooks->config().n_layer, " layers, this one has ", c.n_layer);
  const int64_t* tok = tokens.data_ptr<int64_t>();
  for (int64_t i = 0; i < BT; ++i)
    if (tok[i] < 0 || tok[i] >= c.n_vocab)
      fail("forward: token id ", tok[i], " outside the vocabulary [0, ", c.n_vocab, ")");
  if (o.hooks) native_detail::check_native_hooks(*o.hooks, c);

  const int64_t D = c.d_model, H = c.n_head, Hkv = c.n_head_kv, G = H / Hkv, dh = c.d_head, F = c.d_ff;
  const int64_t V = c.n_vocab;
  Workspace& ws = workspace();
  const int64_t* mk = mask.defined() ? mask.data_ptr<int64_t>() : nullptr;

  // Position ids: real tokens before this one in its row, across the cache; pads clamp to 0.
  KVCache* cache = o.cache;
  const int64_t past = cache ? cache->length : 0, K = past + T;
  ws.pos.resize(static_cast<size_t>(BT));
  if (o.positions.defined()) {
    const at::Tensor p = o.positions.to(at::kCPU, at::kLong).contiguous();
    if (p.sizes() != tokens.sizes()) fail("forward: positions shape differs from the tokens' shape");
    std::copy(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + BT, ws.pos.begin());
  } else {
    const at::Tensor n_real = cache && past > 0 ? cache->n_real.to(at::kCPU, at::kLong).contiguous() : at::Tensor();
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = n_real.defined() ? n_real.data_ptr<int64_t>()[b] : 0;
      for (int64_t t = 0; t < T; ++t) {
        n += mk ? mk[b * T + t] : 1;
        ws.pos[static_cast<size_t>(b * T + t)] = std::max<int64_t>(0, n - 1);
      }
    }
  }
  const int64_t max_pos = *std::max_element(ws.pos.begin(), ws.pos.end());
  if (c.n_ctx_train > 0 && max_pos >= c.n_ctx_train)
    fail_as(ExitCode::kTooLong, "forward: position ", max_pos, " is beyond the model's context of ", c.n_ctx_train, " tokens (", c.source, ")");

  // Key mask over all K columns (cached ones first); the cache keeps it as a tensor.
  at::Tensor new_mask = mask.defined() ? mask : at::ones({B, T}, at::kLong);
  at::Tensor key_mask_t = new_mask;
  if (cache) {
    grow_cache(*cache, c, B, K);
    if (past > 0) key_mask_t = at::cat({cache->mask.to(at::kLong), new_mask}, 1).contiguous();
  }
  const int64_t* key_mask = key_mask_t.data_ptr<int64_t>();
  // Without a cache each layer's keys and values live in one reused buffer with the cache's
  // layout [B, Hkv, K, dh].
  const int64_t cap = cache ? cache->capacity : T;
  if (!cache) grow(ws.attn, 2 * B * Hkv * T * dh);

  NativeHooks hk{o.hooks, HookContext{}};
  if (o.hooks) {
    hk.ctx.positions = at::from_blob(ws.pos.data(), {B, T}, at::kLong).clone();
    hk.ctx.mask = new_mask;
    hk.ctx.past = past;
    static bool warned = false;
    if (!warned) {
      warned = true;
      log_info("hooks on native (quantised) weights see activations of 8-bit products, close to "
               "but not exactly the f32 forward's; use --weights dequant for exact activations");
    }
  }

  ws.rope.build(m, ws.pos.data(), BT);
  const bool has_local = ws.rope.has_local();
  auto rope = [&](float* y, int64_t heads, bool local) { ws.rope.apply(y, heads, dh, local); };

  const float q_scale = static_cast<float>(c.attn_scale > 0 ? c.attn_scale : 1.0 / std::sqrt(static_cast<double>(dh)));
  float* x = grow(ws.x, BT * D);
  float* hbuf = grow(ws.h, BT * std::max(D, F));
  float* q = grow(ws.q, BT * H * dh);
  float* kx = grow(ws.k, BT * Hkv * dh);
  float* vx = grow(ws.v, BT * Hkv * dh);
  float* z = grow(ws.z, BT * H * dh);
  float* gate = grow(ws.gate, BT * F);
  float* up = grow(ws.up, BT * F);

  // x = E[tokens] * embedding_scale            [B, T, D]
  const QuantMatrix& E = nw.embed;
  for (int64_t i = 0; i < BT; ++i) dequantize(E.type, E.data + static_cast<uint64_t>(tok[i]) * E.row_bytes, x + i * D, D);
  if (c.embedding_scale != 1.0)
    for (int64_t i = 0; i < BT * D; ++i) x[i] *= static_cast<float>(c.embedding_scale);
  hk.run(HookPoint::embed, -1, x, {B, T, D});

  const int64_t last_layer = o.stop_after_layer >= 0 ? std::min<int64_t>(o.stop_after_layer, c.n_layer - 1) : c.n_layer - 1;
  for (int l = 0; l <= last_layer; ++l) {
    const LayerWeights& lw = m.layers[static_cast<size_t>(l)];
    const NativeLayer& w = nw.layers[static_cast<size_t>(l)];
    hk.run(HookPoint::resid_pre, l, x, {B, T, D});

    // ---- x = x + Attn(RMSNorm(x))
    rms_norm(x, lw.ln1.data_ptr<float>(), hbuf, BT, D, c.rms_eps);
    hk.run(HookPoint::ln1_normalized, l, hbuf, {B, T, D});
    quantize_rows(ws, hbuf, BT, D, {&w.q, &w.k, &w.v});
    products(ws, {{&w.q, q, H * dh}, {&w.k, kx, Hkv * dh}, {&w.v, vx, Hkv * dh}});
    add_bias(q, lw.q_bias, BT, H * dh);
    add_bias(kx, lw.k_bias, BT, Hkv * dh);
    add_bias(vx, lw.v_bias, BT, Hkv * dh);
    hk.run(HookPoint::q, l, q, {B, T, H, dh});
    hk.run(HookPoint::k, l, kx, {B, T, Hkv, dh});
    hk.run(HookPoint::v, l, vx, {B, T, Hkv, dh});
    // gemma3: RMSNorm of each head's q and k (before RoPE, as HF Gemma3Attention)
    if (c.qk_norm) {
      rms_norm(q, lw.q_norm.data_ptr<float>(), q, BT * H, dh, c.rms_eps);
      rms_norm(kx, lw.k_norm.data_ptr<float>(), kx, BT * Hkv, dh, c.rms_eps);
    }
    const bool sliding = c.sliding_window > 0 && !c.layer_sliding.empty() && c.layer_sliding[static_cast<size_t>(l)];
    rope(q, H, sliding && has_local);
    rope(kx, Hkv, sliding && has_local);
    hk.run(HookPoint::rot_q, l, q, {B, T, H, dh});
    hk.run(HookPoint::rot_k, l, kx, {B, T, Hkv, dh});

    // append k, v at columns past.. of the cache [B, Hkv, cap, dh]
    float* kc = cache ? cache->k[static_cast<size_t>(l)].data_ptr<float>() : ws.attn.data();
    float* vc = cache ? cache->v[static_cast<size_t>(l)].data_ptr<float>() : ws.attn.data() + B * Hkv * T * dh;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < Hkv; ++h) {
          const int64_t dst = ((b * Hkv + h) * cap + past + t) * dh, src = ((b * T + t) * Hkv + h) * dh;
          std::copy(kx + src, kx + src + dh, kc + dst);
          std::copy(vx + src, vx + src + dh, vc + dst);
        }

    // z = softmax(q k^T / sqrt(dh) + mask) v, per (row, head); a query sees the real keys up to
    // itself, and always itself (as layers::attention_bias); on a sliding-window layer only the
    // last `window` columns (itself included)
    const int64_t window = sliding ? c.sliding_window : 0;
    pool().parallel_for(B * H, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> scores;
      if (scores.size() < static_cast<size_t>(K)) scores.resize(static_cast<size_t>(K));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / H, h = task % H, hkv = h / G;
        const float* kb = kc + (b * Hkv + hkv) * cap * dh;
        const float* vb = vc + (b * Hkv + hkv) * cap * dh;
        for (int64_t t = 0; t < T; ++t) {
          const float* qv = q + ((b * T + t) * H + h) * dh;
          float* zv = z + ((b * T + t) * H + h) * dh;
          const int64_t self = past + t, first = window > 0 ? std::max<int64_t>(0, self - window + 1) : 0;
          native_detail::attend(qv, kb, vb, key_mask + b * K, first, self, dh, q_scale, scores.data(), zv);
        }
      }
    });
    hk.run(HookPoint::z, l, z, {B, T, H, dh});
    quantize_rows(ws, z, BT, H * dh, {&w.o});
    products(ws, {{&w.o, hbuf, D}});
    add_bias(hbuf, lw.o_bias, BT, D);
    if (c.post_attn_norm) rms_norm(hbuf, lw.post_attn_norm.data_ptr<float>(), hbuf, BT, D, c.rms_eps);  // gemma3
    hk.run(HookPoint::attn_out, l, hbuf, {B, T, D});
    for (int64_t i = 0; i < BT * D; ++i) x[i] += hbuf[i];
    hk.run(HookPoint::resid_mid, l, x, {B, T, D});

    // ---- x = x + MLP(RMSNorm(x)),  MLP(h) = W_down (act(W_gate h) * (W_up h))
    rms_norm(x, lw.ln2.data_ptr<float>(), hbuf, BT, D, c.rms_eps);
    hk.run(HookPoint::ln2_normalized, l, hbuf, {B, T, D});
    quantize_rows(ws, hbuf, BT, D, {&w.gate, &w.up});
    products(ws, {{&w.gate, gate, F}, {&w.up, up, F}});
    add_bias(gate, lw.gate_bias, BT, F);
    add_bias(up, lw.up_bias, BT, F);
    hk.run(HookPoint::mlp_pre, l, gate, {B, T, F});
    // elementwise: the split does not change a value. On both threads even when decoding: on
    // one, the other waited through it (F exponentials) and fell asleep before the down product.
    pool().parallel_for(BT * F, [&](int64_t b, int64_t e) { native_detail::gated_activation(c, gate + b, up + b, e - b); }, 16);
    hk.run(HookPoint::mlp_post, l, gate, {B, T, F});
    quantize_rows(ws, gate, BT, F, {&w.down});
    products(ws, {{&w.down, hbuf, D}});
    add_bias(hbuf, lw.down_bias, BT, D);
    if (c.post_mlp_norm) rms_norm(hbuf, lw.post_mlp_norm.data_ptr<float>(), hbuf, BT, D, c.rms_eps);  // gemma3
    hk.run(HookPoint::mlp_out, l, hbuf, {B, T, D});
    for (int64_t i = 0; i < BT * D; ++i) x[i] += hbuf[i];
    hk.run(HookPoint::resid_post, l, x, {B, T, D});
  }
  if (cache) {
    cache->mask = key_mask_t;
    cache->n_real = (past > 0 ? cache->n_real : at::zeros({B}, at::kLong)) + new_mask.sum(1);
    cache->length = K;
  }
  if (last_layer < c.n_layer - 1) return at::from_blob(x, {B, T, D}, at::kFloat).clone();

  // Only the last column when asked (with left padding it is every row's last token).
  int64_t Tl = T;
  const float* xf = x;
  if (o.logits == LogitsMode::Last && T > 1) {
    Tl = 1;
    float* last = grow(ws.last, B * D);
    for (int64_t b = 0; b < B; ++b) std::copy(x + (b * T + T - 1) * D, x + (b * T + T) * D, last + b * D);
    xf = last;
    if (o.hooks) {
      hk.ctx.positions = hk.ctx.positions.narrow(1, T - 1, 1);
      hk.ctx.mask = hk.ctx.mask.narrow(1, T - 1, 1);
    }
  }
  at::Tensor normed = at::empty({B, Tl, D}, at::kFloat);
  rms_norm(xf, m.final_norm.data_ptr<float>(), normed.data_ptr<float>(), B * Tl, D, c.rms_eps);
  hk.run(HookPoint::ln_final_normalized, -1, normed.data_ptr<float>(), {B, Tl, D});
  if (o.logits == LogitsMode::None) return normed;
  // logits = x E^T (tied) or x W_U^T           [B, T|1, V]
  at::Tensor logits = at::empty({B, Tl, V}, at::kFloat);
  quantize_rows(ws, normed.data_ptr<float>(), B * Tl, D, {&nw.lm_head});
  products(ws, {{&nw.lm_head, logits.data_ptr<float>(), V}});
  if (c.final_logit_softcap > 0) {  // logits = cap * tanh(logits / cap)
    const float cap = static_cast<float>(c.final_logit_softcap);
    float* lg = logits.data_ptr<float>();
    for (int64_t i = 0; i < B * Tl * V; ++i) lg[i] = cap * std::tanh(lg[i] / cap);
  }
  hk.run(HookPoint::logits, -1, logits.data_ptr<float>(), {B, Tl, V});
  return logits;
}

}  // namespace rs
