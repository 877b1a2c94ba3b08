// The portable kernels: plain C++ integer sums per block, then f32 scaling (quant_matmul.h has
// the formulas). The reference the SIMD paths are tested against.
#include "kernels/dot_kernels.h"

#include <cmath>

namespace rs::kernels::detail {
namespace {

inline float f16(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

float dot_q8_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 34) {
    const int8_t* qw = reinterpret_cast<const int8_t*>(w + 2);
    const int8_t* qx = x.q + 32 * b;
    int32_t isum = 0;
    for (int j = 0; j < 32; ++j) isum += qw[j] * qx[j];
    acc += f16(w) * x.d[b] * static_cast<float>(isum);
  }
  return acc;
}

// sum_j nib_j * qx_j over one 32-block whose nibbles are packed in qs[16]
inline int32_t nibble_dot(const uint8_t* qs, const int8_t* qx) {
  int32_t isum = 0;
  for (int j = 0; j < 16; ++j) isum += (qs[j] & 0x0f) * qx[j] + (qs[j] >> 4) * qx[j + 16];
  return isum;
}

float dot_q4_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 18) {
    // (nib - 8) * qx summed = nibble_dot - 8 * sum qx
    const int32_t isum = nibble_dot(w + 2, x.q + 32 * b) - 8 * x.sum[b];
    acc += f16(w) * x.d[b] * static_cast<float>(isum);
  }
  return acc;
}

float dot_q4_1(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 20) {
    const int32_t isum = nibble_dot(w + 4, x.q + 32 * b);
    acc += f16(w) * x.d[b] * static_cast<float>(isum) + f16(w + 2) * x.s[b];
  }
  return acc;
}

float dot_q5_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 22) {
    // element j: (nibble j | bit j of qh << 4) - 16; summed as sum q5*qx - 16 sum qx
    const uint32_t qh = load_u32(w + 2);
    const uint8_t* qs = w + 6;
    const int8_t* qx = x.q + 32 * b;
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1) << 4);
      const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
      isum += lo * qx[j] + hi * qx[j + 16];
    }
    isum -= 16 * x.sum[b];
    acc += f16(w) * x.d[b] * static_cast<float>(isum);
  }
  return acc;
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
