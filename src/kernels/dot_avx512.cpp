// AVX-512 (F, BW, VL) + VNNI copy of the SIMD kernels (dot_simd_impl.h): the integer dot is one
// vpdpbusd instead of vpmaddubsw + vpmaddwd, on 256-bit vectors (one 32-element block each).
#include "kernels/dot_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define RS_SIMD_NS avx512
#define RS_SIMD_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define RS_SIMD_VNNI 1
#include "kernels/dot_simd_impl.h"

#include <algorithm>
#include <vector>

// ---------------------------------------------------------------- batched K-quant products
// Prefill multiplies each weight row by hundreds of activation rows; the 4x4 tiles unpack a
// block's nibbles once per 4 activation rows and reduce every integer sum horizontally. Here
// 16 activation rows sit in the lanes of a 512-bit vector (their bytes interleaved four at a
// time, the layout vpdpbusd reads), a weight row's unpacked bytes are broadcast four at a time,
// and each sub-block's sum is scaled by its integer scale in the lanes (vpmulld): no horizontal
// sums at all. Weight rows are unpacked once per group of activation rows that stays in L2.
// The integer sums are exact, so every output's f32 steps are the tiles' (dot_scalar.cpp):
// acc = fma(d dx, isum, acc), then for Q4_K acc = fma(-(dmin dx), msum, acc).
namespace rs::kernels::detail::avx512 {
namespace {

#define RS_INLINE RS_SIMD_TARGET inline __attribute__((always_inline))

// A weight row's 256-block, unpacked: the values as bytes in element order, the sub-block
// scales (Q4_K: 8 of 32 elements; Q6_K: 16 of 16), and the int16 pairs multiplying the
// activations' 16-element sums in pairs (Q4_K: (min_q, min_q), giving msum; Q6_K:
// (-32 sc_2q, -32 sc_2q+1), the 6-bit values' zero point folded into isum).
struct alignas(64) UBlock {
  uint8_t q[256];
  int32_t sc[16];
  uint32_t pair[8];
  float d, dm;
};

// int32 -> f32 (vcvtdq2ps); the masked form because GCC 12's _mm512_cvtepi32_ps trips
// -Wmaybe-uninitialized in its own header
RS_INLINE __m512 to_f32(__m512i v) { return _mm512_mask_cvtepi32_ps(_mm512_setzero_ps(), 0xffff, v); }

inline uint32_t pair16(int a, int b) {
  return static_cast<uint32_t>(static_cast<uint16_t>(a)) | static_cast<uint32_t>(static_cast<uint16_t>(b)) << 16;
}

RS_SIMD_TARGET void unpack_q4k(const uint8_t* blk, UBlock& u) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int i = 0; i < 4; ++i) {  // bytes 32i..: low nibbles are elements 64i.., high 64i + 32..
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u.q + 64 * i), _mm256_and_si256(q, m4));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u.q + 64 * i + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
  }
  uint8_t sc[8], mn[8];
  unpack_q4k_scales(blk + 4, sc, mn);
  for (int j = 0; j < 8; ++j) {
    u.sc[j] = sc[j];
    u.pair[j] = pair16(mn[j], mn[j]);
  }
  u.d = _cvtsh_ss(load_u16(blk));
  u.dm = _cvtsh_ss(load_u16(blk + 2));
}

RS_SIMD_TARGET void unpack_q6k(const uint8_t* blk, UBlock& u) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03);
  for (int half = 0; half < 2; ++half) {
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * half));
    for (int k = 0; k < 4; ++k) {  // as dot_scalar.cpp dot_q6_k: run k of the half
      const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * half + 32 * (k & 1)));
      const __m256i lo4 = _mm256_and_si256(k >> 1 ? _mm256_srli_epi16(ql, 4) : ql, m4);
      const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u.q + 128 * half + 32 * k), _mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4)));
    }
  }
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
  for (int g = 0; g < 16; ++g) u.sc[g] = sc[g];
  for (int q = 0; q < 8; ++q) u.pair[q] = pair16(-32 * sc[2 * q], -32 * sc[2 * q + 1]);
  u.d = _cvtsh_ss(load_u16(blk + 208));
  u.dm = 0.0f;
}

