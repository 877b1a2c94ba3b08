// The x86 SIMD kernels, written once and compiled twice (dot_avx2.cpp, dot_avx512.cpp) with
// different target attributes: the includer defines
//   RS_SIMD_NS      namespace for this copy
//   RS_SIMD_TARGET  __attribute__((target(...))) for every function here
//   RS_SIMD_VNNI    1: integer dot with vpdpbusd (AVX-512 VNNI), 0: vpmaddubsw + vpmaddwd (AVX2)
// Each 32-element block is one 256-bit vector of 8-bit integers: weights as unsigned bytes (the
// nibble or 6-bit value, or |w| for Q8_0 with the sign moved onto x, as ggml does), activations
// as signed bytes; their products summed in groups of four give 8 int32 lanes, converted to f32
// and scaled by the block's (weight scale * activation scale). Offsets such as Q4_0's "- 8"
// are subtracted from lane 0 as exact integers. K-quants: vpmaddubsw gives 16-bit pair sums,
// which vpdpwssd (or vpmaddwd) multiplies by the integer sub-block scales into 32-bit sums, so a
// 256-block needs f32 work only once. Every kernel is a tile of up to 4 weight rows x 4
// activation rows: a weight block is unpacked once per tile. No ggml code is copied; the block
// layouts are the ones documented in quant_matmul.h.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace rs::kernels::detail::RS_SIMD_NS {
namespace {

#define RS_INLINE RS_SIMD_TARGET inline __attribute__((always_inline))

// Decoding (one activation row) reads each weight row once, in 4 interleaved streams (a tile's
// rows); the hardware prefetcher alone left the Q8_0 / Q5_0 tiles at about half of one thread's
// streaming read (busy machine). Each block asks for the cache lines 512 bytes ahead of it.
template <int Bytes>
RS_INLINE void prefetch_ahead(const uint8_t* blk) {
  for (int o = 0; o < Bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(blk) + 512 + o, _MM_HINT_T0);
}

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
// The 16 bytes go to both halves (one broadcast load); the upper half is shifted right by 4 in
// 64-bit lanes, which puts each byte's high nibble in its low nibble (the bits shifted in from
// the next byte land in the high nibble, which the mask drops): 3 operations instead of 5.
RS_INLINE __m256i nibbles32(const uint8_t* qs) {
  const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi64(t, _mm256_set_epi64x(4, 4, 0, 0)), _mm256_set1_epi8(0x0f));
}

RS_INLINE __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// acc + sum of the pairs of 16-bit products p * s (vpdpwssd, or vpmaddwd + vpaddd)
RS_INLINE __m256i madd_acc(__m256i acc, __m256i p, __m256i s) {
#if RS_SIMD_VNNI
  return _mm256_dpwssd_epi32(acc, p, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
#endif
}

// acc + dot_u8s8(u, s)
RS_INLINE __m256i dot_acc(__m256i acc, __m256i u, __m256i s) {
#if RS_SIMD_VNNI
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, dot_u8s8(u, s));
#endif
}

// lane i = the total of the 8 lanes of v_i (exact integer sums)
RS_INLINE __m128i hsum4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

// an int32 vector with v in lane 0, zeros elsewhere
RS_INLINE __m256i lane0(int32_t v) { return _mm256_zextsi128_si256(_mm_cvtsi32_si128(v)); }

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

// A Q5_0 block's 32 values (0..31) as bytes: the nibbles at qs, plus 16 where bit j of `bits`
// is set. The AVX-512 copy (BW + VL) takes the 32 bits as a byte mask: one masked add instead
// of fifth_bits' four operations; the bytes are the same (a nibble plus 16 is the nibble or 16).
RS_INLINE __m256i q5_values(const uint8_t* qs, uint32_t bits) {
#if RS_SIMD_VNNI
  const __m256i n = nibbles32(qs);
  return _mm256_mask_add_epi8(n, static_cast<__mmask32>(bits), n, _mm256_set1_epi8(0x10));
#else
  return _mm256_or_si256(nibbles32(qs), fifth_bits(bits));
#endif
}

