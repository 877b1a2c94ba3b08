// The x86 SIMD kernels, written once and compiled twice (dot_avx2.cpp, dot_avx512.cpp) with
// different target attributes: the includer defines
//   RS_SIMD_NS      namespace for this copy
//   RS_SIMD_TARGET  __attribute__((target(...))) for every function here
//   RS_SIMD_VNNI    1: integer dot with vpdpbusd (AVX-512 VNNI), 0: vpmaddubsw + vpmaddwd (AVX2)
// Each 32-element block is one 256-bit vector of 8-bit integers: weights as unsigned bytes (the
// nibble or 6-bit value, or |w| for Q8_0 with the sign moved onto x, as ggml does), activations
// as signed bytes; their products summed in groups of four give 8 int32 lanes, converted to f32
// and scaled by the block's (weight scale * activation scale). Offsets such as Q4_0's "- 8"
// are subtracted from lane 0 as exact integers. No ggml code is copied; the block layouts are
// the ones documented in quant_matmul.h.
#include <immintrin.h>

namespace rs::kernels::detail::RS_SIMD_NS {
namespace {

#define RS_INLINE RS_SIMD_TARGET inline __attribute__((always_inline))

RS_INLINE float f16(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

// 8 int32 lanes: lane i = sum_{k<4} u[4i + k] * s[4i + k]  (u unsigned, s signed bytes)
RS_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
#if RS_SIMD_VNNI
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  // u <= 128 and |s| <= 127 here, so the pairwise 16-bit sums cannot saturate (2*128*127 < 2^15)
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

RS_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 32 nibbles of a Q4 block as bytes in element order: low halves of qs[0..16) first.
RS_INLINE __m256i nibbles32(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(0x0f);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(t, 4), m), _mm_and_si128(t, m));
}

RS_INLINE __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// an int32 vector with v in lane 0 (and `hi` in lane 4), zeros elsewhere
RS_INLINE __m256i lanes0_4(int32_t v, int32_t hi = 0) { return _mm256_setr_epi32(v, 0, 0, 0, hi, 0, 0, 0); }

RS_SIMD_TARGET float dot_q8_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 1 < nb; b += 2, w += 68) {  // two blocks per iteration: two independent chains
    const __m256i w0 = load32(w + 2), w1 = load32(w + 36);
    const __m256i i0 = dot_u8s8(_mm256_abs_epi8(w0), _mm256_sign_epi8(load32(x.q + 32 * b), w0));
    const __m256i i1 = dot_u8s8(_mm256_abs_epi8(w1), _mm256_sign_epi8(load32(x.q + 32 * b + 32), w1));
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_set1_ps(f16(w) * x.d[b]), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), _mm256_set1_ps(f16(w + 34) * x.d[b + 1]), acc1);
  }
  for (; b < nb; ++b, w += 34) {
    const __m256i w0 = load32(w + 2);
    const __m256i i0 = dot_u8s8(_mm256_abs_epi8(w0), _mm256_sign_epi8(load32(x.q + 32 * b), w0));
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_set1_ps(f16(w) * x.d[b]), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

RS_SIMD_TARGET float dot_q4_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, w += 18) {
    __m256i i = dot_u8s8(nibbles32(w + 2), load32(x.q + 32 * b));
    i = _mm256_sub_epi32(i, lanes0_4(8 * (x.sum16[2 * b] + x.sum16[2 * b + 1])));  // (nib - 8) qx
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(f16(w) * x.d[b]), acc);
  }
  return hsum(acc);
}

RS_SIMD_TARGET float dot_q4_1(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float acc_m = 0.0f;  // sum_b m_b * s_b  (the block minimum times the activations' block sum)
  int64_t b = 0;
  for (; b + 1 < nb; b += 2, w += 40) {
    const __m256i i0 = dot_u8s8(nibbles32(w + 4), load32(x.q + 32 * b));
    const __m256i i1 = dot_u8s8(nibbles32(w + 24), load32(x.q + 32 * b + 32));
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_set1_ps(f16(w) * x.d[b]), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), _mm256_set1_ps(f16(w + 20) * x.d[b + 1]), acc1);
    acc_m += f16(w + 2) * x.s[b] + f16(w + 22) * x.s[b + 1];
  }
  for (; b < nb; ++b, w += 20) {
    const __m256i i0 = dot_u8s8(nibbles32(w + 4), load32(x.q + 32 * b));
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_set1_ps(f16(w) * x.d[b]), acc0);
    acc_m += f16(w + 2) * x.s[b];
  }
  return hsum(_mm256_add_ps(acc0, acc1)) + acc_m;
}

