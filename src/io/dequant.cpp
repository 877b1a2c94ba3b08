// Dequantisation of ggml block formats to f32, bit-exact with ggml's reference
// (ggml-quants.c dequantize_row_*) and with the PyPI gguf package (gguf/quants.py), which
// computes the same products in the same order.
//
// Block layouts (facts from ggml-common.h, all little-endian, f16 = IEEE binary16):
//   Q4_0  (32 elems, 18 B): f16 d | u8 qs[16]         x = (nibble - 8) * d
//   Q4_1  (32 elems, 20 B): f16 d | f16 m | u8 qs[16] x = nibble * d + m
//   Q5_0  (32 elems, 22 B): f16 d | u32 qh | u8 qs[16]         x = (nibble | hbit<<4) - 16) * d
//   Q5_1  (32 elems, 24 B): f16 d | f16 m | u32 qh | u8 qs[16] x = (nibble | hbit<<4) * d + m
//   Q8_0  (32 elems, 34 B): f16 d | i8 qs[32]         x = q * d
//   For the 32-element types, element j < 16 uses the low nibble of qs[j], element j + 16
//   the high nibble; the 5th bit of element i is bit i of qh.
//   Q4_K (256 elems, 144 B): f16 d | f16 dmin | u8 scales[12] | u8 qs[128]
//   Q5_K (256 elems, 176 B): f16 d | f16 dmin | u8 scales[12] | u8 qh[32] | u8 qs[128]
//     8 sub-blocks of 32 with 6-bit scale sc and min m packed in scales[12];
//     x = (d * sc) * q - (dmin * m). Sub-block 2i takes the low nibbles of qs[32i..32i+32),
//     2i+1 the high nibbles; for Q5_K the 5th bit of sub-block k element l is bit k of qh[l].
//   Q6_K (256 elems, 210 B): u8 ql[128] | u8 qh[64] | i8 scales[16] | f16 d
//     16 groups of 16 with x = (d * scales[g]) * (q6 - 32).
#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "core/error.h"
#include "io/ggml_types.h"

// Bit-exactness needs a*b + c rounded twice, as ggml's C and numpy do: never fuse into FMA.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace rs {
namespace {

// Unaligned little-endian load (the host is little-endian: x86-64, aarch64).
inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// Branch-free binary16 -> binary32 bits, the same mapping as fp16_to_fp32 (exact; NaN payloads
// kept) written with selects so that the F16 loop vectorises. Shifting the 15 magnitude bits
// left by 13 lines the exponent up with binary32's; re-biasing adds (127 - 15) << 23.
inline uint32_t half_bits_to_float_bits(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = static_cast<uint32_t>(h & 0x7fffu) << 13;
  const uint32_t exp = em & 0x0f800000u;
  const uint32_t normal = em + (112u << 23);
  const uint32_t infnan = em + (224u << 23);
  // Subnormal: (2^-14 * (1 + m/1024)) - 2^-14 = m * 2^-24, exact.
  float sub;
  const uint32_t sub_in = em + (113u << 23);
  std::memcpy(&sub, &sub_in, 4);
  sub -= 6.103515625e-05f;  // 2^-14
  uint32_t sub_bits;
  std::memcpy(&sub_bits, &sub, 4);
  // Masks instead of branches so the loop vectorises.
  const uint32_t is_infnan = 0u - static_cast<uint32_t>(exp == 0x0f800000u);
  const uint32_t is_sub = 0u - static_cast<uint32_t>(exp == 0);
  const uint32_t mag = (normal & ~(is_infnan | is_sub)) | (infnan & is_infnan) | (sub_bits & is_sub);
  return sign | mag;
}

// Block scales: same value as fp16_to_fp32, branch-free so the block loops stay one basic
// block (the vectoriser gives up across branches).
inline float load_f16(const uint8_t* p) {
  const uint32_t bits = half_bits_to_float_bits(load_u16(p));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void dq_f32(const uint8_t* __restrict src, float* __restrict dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * 4);
}

void dq_f16(const uint8_t* __restrict src, float* __restrict dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = half_bits_to_float_bits(load_u16(src + 2 * i));
    std::memcpy(dst + i, &bits, 4);
  }
}

void dq_bf16(const uint8_t* __restrict src, float* __restrict dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(load_u16(src + 2 * i)) << 16;
    std::memcpy(dst + i, &bits, 4);
  }
}

// The 32-element formats decode their integers into q[32] first, then scale: two simple
// loops the compiler vectorises well.
inline void unpack_nibbles(const uint8_t* __restrict qs, uint8_t q[32]) {
  for (int j = 0; j < 16; ++j) {
    q[j] = qs[j] & 0x0f;
    q[j + 16] = qs[j] >> 4;
  }
}