// ---------------------------------------------------------------- 32-block types
// Per output (r, c) one f32 vector: acc += f32(integer lanes of block b) * (dw_r dx_c); the
// integer lanes start at -off * sum(qx) (the weights' zero point, as an exact integer).

enum class Fmt { Q8_0, Q4_0, Q4_1, Q5_0 };
template <Fmt F> constexpr int kBytes = F == Fmt::Q8_0 ? 34 : F == Fmt::Q4_0 ? 18 : F == Fmt::Q4_1 ? 20 : 22;
template <Fmt F> constexpr int kOff = F == Fmt::Q4_0 ? 8 : F == Fmt::Q5_0 ? 16 : 0;

template <Fmt F, int NR, int NC>
RS_SIMD_TARGET void tile32(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t ldy) {
  const int64_t nb = x[0].n / 32;
  __m256 acc[NR][NC];
  __m128 accm[NR];  // Q4_1: sum_b m_b s_b, the activation rows in the lanes
  for (int r = 0; r < NR; ++r) {
    accm[r] = _mm_setzero_ps();
    for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    __m256i u[NR];
    __m256 dw[NR];
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = w + r * rb + kBytes<F> * b;
      if (NC == 1) prefetch_ahead<kBytes<F>>(blk);
      dw[r] = _mm256_set1_ps(f16(blk));
      if (F == Fmt::Q8_0) u[r] = load32(blk + 2);  // signed; see below
      if (F == Fmt::Q4_0) u[r] = nibbles32(blk + 2);
      if (F == Fmt::Q4_1) u[r] = nibbles32(blk + 4);
      if (F == Fmt::Q5_0) u[r] = q5_values(blk + 6, load_u32(blk + 2));
    }
    if (F == Fmt::Q4_1 && NC == 1) {  // the weight rows in the lanes of accm[0]
      alignas(8) uint16_t m4[4] = {0, 0, 0, 0};
      for (int r = 0; r < NR; ++r) m4[r] = load_u16(w + r * rb + kBytes<F> * b + 2);
      accm[0] = _mm_fmadd_ps(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m4))),
                             _mm_set1_ps(x[0].s[b]), accm[0]);
    } else if (F == Fmt::Q4_1) {
      float s4[4] = {0, 0, 0, 0};
      for (int c = 0; c < NC; ++c) s4[c] = x[c].s[b];
      const __m128 sv = _mm_loadu_ps(s4);
      for (int r = 0; r < NR; ++r) accm[r] = _mm_fmadd_ps(_mm_set1_ps(f16(w + r * rb + kBytes<F> * b + 2)), sv, accm[r]);
    }
    for (int c = 0; c < NC; ++c) {
      const __m256i xq = load32(x[c].q + 32 * b);
      const __m256 dx = _mm256_broadcast_ss(x[c].d + b);
      const __m256i init = kOff<F> ? lane0(-kOff<F> * x[c].sum[b]) : _mm256_setzero_si256();
      for (int r = 0; r < NR; ++r) {
        // Q8_0: |w| times x with w's sign (ggml's trick), as maddubs needs an unsigned side
        const __m256i i = F == Fmt::Q8_0 ? dot_acc(init, _mm256_abs_epi8(u[r]), _mm256_sign_epi8(xq, u[r]))
                                         : dot_acc(init, u[r], xq);
        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_mul_ps(dw[r], dx), acc[r][c]);
      }
    }
  }
  float m[NR][4];
  for (int r = 0; r < NR; ++r) _mm_storeu_ps(m[r], accm[r]);
  for (int r = 0; r < NR; ++r)
    for (int c = 0; c < NC; ++c) y[c * ldy + r] = hsum(acc[r][c]) + (NC == 1 ? m[0][r] : m[r][c]);
}

// ---------------------------------------------------------------- K-quants
// Integer sums per output over a 256-block (sub-block scales applied as integers), then, per
// output, acc = fma(dw dx, isum, acc) and acc = fma(-(dmin dx), msum, acc) in f32, exactly as
// dot_scalar.cpp does. Outputs sit in the lanes of __m128 vectors: the 4 activation rows of a
// weight row (NC > 1), or the 4 weight rows (NC == 1, decoding).

