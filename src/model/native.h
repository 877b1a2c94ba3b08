// Weights kept in their GGUF block format ("native" weights) and the forward pass that runs on
// them with our SIMD kernels (kernels/quant_matmul.h): the fast path for decoding.
//
//   rs::LoadOptions lo;  lo.weights = rs::WeightFormat::Native;
//   rs::Model m = rs::load_model("model.Q4_1.gguf", lo);   // m.native set, dense matrices absent
//   rs::forward(m, tokens, mask, opts);                     // routes to forward_native
//
// What differs from the dequantised (exact) path:
//   - every matrix product quantises its input activations to 8 bits in blocks of 32 (as
//     llama.cpp does), so activations, logits and captures are close to but not exactly those of
//     the f32 forward (see README "Weights: dequant or native" for the measured difference);
//   - the matrices are views into the mapped file: nothing to read or edit by name
//     (Model::weight / make_trainable refuse), and the model runs on CPU only;
//   - hooks: every residual-stream, norm, q/k/v, rot_q/rot_k, z, MLP and logits point works
//     (capture and interventions); attn.hook_attn_scores, attn.hook_pattern and attn.hook_result
//     need the exact path and refuse with a message saying so.
// Supported architectures: llama, qwen2 and gemma3 (q/k norms, post-attention / post-MLP norms,
// sliding-window layers with their own RoPE base, GELU-tanh, logit soft-capping).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "io/ggml_types.h"

namespace rs {
namespace gguf { class File; }
struct Model;
struct ForwardOptions;

// A weight matrix [rows, cols] (HF [out, in]) as stored in the file: `rows` contiguous rows of
// ggml_row_bytes(type, cols) bytes. When hf_row is set, stored row r is HF row hf_row[r]
// (llama.cpp's q/k permutation for interleaved RoPE, undone on the product's output).
struct QuantMatrix {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t rows = 0, cols = 0;
  uint64_t row_bytes = 0;
  std::vector<int32_t> hf_row;
};

struct NativeLayer {
  QuantMatrix q, k, v, o, gate, up, down;
};

struct NativeWeights {
  std::shared_ptr<const gguf::File> file;  // owns the mapping the matrices point into
  QuantMatrix embed, lm_head;              // lm_head.data == embed.data when tied
  std::vector<NativeLayer> layers;
  int64_t nbytes() const;                  // bytes of all matrices (a tied one counted once)
};

// Load a GGUF with its matrices kept quantised (norms and biases as small f32 tensors in the
// usual Model fields). Throws rs::Error for a non-CPU device, an unsupported tensor type or shape.
Model load_gguf_native(const std::string& path);

// The forward pass on native weights: same contract as rs::forward (model.h).
at::Tensor forward_native(const Model& m, const at::Tensor& tokens, const at::Tensor& mask,
                          const ForwardOptions& opts);

}  // namespace rs