void dq_q4_0(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 18, dst += 32) {
    const float d = load_f16(src);
    uint8_t q[32];
    unpack_nibbles(src + 2, q);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(q[j] - 8) * d;
  }
}

void dq_q4_1(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 20, dst += 32) {
    const float d = load_f16(src);
    const float m = load_f16(src + 2);
    uint8_t q[32];
    unpack_nibbles(src + 4, q);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(q[j]) * d + m;
  }
}

// Q5 high bits: byte b of qh spreads to 8 bytes holding 0x10 where its bit is set, via a
// 256-entry table (SSE2 has no per-lane variable shift, so this keeps the loops vectorised).
struct HighBitTable {
  uint64_t spread[256];
  constexpr HighBitTable() : spread() {
    for (int b = 0; b < 256; ++b) {
      uint64_t v = 0;
      for (int k = 0; k < 8; ++k)
        if (b & (1 << k)) v |= uint64_t{0x10} << (8 * k);
      spread[b] = v;
    }
  }
};
constexpr HighBitTable kHighBits;

// hb[i] = 0x10 if bit i of the little-endian u32 at p is set, else 0 (i < 32).
inline void spread_high_bits(const uint8_t* p, uint8_t hb[32]) {
  for (int k = 0; k < 4; ++k) std::memcpy(hb + 8 * k, &kHighBits.spread[p[k]], 8);
}

void dq_q5_0(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 22, dst += 32) {
    const float d = load_f16(src);
    uint8_t q[32], hb[32];
    spread_high_bits(src + 2, hb);
    unpack_nibbles(src + 6, q);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>((q[j] | hb[j]) - 16) * d;
  }
}

void dq_q5_1(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 24, dst += 32) {
    const float d = load_f16(src);
    const float m = load_f16(src + 2);
    uint8_t q[32], hb[32];
    spread_high_bits(src + 4, hb);
    unpack_nibbles(src + 8, q);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(q[j] | hb[j]) * d + m;
  }
}

void dq_q8_0(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 34, dst += 32) {
    const float d = load_f16(src);
    const int8_t* __restrict qs = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(qs[j]) * d;
  }
}