template <int NR, int NC>
struct KAcc {
  static constexpr bool kRowLanes = NC == 1;
  __m128 a[kRowLanes ? 1 : NR];

  RS_INLINE KAcc() {
    for (auto& v : a) v = _mm_setzero_ps();
  }
  // is[r][c], ms[r][c]: the block's integer sums; dw/dm the weight rows' scales; dx the
  // activation rows' block scales
  template <bool Mins>
  RS_INLINE void add(const __m256i (&is)[NR][NC], const __m256i (&ms)[NR][NC], const float* dw, const float* dm,
                     const float* dx) {
    const __m256i z = _mm256_setzero_si256();
    if (kRowLanes) {
      float w4[4] = {0, 0, 0, 0}, m4[4] = {0, 0, 0, 0};
      __m256i iv[4] = {z, z, z, z}, mv[4] = {z, z, z, z};
      for (int r = 0; r < NR; ++r) {
        w4[r] = dw[r];
        m4[r] = dm[r];
        iv[r] = is[r][0];
        mv[r] = ms[r][0];
      }
      const __m128 d = _mm_set1_ps(dx[0]);
      a[0] = _mm_fmadd_ps(_mm_mul_ps(_mm_loadu_ps(w4), d), _mm_cvtepi32_ps(hsum4(iv[0], iv[1], iv[2], iv[3])), a[0]);
      if (Mins)
        a[0] = _mm_fnmadd_ps(_mm_mul_ps(_mm_loadu_ps(m4), d), _mm_cvtepi32_ps(hsum4(mv[0], mv[1], mv[2], mv[3])), a[0]);
    } else {
      float x4[4] = {0, 0, 0, 0};
      for (int c = 0; c < NC; ++c) x4[c] = dx[c];
      const __m128 d = _mm_loadu_ps(x4);
      for (int r = 0; r < NR; ++r) {
        __m256i iv[4] = {z, z, z, z}, mv[4] = {z, z, z, z};
        for (int c = 0; c < NC; ++c) {
          iv[c] = is[r][c];
          mv[c] = ms[r][c];
        }
        a[r] = _mm_fmadd_ps(_mm_mul_ps(_mm_set1_ps(dw[r]), d), _mm_cvtepi32_ps(hsum4(iv[0], iv[1], iv[2], iv[3])), a[r]);
        if (Mins)
          a[r] = _mm_fnmadd_ps(_mm_mul_ps(_mm_set1_ps(dm[r]), d), _mm_cvtepi32_ps(hsum4(mv[0], mv[1], mv[2], mv[3])), a[r]);
      }
    }
  }
  RS_INLINE void store(float* y, int64_t ldy) const {
    float t[4];
    if (kRowLanes) {
      _mm_storeu_ps(t, a[0]);
      for (int r = 0; r < NR; ++r) y[r] = t[r];
    } else {
      for (int r = 0; r < NR; ++r) {
        _mm_storeu_ps(t, a[r]);
        for (int c = 0; c < NC; ++c) y[c * ldy + r] = t[c];
      }
    }
  }
};

