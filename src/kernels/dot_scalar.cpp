// The portable kernels: plain C++ integer sums per block, then f32 scaling (quant_matmul.h has
// the formulas) in exactly the SIMD kernels' order of f32 operations, so that every instruction
// set gives bit-identical results. The reference the SIMD paths are tested against.
#include "kernels/dot_kernels.h"

#include <cmath>

namespace rs::kernels::detail {
namespace {

inline float f16(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

// The 32-block types in the SIMD kernels' f32 order (dot_simd_impl.h tile32), so that every
// instruction set gives the same result: 8 lanes, lane i holding the integer sum of elements
// 4i..4i+3 of each block (the weights' zero point subtracted in lane 0), each lane accumulated
// as acc_i = fma(lane_i, dw dx, acc_i); the lanes summed in hsum's tree; Q4_1's m s terms in
// their own fma chain, added last.
template <typename Q>  // Q(w_block, j) -> the weight's integer value at element j (zero point kept)
float dot32(const uint8_t* w, int bytes, int off, const ActRow& x, bool q4_1, Q q) {
  const int64_t nb = x.n / 32;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, accm = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += bytes) {
    const int8_t* qx = x.q + 32 * b;
    const float dd = f16(w) * x.d[b];
    for (int i = 0; i < 8; ++i) {
      int32_t lane = i == 0 ? -off * x.sum[b] : 0;
      for (int j = 4 * i; j < 4 * i + 4; ++j) lane += q(w, j) * qx[j];
      acc[i] = std::fma(static_cast<float>(lane), dd, acc[i]);
    }
    if (q4_1) accm = std::fma(f16(w + 2), x.s[b], accm);
  }
  return (((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))) + accm;
}

// nibble j of a 32-block packed in qs[16]: j < 16 the low half of byte j, else the high half of j - 16
inline int nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4; }

float dot_q8_0(const uint8_t* w, const ActRow& x) {
  return dot32(w, 34, 0, x, false, [](const uint8_t* b, int j) { return static_cast<int>(static_cast<int8_t>(b[2 + j])); });
}

float dot_q4_0(const uint8_t* w, const ActRow& x) {
  return dot32(w, 18, 8, x, false, [](const uint8_t* b, int j) { return nibble(b + 2, j); });
}

float dot_q4_1(const uint8_t* w, const ActRow& x) {
  return dot32(w, 20, 0, x, true, [](const uint8_t* b, int j) { return nibble(b + 4, j); });
}

float dot_q5_0(const uint8_t* w, const ActRow& x) {
  // q5 = nibble j | (bit j of qh) << 4, zero point 16
  return dot32(w, 22, 16, x, false, [](const uint8_t* b, int j) {
    return nibble(b + 6, j) | static_cast<int>(((load_u32(b + 2) >> j) & 1) << 4);
  });
}

// K-quants: the block's integer sums, then exactly the f32 steps of the SIMD kernels
// (dot_simd_impl.h), so every instruction set gives the same result.
float dot_q4_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 144) {
    uint8_t sc[8], mn[8];
    unpack_q4k_scales(w + 4, sc, mn);
    const uint8_t* qs = w + 16;
    const int8_t* qx = x.qk + 256 * b;
    const int16_t* bs = x.bsums + 16 * b;
    int32_t isum = 0, msum = 0;
    for (int i = 0; i < 4; ++i) {
      // sub-block 2i: low nibbles of qs[32i..32i+32); 2i+1: the high nibbles
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (qs[32 * i + l] & 0x0f) * qx[64 * i + l];
        hi += (qs[32 * i + l] >> 4) * qx[64 * i + 32 + l];
      }
      isum += sc[2 * i] * lo + sc[2 * i + 1] * hi;
    }
    for (int j = 0; j < 8; ++j) msum += mn[j] * (bs[2 * j] + bs[2 * j + 1]);
    const float dx = x.dk[b];
    acc = std::fma(f16(w) * dx, static_cast<float>(isum), acc);
    acc = std::fma(-(f16(w + 2) * dx), static_cast<float>(msum), acc);
  }
  return acc;
}

float dot_q6_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 210) {
    const int8_t* scales = reinterpret_cast<const int8_t*>(w + 192);
    const int8_t* qx = x.qk + 256 * b;
    const int16_t* bs = x.bsums + 16 * b;
    int32_t isum = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = w + 64 * half;
      const uint8_t* qh = w + 128 + 32 * half;
      // run k (32 elements): low 4 bits from nibble (k >= 2) of ql[l + 32 (k & 1)], high 2 bits
      // from bits 2k..2k+1 of qh[l]; groups of 16 share a scale
      for (int k = 0; k < 4; ++k)
        for (int g = 0; g < 2; ++g) {
          const int gi = 8 * half + 2 * k + g;
          int32_t gsum = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l) {
            const int q6 = ((ql[l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f) | (((qh[l] >> (2 * k)) & 3) << 4);
            gsum += q6 * qx[128 * half + 32 * k + l];
          }
          isum += scales[gi] * (gsum - 32 * bs[gi]);
        }
    }
    acc = std::fma(f16(w + 208) * x.dk[b], static_cast<float>(isum), acc);
  }
  return acc;
}

template <float (*Dot)(const uint8_t*, const ActRow&)>
void tile(const uint8_t* w, uint64_t row_bytes, int nr, const ActRow* x, int nc, float* y, int64_t ldy) {
  for (int c = 0; c < nc; ++c)
    for (int r = 0; r < nr; ++r) y[c * ldy + r] = Dot(w + r * row_bytes, x[c]);
}

}  // namespace

const DotTable& scalar_table() {
  static const DotTable t{tile<dot_q8_0>, tile<dot_q4_0>, tile<dot_q4_1>, tile<dot_q5_0>, tile<dot_q4_k>,
                          tile<dot_q6_k>};
  return t;
}

}  // namespace rs::kernels::detail
