// ggml tensor types and their block layouts, as numbered in ggml.h (enum ggml_type).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rs {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  // Newer ids (numbering from the PyPI gguf package, constants.py GGMLQuantizationType):
  // known to the reader so such files open, not dequantised.
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

// Known to the reader (any id above); `supported` = we can dequantise it.
bool ggml_type_known(uint32_t id);
bool ggml_type_dequant_supported(GgmlType t);
const char* ggml_type_name(GgmlType t);
int64_t ggml_block_size(GgmlType t);   // elements per block (1 for F32/F16/BF16)
uint64_t ggml_type_size(GgmlType t);   // bytes per block
// Bytes of a tensor with `ne` elements in ggml order; throws rs::Error on overflow or when
// ne[0] is not a multiple of the block size.
uint64_t ggml_nbytes(GgmlType t, const std::vector<int64_t>& ne);

// Dequantise n elements (n a multiple of the block size) from `src` to f32 `dst`.
// Bit-exact with ggml's reference dequantisers (ggml-quants.c dequantize_row_*).
// `src` needs no alignment. Throws rs::Error for an unsupported type or a bad n.
void dequantize(GgmlType t, const uint8_t* src, float* dst, int64_t n);
// Same result, split into contiguous runs of whole blocks over n_threads std::threads
// (n_threads <= 0: std::thread::hardware_concurrency()). Small inputs run on the caller.
void dequantize_parallel(GgmlType t, const uint8_t* src, float* dst, int64_t n, int n_threads);
// Bytes of n elements of type t (n a multiple of the block size; throws otherwise).
uint64_t ggml_row_bytes(GgmlType t, int64_t n);

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);   // round to nearest even
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);   // round to nearest even, NaN kept quiet

}  // namespace rs