template <int NR, int NC>
RS_SIMD_TARGET void tile_q4_k(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t ldy) {
  const int64_t nb = x[0].n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  KAcc<NR, NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    float dw[NR], dm[NR], dx[NC];
    __m256i sc16[NR];  // the 8 sub-block scales as 16-bit integers, in both 128-bit halves
    __m256i mins[NR];  // min of sub-block j at 16-bit positions 2j, 2j + 1 (one per 16 elements)
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = w + r * rb + 144 * b;
      if (NC == 1) prefetch_ahead<144>(blk);
      dw[r] = f16(blk);
      dm[r] = f16(blk + 2);
      // the 6-bit scales and mins of unpack_q4k_scales, four at a time in 32-bit words
      const uint32_t a = load_u32(blk + 4), m = load_u32(blk + 8), c = load_u32(blk + 12);
      const uint64_t sc = (a & 0x3f3f3f3fu) | uint64_t{(c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)} << 32;
      const uint64_t mn = (m & 0x3f3f3f3fu) | uint64_t{((c >> 4) & 0x0f0f0f0fu) | ((m >> 2) & 0x30303030u)} << 32;
      sc16[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
      const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mn)));
      mins[r] = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
    }
    for (int c = 0; c < NC; ++c) dx[c] = x[c].dk[b];
    __m256i is[NR][NC], ms[NR][NC];
    for (int r = 0; r < NR; ++r)
      for (int c = 0; c < NC; ++c) is[r][c] = _mm256_setzero_si256();
    for (int i = 0; i < 4; ++i) {  // elements 64i..64i+64: sub-blocks 2i (low nibbles), 2i+1 (high)
#if RS_SIMD_VNNI
      // vpdpbusd sums of 4 (at most 4 * 15 * 127, so 16 bits hold them) for both sub-blocks,
      // packed to 16 bits (per 128-bit half: 4 sums of 2i, then 4 of 2i+1) and multiplied by
      // their scales with one vpdpwssd: 3 multiply instructions per 64 elements instead of 4
      __m256i lo[NR], hi[NR], s2[NR];
      const __m256i pick = _mm256_setr_epi8(4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1,
                                            4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3,
                                            4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1, 4 * i, 4 * i + 1,
                                            4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3, 4 * i + 2, 4 * i + 3);
      for (int r = 0; r < NR; ++r) {
        const __m256i q = load32(w + r * rb + 144 * b + 16 + 32 * i);
        lo[r] = _mm256_and_si256(q, m4);
        hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        s2[r] = _mm256_shuffle_epi8(sc16[r], pick);
      }
      for (int c = 0; c < NC; ++c) {
        const int8_t* xq = x[c].qk + 256 * b + 64 * i;
        const __m256i xl = load32(xq), xh = load32(xq + 32);
        for (int r = 0; r < NR; ++r) {
          const __m256i z = _mm256_setzero_si256();
          const __m256i p = _mm256_packs_epi32(_mm256_dpbusd_epi32(z, lo[r], xl), _mm256_dpbusd_epi32(z, hi[r], xh));
          is[r][c] = _mm256_dpwssd_epi32(is[r][c], p, s2[r]);
        }
      }
#else
      __m256i lo[NR], hi[NR], sl[NR], sh[NR];
      // bytes 4i..4i+1 (scale 2i) and 4i+2..4i+3 (scale 2i+1) of sc16, in every 16-bit lane
      const __m256i pick_lo = _mm256_set1_epi16(static_cast<int16_t>((4 * i) | (4 * i + 1) << 8));
      const __m256i pick_hi = _mm256_set1_epi16(static_cast<int16_t>((4 * i + 2) | (4 * i + 3) << 8));
      for (int r = 0; r < NR; ++r) {
        const __m256i q = load32(w + r * rb + 144 * b + 16 + 32 * i);
        lo[r] = _mm256_and_si256(q, m4);
        hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        sl[r] = _mm256_shuffle_epi8(sc16[r], pick_lo);
        sh[r] = _mm256_shuffle_epi8(sc16[r], pick_hi);
      }
      for (int c = 0; c < NC; ++c) {
        const int8_t* xq = x[c].qk + 256 * b + 64 * i;
        const __m256i xl = load32(xq), xh = load32(xq + 32);
        for (int r = 0; r < NR; ++r) {
          is[r][c] = madd_acc(is[r][c], _mm256_maddubs_epi16(lo[r], xl), sl[r]);
          is[r][c] = madd_acc(is[r][c], _mm256_maddubs_epi16(hi[r], xh), sh[r]);
        }
      }
#endif
    }
    for (int c = 0; c < NC; ++c) {
      const __m256i bs = load32(x[c].bsums + 16 * b);
      for (int r = 0; r < NR; ++r) ms[r][c] = _mm256_madd_epi16(mins[r], bs);
    }
    acc.template add<true>(is, ms, dw, dm, dx);
  }
  acc.store(y, ldy);
}