// 16 activation rows, interleaved: q as [n / 4][16 lanes] 4-byte words, dx as [nb][16], the
// 16-element sums as [nb][8][16] int16 pairs (bsum_2q, bsum_2q+1). Missing rows are zeros.
struct Group {
  const uint8_t* q;
  const float* dx;
  const uint32_t* bs;
};

void pack_group(const ActRow* x, int v, int64_t n, uint32_t* q, float* dx, uint32_t* bs) {
  const int64_t nb = n / 256;
  for (int c = 0; c < 16; ++c) {
    const int8_t* xq = c < v ? x[c].qk : nullptr;
    for (int64_t k = 0; k < n / 4; ++k) q[16 * k + c] = xq ? load_u32(reinterpret_cast<const uint8_t*>(xq) + 4 * k) : 0;
    for (int64_t b = 0; b < nb; ++b) {
      dx[16 * b + c] = xq ? x[c].dk[b] : 0.0f;
      for (int p = 0; p < 8; ++p)
        bs[(8 * b + p) * 16 + c] = xq ? pair16(x[c].bsums[16 * b + 2 * p], x[c].bsums[16 * b + 2 * p + 1]) : 0;
    }
  }
}

// R weight rows (u[r][b], nb blocks each) x T groups of 16 activation rows -> out[r][t][16]
template <bool Q4K, int R, int T>
RS_SIMD_TARGET void micro(const UBlock* const* u, int64_t nb, const Group* g, float (*out)[T][16]) {
  constexpr int S = Q4K ? 32 : 16;  // elements per scale
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i is[R][T];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) is[r][t] = _mm512_setzero_si512();
    if (!Q4K)
      for (int p = 0; p < 8; ++p) {
        __m512i bsv[T];
        for (int t = 0; t < T; ++t) bsv[t] = _mm512_loadu_si512(g[t].bs + (8 * b + p) * 16);
        for (int r = 0; r < R; ++r) {
          const __m512i wp = _mm512_set1_epi32(static_cast<int32_t>(u[r][b].pair[p]));
          for (int t = 0; t < T; ++t) is[r][t] = _mm512_dpwssd_epi32(is[r][t], bsv[t], wp);
        }
      }
    for (int j = 0; j < 256 / S; ++j) {
      __m512i part[R][T];
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) part[r][t] = _mm512_setzero_si512();
      for (int k = 0; k < S / 4; ++k) {
        const int64_t word = 64 * b + (S / 4) * j + k;
        __m512i a[T];
        for (int t = 0; t < T; ++t) a[t] = _mm512_loadu_si512(g[t].q + 64 * word);
        for (int r = 0; r < R; ++r) {
          const __m512i wv = _mm512_set1_epi32(static_cast<int32_t>(load_u32(u[r][b].q + S * j + 4 * k)));
          for (int t = 0; t < T; ++t) part[r][t] = _mm512_dpbusd_epi32(part[r][t], wv, a[t]);
        }
      }
      for (int r = 0; r < R; ++r) {
        const __m512i sv = _mm512_set1_epi32(u[r][b].sc[j]);
        for (int t = 0; t < T; ++t) is[r][t] = _mm512_add_epi32(is[r][t], _mm512_mullo_epi32(part[r][t], sv));
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m512 dx = _mm512_loadu_ps(g[t].dx + 16 * b);
      for (int r = 0; r < R; ++r)
        acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(u[r][b].d), dx), to_f32(is[r][t]), acc[r][t]);
      if (Q4K) {
        __m512i ms[R];
        for (int r = 0; r < R; ++r) ms[r] = _mm512_setzero_si512();
        for (int p = 0; p < 8; ++p) {
          const __m512i bsv = _mm512_loadu_si512(g[t].bs + (8 * b + p) * 16);
          for (int r = 0; r < R; ++r)
            ms[r] = _mm512_dpwssd_epi32(ms[r], bsv, _mm512_set1_epi32(static_cast<int32_t>(u[r][b].pair[p])));
        }
        for (int r = 0; r < R; ++r)
          acc[r][t] = _mm512_fnmadd_ps(_mm512_mul_ps(_mm512_set1_ps(u[r][b].dm), dx), to_f32(ms[r]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out[r][t], acc[r][t]);
}

template <bool Q4K>
RS_SIMD_TARGET void gemm_k(const uint8_t* w, uint64_t rb, int64_t n, int64_t r0, int64_t r1, const ActRow* x,
                           int64_t B, float* y, int64_t ldy) {
  constexpr int R = 4, T = 2;
  const int64_t nb = n / 256, G = (B + 15) / 16;
  const int64_t qwords = 16 * (n / 4), dwords = 16 * nb, bwords = 128 * nb;
  const int64_t gwords = qwords + dwords + bwords;
  // groups whose interleaved activations fit in ~512 KiB (L2) while every weight row passes
  const int64_t chunk = std::max<int64_t>(T, (int64_t{1} << 19) / (16 * n) / T * T);
  thread_local std::vector<uint32_t> abuf;
  thread_local std::vector<UBlock> ubuf;
  if (abuf.size() < static_cast<size_t>(std::min(chunk, G) * gwords)) abuf.resize(static_cast<size_t>(std::min(chunk, G) * gwords));
  if (ubuf.size() < static_cast<size_t>(R * nb)) ubuf.resize(static_cast<size_t>(R * nb));
  for (int64_t g0 = 0; g0 < G; g0 += chunk) {
    const int64_t g1 = std::min(G, g0 + chunk);
    std::vector<Group> groups(static_cast<size_t>(g1 - g0));
    for (int64_t gi = g0; gi < g1; ++gi) {
      uint32_t* base = abuf.data() + (gi - g0) * gwords;
      const int v = static_cast<int>(std::min<int64_t>(16, B - 16 * gi));
      pack_group(x + 16 * gi, v, n, base, reinterpret_cast<float*>(base + qwords), base + qwords + dwords);
      groups[static_cast<size_t>(gi - g0)] = {reinterpret_cast<const uint8_t*>(base),
                                              reinterpret_cast<const float*>(base + qwords), base + qwords + dwords};
    }
    for (int64_t rp = r0; rp < r1; rp += R) {
      const int nr = static_cast<int>(std::min<int64_t>(R, r1 - rp));
      const UBlock* u[R];
      for (int r = 0; r < R; ++r) {
        UBlock* ur = ubuf.data() + r * nb;
        u[r] = ur;
        if (r >= nr) {  // a missing row: zeros, never stored
          std::fill(ur, ur + nb, UBlock{});
          continue;
        }
        const uint8_t* row = w + static_cast<uint64_t>(rp + r) * rb;
        for (int64_t b = 0; b < nb; ++b) {
          if (Q4K) unpack_q4k(row + 144 * b, ur[b]);
          else unpack_q6k(row + 210 * b, ur[b]);
        }
      }
      for (int64_t gi = g0; gi < g1; gi += T) {
        const int nt = static_cast<int>(std::min<int64_t>(T, g1 - gi));
        alignas(64) float out[R][T][16];
        if (nt == T) micro<Q4K, R, T>(u, nb, groups.data() + (gi - g0), out);
        else micro<Q4K, R, 1>(u, nb, groups.data() + (gi - g0), reinterpret_cast<float(*)[1][16]>(out));
        for (int t = 0; t < nt; ++t) {
          const int64_t c0 = 16 * (gi + t);
          const int v = static_cast<int>(std::min<int64_t>(16, B - c0));
          for (int r = 0; r < nr; ++r) {
            const float* o = nt == T ? out[r][t] : reinterpret_cast<float(*)[1][16]>(out)[r][0];
            for (int c = 0; c < v; ++c) y[(c0 + c) * ldy + rp + r] = o[c];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- batched 32-block products
// The tiles' f32 steps (dot_simd_impl.h tile32) are per block an 8-lane fma, lane l holding the
// integer sum of elements 4l..4l+3 (lane 0 also -off * sum qx), and at the end the lanes' sum
// in hsum's order, plus Q4_1's min term. With 16 activation rows in the lanes, 4-byte word l of
// a block is exactly lane l: one vpdpbusd gives lane l for 16 rows, so each output keeps its 8
// lane accumulators in 8 vectors and ends with the same additions in the same order.

// 16 activation rows for the 32-block types: q as [n / 4][16] words; per block dx, the lane-0
// start (-off * sum qx), Q4_1's s; Q8_0: per word -128 * (sum of its 4 qx) (the weights go in
// as w + 128, vpdpbusd's unsigned side). Missing rows are zeros.
struct Group32 {
  const uint8_t* q;
  const float* dx;
  const int32_t* init;  // [nb][16]
  const float* s;       // [nb][16]
  const int32_t* corr;  // [n / 4][16] (Q8_0)
};

template <Fmt F>
void pack_group32(const ActRow* x, int v, int64_t n, uint32_t* q, float* dx, int32_t* init, float* s, int32_t* corr) {
  const int64_t nb = n / 32;
  for (int c = 0; c < 16; ++c) {
    const bool ok = c < v;
    for (int64_t k = 0; k < n / 4; ++k) {
      q[16 * k + c] = ok ? load_u32(reinterpret_cast<const uint8_t*>(x[c].q) + 4 * k) : 0;
      if (F == Fmt::Q8_0) {
        int32_t t = 0;
        for (int e = 0; e < 4 && ok; ++e) t += x[c].q[4 * k + e];
        corr[16 * k + c] = -128 * t;
      }
    }
    for (int64_t b = 0; b < nb; ++b) {
      dx[16 * b + c] = ok ? x[c].d[b] : 0.0f;
      init[16 * b + c] = ok ? -kOff<F> * x[c].sum[b] : 0;
      s[16 * b + c] = ok ? x[c].s[b] : 0.0f;
    }
  }
}

// A weight row's 32-block: its values as unsigned bytes in element order (Q8_0: w + 128), its
// scale and Q4_1's min.
struct UBlock32 {
  uint8_t q[32];
  float d, m;
};

template <Fmt F>
RS_SIMD_TARGET void unpack32(const uint8_t* blk, UBlock32& u) {
  __m256i v;
  if (F == Fmt::Q8_0) v = _mm256_xor_si256(load32(blk + 2), _mm256_set1_epi8(static_cast<char>(0x80)));
  if (F == Fmt::Q4_0) v = nibbles32(blk + 2);
  if (F == Fmt::Q4_1) v = nibbles32(blk + 4);
  if (F == Fmt::Q5_0) v = q5_values(blk + 6, load_u32(blk + 2));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(u.q), v);
  u.d = f16(blk);
  u.m = F == Fmt::Q4_1 ? f16(blk + 2) : 0.0f;
}

template <Fmt F, int R>
RS_SIMD_TARGET void micro32(const UBlock32* const* u, int64_t nb, const Group32& g, float (*out)[16]) {
  __m512 acc[R][8], accm[R];
  for (int r = 0; r < R; ++r) {
    accm[r] = _mm512_setzero_ps();
    for (int l = 0; l < 8; ++l) acc[r][l] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const __m512 dx = _mm512_loadu_ps(g.dx + 16 * b);
    __m512 dd[R];
    for (int r = 0; r < R; ++r) dd[r] = _mm512_mul_ps(_mm512_set1_ps(u[r][b].d), dx);
    if (F == Fmt::Q4_1) {
      const __m512 sv = _mm512_loadu_ps(g.s + 16 * b);
      for (int r = 0; r < R; ++r) accm[r] = _mm512_fmadd_ps(_mm512_set1_ps(u[r][b].m), sv, accm[r]);
    }
    for (int l = 0; l < 8; ++l) {
      const int64_t word = 8 * b + l;
      const __m512i a = _mm512_loadu_si512(g.q + 64 * word);
      __m512i init = _mm512_setzero_si512();
      if (F == Fmt::Q8_0) init = _mm512_loadu_si512(g.corr + 16 * word);
      else if (kOff<F> && l == 0) init = _mm512_loadu_si512(g.init + 16 * b);
      for (int r = 0; r < R; ++r) {
        const __m512i wv = _mm512_set1_epi32(static_cast<int32_t>(load_u32(u[r][b].q + 4 * l)));
        acc[r][l] = _mm512_fmadd_ps(to_f32(_mm512_dpbusd_epi32(init, wv, a)), dd[r], acc[r][l]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {  // hsum's order: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
    __m512 h[4];
    for (int i = 0; i < 4; ++i) h[i] = _mm512_add_ps(acc[r][i], acc[r][i + 4]);
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(h[0], h[2]), _mm512_add_ps(h[1], h[3]));
    _mm512_storeu_ps(out[r], _mm512_add_ps(sum, accm[r]));
  }
}

template <Fmt F>
RS_SIMD_TARGET void gemm32(const uint8_t* w, uint64_t rb, int64_t n, int64_t r0, int64_t r1, const ActRow* x,
                           int64_t B, float* y, int64_t ldy) {
  constexpr int R = 2;
  const int64_t nb = n / 32, G = (B + 15) / 16;
  const int64_t qwords = 16 * (n / 4), bw = 16 * nb;
  const int64_t gwords = qwords + 3 * bw + (F == Fmt::Q8_0 ? qwords : 0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 19) / (16 * n));
  thread_local std::vector<uint32_t> abuf;
  thread_local std::vector<UBlock32> ubuf;
  if (abuf.size() < static_cast<size_t>(std::min(chunk, G) * gwords)) abuf.resize(static_cast<size_t>(std::min(chunk, G) * gwords));
  if (ubuf.size() < static_cast<size_t>(R * nb)) ubuf.resize(static_cast<size_t>(R * nb));
  for (int64_t g0 = 0; g0 < G; g0 += chunk) {
    const int64_t g1 = std::min(G, g0 + chunk);
    std::vector<Group32> groups(static_cast<size_t>(g1 - g0));
    for (int64_t gi = g0; gi < g1; ++gi) {
      uint32_t* base = abuf.data() + (gi - g0) * gwords;
      const int v = static_cast<int>(std::min<int64_t>(16, B - 16 * gi));
      float* dx = reinterpret_cast<float*>(base + qwords);
      int32_t* init = reinterpret_cast<int32_t*>(base + qwords + bw);
      float* sv = reinterpret_cast<float*>(base + qwords + 2 * bw);
      int32_t* corr = reinterpret_cast<int32_t*>(base + qwords + 3 * bw);
      pack_group32<F>(x + 16 * gi, v, n, base, dx, init, sv, corr);
      groups[static_cast<size_t>(gi - g0)] = {reinterpret_cast<const uint8_t*>(base), dx, init, sv, corr};
    }
    for (int64_t rp = r0; rp < r1; rp += R) {
      const int nr = static_cast<int>(std::min<int64_t>(R, r1 - rp));
      const UBlock32* u[R];
      for (int r = 0; r < R; ++r) {
        UBlock32* ur = ubuf.data() + r * nb;
        u[r] = ur;
        if (r >= nr) {  // a missing row: zeros, never stored
          std::fill(ur, ur + nb, UBlock32{});
          continue;
        }
        const uint8_t* row = w + static_cast<uint64_t>(rp + r) * rb;
        for (int64_t b = 0; b < nb; ++b) unpack32<F>(row + kBytes<F> * b, ur[b]);
      }
      for (int64_t gi = g0; gi < g1; ++gi) {
        alignas(64) float out[R][16];
        micro32<F, R>(u, nb, groups[static_cast<size_t>(gi - g0)], out);
        const int64_t c0 = 16 * gi;
        const int v = static_cast<int>(std::min<int64_t>(16, B - c0));
        for (int r = 0; r < nr; ++r)
          for (int c = 0; c < v; ++c) y[(c0 + c) * ldy + rp + r] = out[r][c];
      }
    }
  }
}

// ---------------------------------------------------------------- decode K-quant products
// One activation row (decoding) against up to 4 weight rows, on 512-bit vectors: 128 elements
// per vpdpbusd pair, so a 256-block takes about half the instructions of the 256-bit tiles, and
// 4 rows share each horizontal reduction. In L2, one thread: Q4_K 17 -> 24-26 GB/s of weights,
// Q6_K 25-26 -> 34-35 (busy host; the decode step streams ~9 GB/s per thread). Per output the integer
// sums are the tiles' (exact; packs_epi32 cannot saturate: a sum of 4 products is at most
// 4 * 15 * 127 for Q4_K and 4 * 63 * 127 for Q6_K) and the f32 steps are theirs, in the same
// order: acc = fma(d dx, isum, acc), then for Q4_K acc = fma(-(dmin dx), msum, acc).

// [total of a, of b, of c, of d] (int32 lanes). Masked forms where GCC 12's plain intrinsics
// trip -Wmaybe-uninitialized (as to_f32 above).
RS_INLINE __m128i hsum4x16(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_maskz_unpacklo_epi32(0xffff, a, b), _mm512_maskz_unpackhi_epi32(0xffff, a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_maskz_unpacklo_epi32(0xffff, c, d), _mm512_maskz_unpackhi_epi32(0xffff, c, d));
  const __m512i abcd = _mm512_add_epi32(_mm512_maskz_unpacklo_epi64(0xff, ab, cd), _mm512_maskz_unpackhi_epi64(0xff, ab, cd));
  const __m256i s = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xf, abcd, 0), _mm512_maskz_extracti64x4_epi64(0xf, abcd, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}
RS_INLINE __m128i hsum4x4(__m128i a, __m128i b, __m128i c, __m128i d) {
  const __m128i ab = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
  const __m128i cd = _mm_add_epi32(_mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d));
  return _mm_add_epi32(_mm_unpacklo_epi64(ab, cd), _mm_unpackhi_epi64(ab, cd));
}

// 32 word indices: word w takes index f(w / 8, w % 8)
template <class F>
RS_INLINE __m512i word_pick(F f) {
  alignas(64) int16_t idx[32];
  for (int w = 0; w < 32; ++w) idx[w] = static_cast<int16_t>(f(w / 8, w % 8));
  return _mm512_load_si512(idx);
}

RS_INLINE __m512i load64(const void* p) { return _mm512_loadu_si512(p); }

// A tile's 4 rows are contiguous (4 rb bytes) and the next tile follows them. Step (b, r) of a
// tile asks for the bytes at NR BS b + BS r + kDecPrefetch from the tile's start: over the tile
// those steps sweep its bytes in order, kDecPrefetch ahead, into L2, so the next tile arrives
// while this one computes. The tiles' own prefetch (512 bytes ahead in the same row) stays inside
// the tile and leaves the next one to the hardware prefetcher. Busy host, the 1.5B step's
// matrices (978 MB) in interleaved rounds, against the 256-bit tiles: 1 thread 1.4-1.7x, 2
// threads 1.3-1.4x; distances of 4-16 KiB measured alike, L1 (T0) no better.
constexpr int kDecPrefetch = 8192;
template <int BS, int NR>
RS_INLINE void dec_prefetch(const uint8_t* w, int64_t b, int r) {
  const char* p = reinterpret_cast<const char*>(w) + (NR * BS) * b + BS * r + kDecPrefetch;
  for (int o = 0; o < BS; o += 64) _mm_prefetch(p + o, _MM_HINT_T1);
}

template <int NR>
RS_SIMD_TARGET void dec_q4_k(const uint8_t* w, uint64_t rb, const ActRow& x, float* y) {
  const int64_t nb = x.n / 256;
  const __m512i m4 = _mm512_set1_epi8(0x0f), z = _mm512_setzero_si512();
  // A 64-byte run j of qs holds sub-blocks 4j, 4j + 2 in its low nibbles and 4j + 1, 4j + 3
  // in its high ones; packed to words, 128-bit lane k holds 4 sums of sub-block 4j + 2 (k / 2)
  // then 4 of the next: their scales.
  const __m512i pick[2] = {word_pick([](int k, int i) { return 2 * (k / 2) + (i >= 4); }),
                           word_pick([](int k, int i) { return 4 + 2 * (k / 2) + (i >= 4); })};
  __m128 acc = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* xq = x.qk + 256 * b;
    __m512i xl[2], xh[2];  // the activations in the order of the low and the high nibbles
    for (int j = 0; j < 2; ++j) {
      const __m512i x0 = load64(xq + 128 * j), x1 = load64(xq + 128 * j + 64);
      xl[j] = _mm512_maskz_shuffle_i64x2(0xff, x0, x1, 0x44);
      xh[j] = _mm512_maskz_shuffle_i64x2(0xff, x0, x1, 0xee);
    }
    // bsum_2j + bsum_2j+1 as 8 words (at most 2 * 16 * 127)
    const __m256i bp32 = _mm256_madd_epi16(load32(x.bsums + 16 * b), _mm256_set1_epi16(1));
    const __m128i bp = _mm_packs_epi32(_mm256_castsi256_si128(bp32), _mm256_extracti128_si256(bp32, 1));
    __m512i is[4] = {z, z, z, z};
    __m128i ms[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
    uint32_t dd[4] = {0, 0, 0, 0};  // f16 d | f16 dmin << 16
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = w + r * rb + 144 * b;
      dec_prefetch<144, NR>(w, b, r);
      dd[r] = load_u32(blk);
      const uint32_t a = load_u32(blk + 4), m = load_u32(blk + 8), c = load_u32(blk + 12);
      const uint64_t sc = (a & 0x3f3f3f3fu) | uint64_t{(c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)} << 32;
      const uint64_t mn = (m & 0x3f3f3f3fu) | uint64_t{((c >> 4) & 0x0f0f0f0fu) | ((m >> 2) & 0x30303030u)} << 32;
      const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
      ms[r] = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mn))), bp);
      for (int j = 0; j < 2; ++j) {
        const __m512i q = load64(blk + 16 + 64 * j);
        const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        const __m512i p = _mm512_packs_epi32(_mm512_dpbusd_epi32(z, lo, xl[j]), _mm512_dpbusd_epi32(z, hi, xh[j]));
        is[r] = _mm512_dpwssd_epi32(is[r], p, _mm512_permutexvar_epi16(pick[j], sc16));
      }
    }
    const __m256 dm = _mm256_cvtph_ps(_mm_setr_epi32(static_cast<int>(dd[0]), static_cast<int>(dd[1]),
                                                     static_cast<int>(dd[2]), static_cast<int>(dd[3])));
    const __m128 lo = _mm256_castps256_ps128(dm), hi = _mm256_extractf128_ps(dm, 1);
    const __m128 d = _mm_set1_ps(x.dk[b]);
    acc = _mm_fmadd_ps(_mm_mul_ps(_mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)), d),
                       _mm_cvtepi32_ps(hsum4x16(is[0], is[1], is[2], is[3])), acc);
    acc = _mm_fnmadd_ps(_mm_mul_ps(_mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)), d),
                        _mm_cvtepi32_ps(hsum4x4(ms[0], ms[1], ms[2], ms[3])), acc);
  }
  float t[4];
  _mm_storeu_ps(t, acc);
  for (int r = 0; r < NR; ++r) y[r] = t[r];
}

