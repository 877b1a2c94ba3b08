// The portable kernels: plain C++ integer sums per block, then f32 scaling (quant_matmul.h has
// the formulas). The reference the SIMD paths are tested against.
#include "kernels/dot_kernels.h"

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
    const int32_t sumx = x.sum16[2 * b] + x.sum16[2 * b + 1];
    const int32_t isum = nibble_dot(w + 2, x.q + 32 * b) - 8 * sumx;
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
    isum -= 16 * (x.sum16[2 * b] + x.sum16[2 * b + 1]);
    acc += f16(w) * x.d[b] * static_cast<float>(isum);
  }
  return acc;
}

float dot_q4_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 144) {
    const float d = f16(w), dmin = f16(w + 2);
    uint8_t sc[8], mn[8];
    unpack_q4k_scales(w + 4, sc, mn);
    const uint8_t* qs = w + 16;
    for (int i = 0; i < 4; ++i) {
      // sub-block 2i: low nibbles of qs[32i..32i+32); 2i+1: the high nibbles
      const int64_t xb = 8 * b + 2 * i;
      const int8_t* qx = x.q + 32 * xb;
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (qs[32 * i + l] & 0x0f) * qx[l];
        hi += (qs[32 * i + l] >> 4) * qx[32 + l];
      }
      acc += d * sc[2 * i] * x.d[xb] * static_cast<float>(lo) - dmin * mn[2 * i] * x.s[xb];
      acc += d * sc[2 * i + 1] * x.d[xb + 1] * static_cast<float>(hi) - dmin * mn[2 * i + 1] * x.s[xb + 1];
    }
  }
  return acc;
}

float dot_q6_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 210) {
    const float d = f16(w + 208);
    const int8_t* scales = reinterpret_cast<const int8_t*>(w + 192);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = w + 64 * half;
      const uint8_t* qh = w + 128 + 32 * half;
      // run k (32 elements = one activation block): low 4 bits from nibble (k >= 2) of
      // ql[l + 32 (k & 1)], high 2 bits from bits 2k..2k+1 of qh[l]; groups of 16 share a scale
      for (int k = 0; k < 4; ++k) {
        const int64_t xb = 8 * b + 4 * half + k;
        const int8_t* qx = x.q + 32 * xb;
        for (int g = 0; g < 2; ++g) {
          int32_t isum = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l) {
            const int q6 = ((ql[l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f) | (((qh[l] >> (2 * k)) & 3) << 4);
            isum += q6 * qx[l];
          }
          isum -= 32 * x.sum16[2 * xb + g];
          acc += d * scales[8 * half + 2 * k + g] * x.d[xb] * static_cast<float>(isum);
        }
      }
    }
  }
  return acc;
}

}  // namespace

const DotTable& scalar_table() {
  static const DotTable t{dot_q8_0, dot_q4_0, dot_q4_1, dot_q5_0, dot_q4_k, dot_q6_k};
  return t;
}

}  // namespace rs::kernels::detail