template <int NR, int NC>
RS_SIMD_TARGET void tile_q6_k(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t ldy) {
  const int64_t nb = x[0].n / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03);
  KAcc<NR, NC> acc;
  for (int64_t b = 0; b < nb; ++b) {
    float dw[NR], dx[NC];
    const int8_t* scales[NR];
    __m256i is[NR][NC];
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = w + r * rb + 210 * b;
      if (NC == 1) prefetch_ahead<210>(blk);
      dw[r] = f16(blk + 208);
      scales[r] = reinterpret_cast<const int8_t*>(blk + 192);
      // -32 sum_g sc_g bsum_g (the 6-bit values' zero point), folded into the integer sums
      const __m256i corr = _mm256_sub_epi16(_mm256_setzero_si256(),
          _mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192))), 5));
      for (int c = 0; c < NC; ++c) is[r][c] = _mm256_madd_epi16(corr, load32(x[c].bsums + 16 * b));
    }
    for (int c = 0; c < NC; ++c) dx[c] = x[c].dk[b];
    for (int half = 0; half < 2; ++half) {
      __m256i sc8[NR];  // the half's 8 group scales as 16-bit integers, in both 128-bit halves
      for (int r = 0; r < NR; ++r)
        sc8[r] = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales[r] + 8 * half))));
#if RS_SIMD_VNNI
      // runs k and k + 1 at once: vpdpbusd sums of 4 (at most 4 * 63 * 127, within 16 bits),
      // packed to 16 bits (per 128-bit half: run k's 4 sums, then run k+1's; the low half holds
      // the runs' first 16 elements, the high half their last 16) and multiplied by the group
      // scales with one vpdpwssd: 3 multiply instructions per 64 elements instead of 4
      for (int k = 0; k < 4; k += 2) {
        auto b2 = [](int j) { return static_cast<char>(j); };
        const __m256i pick = _mm256_setr_epi8(
            b2(4 * k), b2(4 * k + 1), b2(4 * k), b2(4 * k + 1), b2(4 * k), b2(4 * k + 1), b2(4 * k), b2(4 * k + 1),
            b2(4 * k + 4), b2(4 * k + 5), b2(4 * k + 4), b2(4 * k + 5), b2(4 * k + 4), b2(4 * k + 5), b2(4 * k + 4), b2(4 * k + 5),
            b2(4 * k + 2), b2(4 * k + 3), b2(4 * k + 2), b2(4 * k + 3), b2(4 * k + 2), b2(4 * k + 3), b2(4 * k + 2), b2(4 * k + 3),
            b2(4 * k + 6), b2(4 * k + 7), b2(4 * k + 6), b2(4 * k + 7), b2(4 * k + 6), b2(4 * k + 7), b2(4 * k + 6), b2(4 * k + 7));
        __m256i q6a[NR], q6b[NR], sc[NR];
        for (int r = 0; r < NR; ++r) {
          const uint8_t* blk = w + r * rb + 210 * b;
          const __m256i ql0 = load32(blk + 64 * half), ql1 = load32(blk + 64 * half + 32);
          const __m256i qh = load32(blk + 128 + 32 * half);
          // run k uses ql0, run k + 1 ql1 (k even), both the nibble k >= 2
          const __m256i l0 = _mm256_and_si256(k ? _mm256_srli_epi16(ql0, 4) : ql0, m4);
          const __m256i l1 = _mm256_and_si256(k ? _mm256_srli_epi16(ql1, 4) : ql1, m4);
          q6a[r] = _mm256_or_si256(l0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2), 4));
          q6b[r] = _mm256_or_si256(l1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k + 2), m2), 4));
          sc[r] = _mm256_shuffle_epi8(sc8[r], pick);
        }
        for (int c = 0; c < NC; ++c) {
          const int8_t* xq = x[c].qk + 256 * b + 128 * half + 32 * k;
          const __m256i xa = load32(xq), xb = load32(xq + 32);
          for (int r = 0; r < NR; ++r) {
            const __m256i z = _mm256_setzero_si256();
            const __m256i p = _mm256_packs_epi32(_mm256_dpbusd_epi32(z, q6a[r], xa), _mm256_dpbusd_epi32(z, q6b[r], xb));
            is[r][c] = _mm256_dpwssd_epi32(is[r][c], p, sc[r]);
          }
        }
      }
