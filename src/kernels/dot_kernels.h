// Internal: one dot-product kernel per weight format and instruction set (quant_matmul.h).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"

namespace rs::kernels::detail {

// One tile of products: y[c * ldy + r] = dot(weight row r, x[c]) for r < nr, c < nc (both 1..4);
// weight row r starts at w + r * row_bytes and holds x[c].n elements in its block format. Each
// output's f32 operations must not depend on nr or nc (quant_matmul.h: results independent of B).
using TileFn = void (*)(const uint8_t* w, uint64_t row_bytes, int nr, const ActRow* x, int nc, float* y,
                        int64_t ldy);

struct DotTable {
  TileFn q8_0, q4_0, q4_1, q5_0, q4_k, q6_k;
};

// Products of weight rows [r0, r1) with many activation rows at once (prefill): y[b * ldy + r]
// for b < B, w the whole matrix. Each output gets the tiles' f32 operations (the integer sums are
// exact whatever their grouping), so results equal TileFn's bit for bit.
using GemmFn = void (*)(const uint8_t* w, uint64_t row_bytes, int64_t n, int64_t r0, int64_t r1,
                        const ActRow* x, int64_t B, float* y, int64_t ldy);
// The AVX-512 VNNI batched kernels (the integer types); nullptr for other types and builds.
GemmFn avx512_gemm(GgmlType t);
// The AMX-INT8 batched kernels (Q4_K, Q6_K; dot_amx.cpp), same results; nullptr for others.
GemmFn amx_gemm(GgmlType t);
// CPU and OS have AMX-INT8 and this process got the tile registers (asked once, on first call).
bool amx_usable();

const DotTable& scalar_table();
// nullptr when this build has no such code (not x86-64); callers check isa_supported first.
const DotTable* avx2_table();
const DotTable* avx512_table();

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 8 six-bit (scale, min) pairs of a Q4_K block from its 12 packed bytes (layout: see
// io/dequant.cpp unpack_k_scales and ggml-common.h block_q4_K).
inline void unpack_q4k_scales(const uint8_t* s, uint8_t sc[8], uint8_t mn[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
    mn[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}

}  // namespace rs::kernels::detail