// Bit j of `bits` as byte j: 0x10 where set, 0 elsewhere (Q5_0's fifth bit, in place). Byte j
// takes byte j / 8 of `bits` (a shuffle within each 128-bit half; both halves hold all four
// bytes), keeps bit j % 8 and compares with that bit.
RS_INLINE __m256i fifth_bits(uint32_t bits) {
  const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)), pick);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

RS_SIMD_TARGET float dot_q5_0(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 32;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, w += 22) {
    // q5 = nibble | fifth bit (0..31); (q5 - 16) qx summed = dot - 16 sum qx
    const __m256i q5 = _mm256_or_si256(nibbles32(w + 6), fifth_bits(load_u32(w + 2)));
    __m256i i = dot_u8s8(q5, load32(x.q + 32 * b));
    i = _mm256_sub_epi32(i, lanes0_4(16 * (x.sum16[2 * b] + x.sum16[2 * b + 1])));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(f16(w) * x.d[b]), acc);
  }
  return hsum(acc);
}

RS_SIMD_TARGET float dot_q4_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float acc_m = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 144) {
    const float d = f16(w), dmin = f16(w + 2);
    uint8_t sc[8], mn[8];
    unpack_q4k_scales(w + 4, sc, mn);
    for (int i = 0; i < 4; ++i) {
      const int64_t xb = 8 * b + 2 * i;  // activation block of sub-block 2i (2i + 1 follows)
      const __m256i q = load32(w + 16 + 32 * i);
      const __m256i lo = dot_u8s8(_mm256_and_si256(q, m4), load32(x.q + 32 * xb));
      const __m256i hi = dot_u8s8(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), load32(x.q + 32 * xb + 32));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), _mm256_set1_ps(d * sc[2 * i] * x.d[xb]), acc);
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), _mm256_set1_ps(d * sc[2 * i + 1] * x.d[xb + 1]), acc);
      acc_m += dmin * mn[2 * i] * x.s[xb] + dmin * mn[2 * i + 1] * x.s[xb + 1];
    }
  }
  return hsum(acc) - acc_m;
}

RS_SIMD_TARGET float dot_q6_k(const uint8_t* w, const ActRow& x) {
  const int64_t nb = x.n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, w += 210) {
    const float d = f16(w + 208);
    const int8_t* scales = reinterpret_cast<const int8_t*>(w + 192);
    for (int half = 0; half < 2; ++half) {
      const __m256i ql0 = load32(w + 64 * half), ql1 = load32(w + 64 * half + 32);
      const __m256i qh = load32(w + 128 + 32 * half);
      // run k: low 4 bits = nibble (k >= 2) of ql[l + 32 (k & 1)], high 2 bits = bits 2k.. of qh
      const __m256i lo4[4] = {_mm256_and_si256(ql0, m4), _mm256_and_si256(ql1, m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4)};
      const __m256i hi2[4] = {_mm256_and_si256(qh, m2), _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2),
                              _mm256_and_si256(_mm256_srli_epi16(qh, 4), m2),
                              _mm256_and_si256(_mm256_srli_epi16(qh, 6), m2)};
      for (int k = 0; k < 4; ++k) {
        const int64_t xb = 8 * b + 4 * half + k;
        const __m256i q6 = _mm256_or_si256(lo4[k], _mm256_slli_epi16(hi2[k], 4));
        __m256i i = dot_u8s8(q6, load32(x.q + 32 * xb));
        // (q6 - 32) qx: lanes 0-3 hold group 0 (elements 0-15), lanes 4-7 group 1
        i = _mm256_sub_epi32(i, lanes0_4(32 * x.sum16[2 * xb], 32 * x.sum16[2 * xb + 1]));
        const float dx = d * x.d[xb];
        const __m256 scale = _mm256_set_m128(_mm_set1_ps(dx * scales[8 * half + 2 * k + 1]),
                                             _mm_set1_ps(dx * scales[8 * half + 2 * k]));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, acc);
      }
    }
  }
  return hsum(acc);
}

#undef RS_INLINE

}  // namespace

const DotTable& table() {
  static const DotTable t{dot_q8_0, dot_q4_0, dot_q4_1, dot_q5_0, dot_q4_k, dot_q6_k};
  return t;
}

}  // namespace rs::kernels::detail::RS_SIMD_NS