#else
      for (int k = 0; k < 4; ++k) {
        // scale 2k in the low 128 bits (elements 0-15 of the run), 2k+1 in the high ones
        const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>((4 * k + 2) | (4 * k + 3) << 8)),
                                              _mm_set1_epi16(static_cast<int16_t>((4 * k) | (4 * k + 1) << 8)));
        // run k of the half (32 elements, groups 8 half + 2k and + 1): low 4 bits = nibble
        // (k >= 2) of ql[l + 32 (k & 1)], high 2 bits = bits 2k.. of qh[l]
        __m256i q6[NR], sc[NR];
        for (int r = 0; r < NR; ++r) {
          const uint8_t* blk = w + r * rb + 210 * b;
          const __m256i ql = load32(blk + 64 * half + 32 * (k & 1));
          const __m256i qh = load32(blk + 128 + 32 * half);
          const __m256i lo4 = _mm256_and_si256(k >> 1 ? _mm256_srli_epi16(ql, 4) : ql, m4);
          const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2);
          q6[r] = _mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4));
          sc[r] = _mm256_shuffle_epi8(sc8[r], pick);
        }
        for (int c = 0; c < NC; ++c) {
          const __m256i xq = load32(x[c].qk + 256 * b + 128 * half + 32 * k);
          for (int r = 0; r < NR; ++r) is[r][c] = madd_acc(is[r][c], _mm256_maddubs_epi16(q6[r], xq), sc[r]);
        }
      }
#endif
    }
    acc.template add<false>(is, is, dw, dw, dx);
  }
  acc.store(y, ldy);
}

// Tiles of nr x nc (1..4 each) from the fixed-size kernels. On AVX2 (16 vector registers) the
// weight rows go in pairs so the accumulators stay in registers.
// kMaxR: measured (bench, 2026-12-05): 4 rows for the 32-block types and 2 for the K-quants,
// whose unpacked weights and scale vectors take more registers.
template <template <int, int> class K, int kMaxR>
RS_SIMD_TARGET void dispatch(const uint8_t* w, uint64_t rb, int nr, const ActRow* x, int nc, float* y, int64_t ldy) {
  for (int r = 0; r < nr; r += kMaxR) {
    const int m = std::min(kMaxR, nr - r);
    const uint8_t* wr = w + r * rb;
    float* yr = y + r;
#define RS_NC(R)                                                  \
  switch (nc) {                                                   \
    case 1: K<R, 1>::run(wr, rb, x, yr, ldy); break;              \
    case 2: K<R, 2>::run(wr, rb, x, yr, ldy); break;              \
    case 3: K<R, 3>::run(wr, rb, x, yr, ldy); break;              \
    default: K<R, 4>::run(wr, rb, x, yr, ldy); break;             \
  }
    if (m == 4) { RS_NC(4) }
    else if (m == 3) { RS_NC(3) }
    else if (m == 2) { RS_NC(2) }
    else { RS_NC(1) }
#undef RS_NC
  }
}

template <int R, int C> struct Q8_0T { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile32<Fmt::Q8_0, R, C>(w, rb, x, y, l); } };
template <int R, int C> struct Q4_0T { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile32<Fmt::Q4_0, R, C>(w, rb, x, y, l); } };
template <int R, int C> struct Q4_1T { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile32<Fmt::Q4_1, R, C>(w, rb, x, y, l); } };
template <int R, int C> struct Q5_0T { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile32<Fmt::Q5_0, R, C>(w, rb, x, y, l); } };
template <int R, int C> struct Q4_KT { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile_q4_k<R, C>(w, rb, x, y, l); } };
template <int R, int C> struct Q6_KT { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow* x, float* y, int64_t l) { tile_q6_k<R, C>(w, rb, x, y, l); } };

#undef RS_INLINE

}  // namespace

const DotTable& table() {
  constexpr int kR32 = RS_SIMD_VNNI ? 4 : 2;
  static const DotTable t{dispatch<Q8_0T, kR32>, dispatch<Q4_0T, kR32>, dispatch<Q4_1T, kR32>, dispatch<Q5_0T, kR32>,
                          dispatch<Q4_KT, 2>, dispatch<Q6_KT, 2>};
  return t;
}

}  // namespace rs::kernels::detail::RS_SIMD_NS
