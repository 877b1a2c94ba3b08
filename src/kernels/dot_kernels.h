// Internal: one dot-product kernel per weight format and instruction set (quant_matmul.h).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"

namespace rs::kernels::detail {

// dot(weight row of n = x.n elements in its block format, quantised activation row)
using DotFn = float (*)(const uint8_t* w, const ActRow& x);

struct DotTable {
  DotFn q8_0, q4_0, q4_1, q5_0, q4_k, q6_k;
};

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