// The 8 six-bit (scale, min) pairs of Q4_K/Q5_K, packed in 12 bytes: pairs 0..3 are the low
// 6 bits of bytes 0..3 (scale) and 4..7 (min); pairs 4..7 take their low 4 bits from bytes
// 8..11 (scale: low nibble, min: high nibble) and their top 2 bits from the top 2 bits of
// bytes 0..3 (scale) and 4..7 (min).
inline void unpack_k_scales(const uint8_t* s, uint8_t sc[8], uint8_t mn[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
    mn[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}

void dq_q4_k(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 144, dst += 256) {
    const float d = load_f16(src);
    const float dmin = load_f16(src + 2);
    uint8_t sc[8], mn[8];
    unpack_k_scales(src + 4, sc, mn);
    const uint8_t* __restrict qs = src + 16;
    for (int i = 0; i < 4; ++i) {
      const float d1 = d * static_cast<float>(sc[2 * i]);
      const float m1 = dmin * static_cast<float>(mn[2 * i]);
      const float d2 = d * static_cast<float>(sc[2 * i + 1]);
      const float m2 = dmin * static_cast<float>(mn[2 * i + 1]);
      const uint8_t* __restrict q = qs + 32 * i;
      float* __restrict y = dst + 64 * i;
      for (int l = 0; l < 32; ++l) y[l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) y[l + 32] = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dq_q5_k(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 176, dst += 256) {
    const float d = load_f16(src);
    const float dmin = load_f16(src + 2);
    uint8_t sc[8], mn[8];
    unpack_k_scales(src + 4, sc, mn);
    const uint8_t* qh = src + 16;
    const uint8_t* __restrict qs = src + 48;
    for (int i = 0; i < 4; ++i) {
      const float d1 = d * static_cast<float>(sc[2 * i]);
      const float m1 = dmin * static_cast<float>(mn[2 * i]);
      const float d2 = d * static_cast<float>(sc[2 * i + 1]);
      const float m2 = dmin * static_cast<float>(mn[2 * i + 1]);
      const uint8_t* __restrict q = qs + 32 * i;
      float* __restrict y = dst + 64 * i;
      const int s1 = 2 * i, s2 = 2 * i + 1;
      for (int l = 0; l < 32; ++l)
        y[l] = d1 * static_cast<float>((q[l] & 0x0f) | (((qh[l] >> s1) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l)
        y[l + 32] = d2 * static_cast<float>((q[l] >> 4) | (((qh[l] >> s2) & 1) << 4)) - m2;
    }
  }
}

void dq_q6_k(const uint8_t* __restrict src, float* __restrict dst, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, src += 210, dst += 256) {
    const float d = load_f16(src + 208);
    const int8_t* scales = reinterpret_cast<const int8_t*>(src + 192);
    float ds[16];
    for (int g = 0; g < 16; ++g) ds[g] = d * static_cast<float>(scales[g]);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = src + 64 * half;
      const uint8_t* qh = src + 128 + 32 * half;
      const float* s = ds + 8 * half;
      float* y = dst + 128 * half;
      // Four 32-element runs: run k holds nibble (k >= 2) of ql[l + 32*(k & 1)] and bits
      // 2k..2k+1 of qh[l]; its two groups of 16 use scales s[2k] and s[2k + 1].
      for (int k = 0; k < 4; ++k) {
        const uint8_t* lo = ql + 32 * (k & 1);
        const int nib_shift = (k >> 1) * 4;
        const int h_shift = 2 * k;
        for (int g = 0; g < 2; ++g) {
          const float scale = s[2 * k + g];
          const uint8_t* __restrict lo_g = lo + 16 * g;
          const uint8_t* __restrict qh_g = qh + 16 * g;
          float* __restrict y_g = y + 32 * k + 16 * g;
          for (int l = 0; l < 16; ++l) {
            const int q = (((lo_g[l] >> nib_shift) & 0x0f) | (((qh_g[l] >> h_shift) & 3) << 4)) - 32;
            y_g[l] = scale * static_cast<float>(q);
          }
        }
      }
    }
  }
}

}  // namespace

void dequantize(GgmlType t, const uint8_t* src, float* dst, int64_t n) {
  if (!ggml_type_dequant_supported(t))
    fail("dequantize: type ", ggml_type_name(t), " (id ", static_cast<uint32_t>(t),
         ") is not supported; supported: F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K");
  const int64_t block = ggml_block_size(t);
  if (n < 0 || n % block != 0)
    fail("dequantize: type ", ggml_type_name(t), ": expected an element count that is a multiple of ",
         block, ", found ", n);
  if (n == 0) return;
  const int64_t nb = n / block;
  switch (t) {
    case GgmlType::F32: return dq_f32(src, dst, n);
    case GgmlType::F16: return dq_f16(src, dst, n);
    case GgmlType::BF16: return dq_bf16(src, dst, n);
    case GgmlType::Q4_0: return dq_q4_0(src, dst, nb);
    case GgmlType::Q4_1: return dq_q4_1(src, dst, nb);
    case GgmlType::Q5_0: return dq_q5_0(src, dst, nb);
    case GgmlType::Q5_1: return dq_q5_1(src, dst, nb);
    case GgmlType::Q8_0: return dq_q8_0(src, dst, nb);
    case GgmlType::Q4_K: return dq_q4_k(src, dst, nb);
    case GgmlType::Q5_K: return dq_q5_k(src, dst, nb);
    case GgmlType::Q6_K: return dq_q6_k(src, dst, nb);
    default: break;
  }
  fail("dequantize: type ", ggml_type_name(t), " has no kernel");  // unreachable
}

void dequantize_parallel(GgmlType t, const uint8_t* src, float* dst, int64_t n, int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Validate on the caller's thread so errors surface as rs::Error, not std::terminate.
  if (!ggml_type_dequant_supported(t) || n < 0 || n % ggml_block_size(t) != 0 || n_threads == 1)
    return dequantize(t, src, dst, n);
  const int64_t block = ggml_block_size(t);
  const uint64_t block_bytes = ggml_type_size(t);
  const int64_t nb = n / block;
  // Below ~64K elements per thread the thread start-up costs more than it saves.
  constexpr int64_t kMinElemsPerThread = 1 << 16;
  const int64_t max_threads = std::max<int64_t>(1, n / kMinElemsPerThread);
  const int64_t threads = std::min<int64_t>(n_threads, max_threads);
  if (threads <= 1) return dequantize(t, src, dst, n);
  const int64_t per = (nb + threads - 1) / threads;  // blocks per thread
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads - 1));
  for (int64_t k = 1; k < threads; ++k) {
    const int64_t b0 = k * per, b1 = std::min(nb, b0 + per);
    if (b0 >= b1) break;
    pool.emplace_back([=] {
      dequantize(t, src + static_cast<uint64_t>(b0) * block_bytes, dst + b0 * block,
                 (b1 - b0) * block);
    });
  }
  dequantize(t, src, dst, std::min(nb, per) * block);
  for (auto& th : pool) th.join();
}

}  // namespace rs
