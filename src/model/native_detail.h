// Pieces of the native forward (native_forward.cpp) that the multi-sequence decode step
// (batch_decode.cpp) runs too, so that both take the same kernels and the same arithmetic: a
// sequence's logits do not depend on which of the two computed them. Internal to src/model.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/model.h"
#include "model/native.h"

namespace rs::native_detail {

// y = x W^T, written at rows of stride ldy.
struct Product {
  const QuantMatrix* w;
  float* y;
  int64_t ldy;
};

kernels::ThreadPool& pool();
// Quantises x [rows, n] once and runs every product that shares it (one parallel loop).
void matmuls(const float* x, int64_t rows, int64_t n, std::initializer_list<Product> ps);
// y = x / sqrt(mean(x^2) + eps) * w, per row of n.
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, double eps);
void add_bias(float* y, const at::Tensor& bias, int64_t rows, int64_t n);
// Makes room for `needed` columns in a cache of B rows (keeps what it holds).
void grow_cache(KVCache& cache, const ModelConfig& c, int64_t B, int64_t needed);
// The attention of one query row against keys/values [n_keys, dh] (rows `first`..`self` of
// kb/vb; column j is skipped unless key_ok(j) or j == self): z = softmax(q k^T scale) v.
void attend(const float* qv, const float* kb, const float* vb, const int64_t* key_mask, int64_t first,
            int64_t self, int64_t dh, float scale, float* scores, float* zv);
// RoPE for n token rows at the given positions: angle = pos * inv_freq (f32), HF half-split
// (rotate_half) layout; a second table for sliding-window layers with their own base (gemma3).
// Kept in a thread's workspace, so building it allocates only when n grows.
class RopeTables {
 public:
  void build(const Model& m, const int64_t* positions, int64_t n);
  bool has_local() const { return has_local_; }
  // y [n, heads, dh] in place: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
  void apply(float* y, int64_t heads, int64_t dh, bool local) const;

 private:
  int64_t n_ = 0, half_ = 0;
  bool has_local_ = false;
  std::vector<float> cos_, sin_, cos_local_, sin_local_;
};
// Refuses hooks the native path cannot serve (attention scores, pattern, per-head result: it
// never materialises them), naming the hook and the way out.
void check_native_hooks(const Hooks& hooks, const ModelConfig& c);
// The MLP activation in place: gate = act(gate) * up.
void gated_activation(const ModelConfig& c, float* gate, const float* up, int64_t n);

}  // namespace rs::native_detail