template <int NR>
RS_SIMD_TARGET void dec_q6_k(const uint8_t* w, uint64_t rb, const ActRow& x, float* y) {
  const int64_t nb = x.n / 256;
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30), z = _mm512_setzero_si512();
  // Half h of a block: 64 bytes of ql and 32 of qh (in both 256-bit halves). The first vector
  // holds runs 0 and 1 (low nibbles, qh bits 0-1 and 2-3), the second runs 2 and 3 (high
  // nibbles, bits 4-5 and 6-7): the elements 128 h.. in order. Word lane k of the packed sums:
  // 4 of group k of the half, then 4 of group 4 + k.
  const __m512i shl = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2), shr = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
  const __m512i pick = word_pick([](int k, int i) { return i < 4 ? k : 4 + k; });
  __m128 acc = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* xq = x.qk + 256 * b;
    const __m512i xa[2] = {load64(xq), load64(xq + 128)}, xb[2] = {load64(xq + 64), load64(xq + 192)};
    const __m256i bs = load32(x.bsums + 16 * b);
    __m512i is[4] = {z, z, z, z};
    uint16_t dd[4] = {0, 0, 0, 0};
    for (int r = 0; r < NR; ++r) {
      const uint8_t* blk = w + r * rb + 210 * b;
      dec_prefetch<210, NR>(w, b, r);
      dd[r] = load_u16(blk + 208);
      // -32 sum_g sc_g bsum_g (the 6-bit values' zero point), as the tiles fold it in
      const __m256i corr = _mm256_sub_epi16(_mm256_setzero_si256(),
          _mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192))), 5));
      __m512i s = _mm512_maskz_inserti64x4(0xff, z, _mm256_madd_epi16(corr, bs), 0);
      for (int h = 0; h < 2; ++h) {
        const __m512i ql = load64(blk + 64 * h);
        const __m512i qh = _mm512_maskz_broadcast_i64x4(0xff, load32(blk + 128 + 32 * h));
        // (nibble) | (2 bits of qh moved to bits 4-5): vpternlog a | (b & c) = 0xf8
        const __m512i qa = _mm512_ternarylogic_epi32(_mm512_and_si512(ql, m4), _mm512_maskz_sllv_epi64(0xff, qh, shl), m30, 0xf8);
        const __m512i qb = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                                     _mm512_maskz_srlv_epi64(0xff, qh, shr), m30, 0xf8);
        const __m512i p = _mm512_packs_epi32(_mm512_dpbusd_epi32(z, qa, xa[h]), _mm512_dpbusd_epi32(z, qb, xb[h]));
        const __m128i sc = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk + 192 + 8 * h)));
        s = _mm512_dpwssd_epi32(s, p, _mm512_permutexvar_epi16(pick, _mm512_castsi128_si512(sc)));
      }
      is[r] = s;
    }
    uint64_t d4;
    std::memcpy(&d4, dd, 8);
    const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<int64_t>(d4)));
    acc = _mm_fmadd_ps(_mm_mul_ps(dw, _mm_set1_ps(x.dk[b])), _mm_cvtepi32_ps(hsum4x16(is[0], is[1], is[2], is[3])), acc);
  }
  float t[4];
  _mm_storeu_ps(t, acc);
  for (int r = 0; r < NR; ++r) y[r] = t[r];
}

// The K-quant table entries: one activation row takes the decode kernels, more the tiles.
template <template <int> class Dec, template <int, int> class Tile>
RS_SIMD_TARGET void tile_k(const uint8_t* w, uint64_t rb, int nr, const ActRow* x, int nc, float* y, int64_t ldy) {
  if (nc != 1) return dispatch<Tile, 2>(w, rb, nr, x, nc, y, ldy);
  switch (nr) {
    case 1: Dec<1>::run(w, rb, x[0], y); break;
    case 2: Dec<2>::run(w, rb, x[0], y); break;
    case 3: Dec<3>::run(w, rb, x[0], y); break;
    default: Dec<4>::run(w, rb, x[0], y); break;
  }
}
template <int R> struct DecQ4K { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow& x, float* y) { dec_q4_k<R>(w, rb, x, y); } };
template <int R> struct DecQ6K { static RS_INLINE void run(const uint8_t* w, uint64_t rb, const ActRow& x, float* y) { dec_q6_k<R>(w, rb, x, y); } };

const DotTable& decode_table() {
  static const DotTable t = [] {
    DotTable d = table();
    d.q4_k = tile_k<DecQ4K, Q4_KT>;
    d.q6_k = tile_k<DecQ6K, Q6_KT>;
    return d;
  }();
  return t;
}

#undef RS_INLINE

}  // namespace
}  // namespace rs::kernels::detail::avx512

namespace rs::kernels::detail {
const DotTable* avx512_table() { return &avx512::decode_table(); }
GemmFn avx512_gemm(GgmlType t) {
  if (t == GgmlType::Q4_K) return avx512::gemm_k<true>;
  if (t == GgmlType::Q6_K) return avx512::gemm_k<false>;
  if (t == GgmlType::Q8_0) return avx512::gemm32<avx512::Fmt::Q8_0>;
  if (t == GgmlType::Q4_0) return avx512::gemm32<avx512::Fmt::Q4_0>;
  if (t == GgmlType::Q4_1) return avx512::gemm32<avx512::Fmt::Q4_1>;
  if (t == GgmlType::Q5_0) return avx512::gemm32<avx512::Fmt::Q5_0>;
  return nullptr;
}
}  // namespace rs::kernels::detail
#else
namespace rs::kernels::detail {
const DotTable* avx512_table() { return nullptr; }
GemmFn avx512_gemm(GgmlType) { return nullptr; }
}  // namespace rs::kernels::detail
#endif
