// AMX-INT8 batched K-quant products (prefill): the same outputs as dot_avx512.cpp's batched
// kernels, bit for bit, with the integer sums done by tile multiplies (TDPBUSD / TDPBSSD: 16x64
// bytes times 16x64 bytes into 16x16 int32, Intel SDM vol. 2 "TDPBSSD/TDPBSUD/TDPBUSD/TDPBUUD").
//
// A tile multiply sums over all 64 bytes of a row, so the per-sub-block scales must be inside
// the weights before it. Each weight becomes w' = q * scale, too wide for a byte; split as
// w' = L + 256 H with L = w' & 255 (unsigned) and H = w' >> 8, two multiplies give the sums of
// L qx and H qx over a whole 256-block, and isum = sum_L + 256 sum_H exactly:
//   Q4_K: w' = nibble * sc (0..945), H 0..3; the mins term msum = sum_k min_{sub-block(k)} qx_k
//         is a third multiply (mins as bytes, repeated over their sub-block);
//   Q6_K: w' = sc * (q6 - 32) (-4096..4096; the zero point folded in, as 32 * bsum), H signed.
// Those are the integers the other kernels compute (quant_matmul.h), so each output then takes
// their f32 steps per block: acc = fma(d dx, isum, acc) (Q4_K: acc = fma(-(dmin dx), msum, acc)).
//
// Layout: a tile row is 16 weight rows' 64 consecutive elements (the A operand, unsigned for
// TDPBUSD); 16 activation rows are interleaved four bytes at a time (the B operand: dot_avx512's
// group layout), so C[r][c] is weight row r times activation row c. Weight rows are unpacked
// per panel of 16 rows, two blocks at a time (24 KiB, in L1 while every activation group passes);
// activations are taken in K ranges of about 512 KiB (in L2), f32 accumulators kept between them.
//
// Linux gives a process the tile registers only on request: arch_prctl(ARCH_REQ_XCOMP_PERM,
// XFEATURE_XTILEDATA = 18) (Documentation/arch/x86/xstate.rst). When the CPU, the OS (XCR0) or
// that request says no, amx_usable() is false and the AVX-512 kernels run instead.
#include "kernels/dot_kernels.h"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#define RS_AMX_TARGET \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))

namespace rs::kernels::detail::amx {
namespace {

bool request_amx() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  if (!(d & (1u << 24)) || !(d & (1u << 25))) return false;  // AMX-TILE, AMX-INT8
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & (3u << 17)) != (3u << 17)) return false;  // XTILECFG, XTILEDATA enabled by the OS
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// One 256-block of a panel of 16 weight rows: t[part][k][row][64] is the A tile of elements
// 64k..64k+63 (part 0: L, 1: H, 2: Q4_K's mins), then the rows' f32 scales.
struct alignas(64) PanelBlock {
  uint8_t t[3][4][16][64];
  float d[16], dm[16];
};

// Masked forms of a few intrinsics: GCC 12's plain ones trip -Wmaybe-uninitialized in its own
// headers (_mm512_undefined_*), as in dot_avx512.cpp.
RS_AMX_TARGET inline __m512 to_f32(__m512i v) { return _mm512_mask_cvtepi32_ps(_mm512_setzero_ps(), 0xffff, v); }
RS_AMX_TARGET inline __m256i to_u8(__m512i v) { return _mm512_maskz_cvtepi16_epi8(0xffffffffu, v); }

RS_AMX_TARGET void unpack_q4k(const uint8_t* blk, PanelBlock& p, int r) {
  uint8_t sc[8], mn[8];
  unpack_q4k_scales(blk + 4, sc, mn);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int i = 0; i < 4; ++i) {  // bytes 32i..: low nibbles are sub-block 2i, high 2i + 1
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * i));
    for (int h = 0; h < 2; ++h) {
      const __m256i nib = _mm256_and_si256(h ? _mm256_srli_epi16(q, 4) : q, m4);
      const __m512i w = _mm512_mullo_epi16(_mm512_cvtepu8_epi16(nib), _mm512_set1_epi16(sc[2 * i + h]));
      _mm256_store_si256(reinterpret_cast<__m256i*>(p.t[0][i][r] + 32 * h), to_u8(w));
      _mm256_store_si256(reinterpret_cast<__m256i*>(p.t[1][i][r] + 32 * h), to_u8(_mm512_srli_epi16(w, 8)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(p.t[2][i][r] + 32 * h), _mm256_set1_epi8(static_cast<char>(mn[2 * i + h])));
    }
  }
  p.d[r] = _cvtsh_ss(load_u16(blk));
  p.dm[r] = _cvtsh_ss(load_u16(blk + 2));
}

RS_AMX_TARGET void unpack_q6k(const uint8_t* blk, PanelBlock& p, int r) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03);
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
  for (int half = 0; half < 2; ++half) {
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * half));
    for (int k = 0; k < 4; ++k) {  // elements 128 half + 32 k.. (dot_scalar.cpp dot_q6_k's run k)
      const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * half + 32 * (k & 1)));
      const __m256i lo4 = _mm256_and_si256(k >> 1 ? _mm256_srli_epi16(ql, 4) : ql, m4);
      const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m2);
      const __m512i q6 = _mm512_cvtepu8_epi16(_mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4)));
      const int c = 4 * half + k, g = 2 * c;  // 32 elements: groups g (lanes 0..15) and g + 1
      const __m512i s = _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16(sc[g]), _mm512_set1_epi16(sc[g + 1]));
      const __m512i w = _mm512_mullo_epi16(_mm512_sub_epi16(q6, _mm512_set1_epi16(32)), s);
      _mm256_store_si256(reinterpret_cast<__m256i*>(p.t[0][c / 2][r] + 32 * (c & 1)), to_u8(w));
      _mm256_store_si256(reinterpret_cast<__m256i*>(p.t[1][c / 2][r] + 32 * (c & 1)), to_u8(_mm512_srai_epi16(w, 8)));
    }
  }
  p.d[r] = _cvtsh_ss(load_u16(blk + 208));
  p.dm[r] = 0.0f;
}

void zero_row(PanelBlock& p, int r) {
  for (auto& part : p.t)
    for (auto& k : part) std::fill(k[r], k[r] + 64, uint8_t{0});
  p.d[r] = p.dm[r] = 0.0f;
}

// 16 activation rows interleaved (dot_avx512.cpp pack_group's q and dx): q as [n / 4][16] words,
// dx as [nb][16]; missing rows are zeros. The words go through a 16 x 16 transpose in registers
// (32-bit, then 64-bit unpacks within 128-bit lanes, then two rounds of lane shuffles); both
// threads pack every row of a prompt, and the scalar loop was ~3% of prefill.
RS_AMX_TARGET void pack_group(const ActRow* x, int v, int64_t n, uint32_t* q, float* dx) {
  for (int64_t k0 = 0; k0 < n / 4; k0 += 16) {  // n / 4 is a multiple of 64
    __m512i r[16];
    for (int c = 0; c < 16; ++c) r[c] = c < v ? _mm512_loadu_si512(x[c].qk + 4 * k0) : _mm512_setzero_si512();
    __m512i u[4][4];  // u[Q][j], 128-bit lane l: rows 4Q..4Q+3 at word k0 + 4l + j
    for (int Q = 0; Q < 4; ++Q) {
      const __m512i t0 = _mm512_unpacklo_epi32(r[4 * Q], r[4 * Q + 1]), t1 = _mm512_unpackhi_epi32(r[4 * Q], r[4 * Q + 1]);
      const __m512i t2 = _mm512_unpacklo_epi32(r[4 * Q + 2], r[4 * Q + 3]), t3 = _mm512_unpackhi_epi32(r[4 * Q + 2], r[4 * Q + 3]);
      u[Q][0] = _mm512_unpacklo_epi64(t0, t2);
      u[Q][1] = _mm512_unpackhi_epi64(t0, t2);
      u[Q][2] = _mm512_unpacklo_epi64(t1, t3);
      u[Q][3] = _mm512_unpackhi_epi64(t1, t3);
    }
    for (int j = 0; j < 4; ++j) {
      const __m512i v0 = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0x44), v1 = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0xee);
      const __m512i v2 = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0x44), v3 = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0xee);
      _mm512_storeu_si512(q + 16 * (k0 + j), _mm512_shuffle_i32x4(v0, v2, 0x88));
      _mm512_storeu_si512(q + 16 * (k0 + 4 + j), _mm512_shuffle_i32x4(v0, v2, 0xdd));
      _mm512_storeu_si512(q + 16 * (k0 + 8 + j), _mm512_shuffle_i32x4(v1, v3, 0x88));
      _mm512_storeu_si512(q + 16 * (k0 + 12 + j), _mm512_shuffle_i32x4(v1, v3, 0xdd));
    }
  }
  for (int c = 0; c < 16; ++c)
    for (int64_t b = 0; b < n / 256; ++b) dx[16 * b + c] = c < v ? x[c].dk[b] : 0.0f;
}

// Block b's integer sums for one group: C tiles 0 (sum L qx), 1 (sum H qx), 2 (Q4_K: sum min qx),
// stored to c.
template <bool Q4K>
RS_AMX_TARGET inline void tile_sums(const PanelBlock& p, const uint8_t* q, int64_t b, int32_t (*c)[16][16]) {
  _tile_zero(0);
  _tile_zero(1);
  if (Q4K) _tile_zero(2);
  for (int k = 0; k < 4; ++k) {
    _tile_loadd(3, q + 4096 * b + 1024 * k, 64);
    _tile_loadd(4, p.t[0][k], 64);
    _tile_dpbusd(0, 4, 3);
    _tile_loadd(5, p.t[1][k], 64);
    if (Q4K) {
      _tile_dpbusd(1, 5, 3);
      _tile_loadd(6, p.t[2][k], 64);
      _tile_dpbusd(2, 6, 3);
    } else {
      _tile_dpbssd(1, 5, 3);
    }
  }
  _tile_stored(0, c[0], 64);
  _tile_stored(1, c[1], 64);
  if (Q4K) _tile_stored(2, c[2], 64);
}

// The f32 steps of one block from its stored sums (acc[r] lanes = activation rows).
template <bool Q4K>
RS_AMX_TARGET inline void scale_add(const PanelBlock& p, const int32_t (*c)[16][16], const float* dx, __m512* acc) {
  const __m512 dxv = _mm512_loadu_ps(dx);
  for (int r = 0; r < 16; ++r) {
    const __m512i isum = _mm512_add_epi32(_mm512_load_si512(c[0][r]), _mm512_maskz_slli_epi32(0xffff, _mm512_load_si512(c[1][r]), 8));
    acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(p.d[r]), dxv), to_f32(isum), acc[r]);
    if (Q4K)
      acc[r] = _mm512_fnmadd_ps(_mm512_mul_ps(_mm512_set1_ps(p.dm[r]), dxv), to_f32(_mm512_load_si512(c[2][r])), acc[r]);
  }
}

// Blocks [b0, b1) of one panel (pb[b - b0]) against one group. Software-pipelined: block b's
// f32 steps run after block b + 1's tile multiplies are issued, so that the vector loads read
// sums stored an iteration earlier and the tile unit is not left idle meanwhile.
template <bool Q4K>
RS_AMX_TARGET inline void run_blocks(const PanelBlock* pb, const uint8_t* q, const float* dx, int64_t b0, int64_t b1,
                                     __m512* acc) {
  alignas(64) int32_t c[2][3][16][16];
  for (int64_t b = b0; b < b1; ++b) {
    tile_sums<Q4K>(pb[b - b0], q, b, c[b & 1]);
    if (b > b0) scale_add<Q4K>(pb[b - 1 - b0], c[(b - 1) & 1], dx + 16 * (b - 1), acc);
  }
  scale_add<Q4K>(pb[b1 - 1 - b0], c[(b1 - 1) & 1], dx + 16 * (b1 - 1), acc);
}

template <bool Q4K>
RS_AMX_TARGET void gemm_k(const uint8_t* w, uint64_t rb, int64_t n, int64_t r0, int64_t r1, const ActRow* x,
                          int64_t B, float* y, int64_t ldy) {
  const int64_t nb = n / 256, G = (B + 15) / 16, P = (r1 - r0 + 15) / 16;
  constexpr int64_t kSub = 2;  // blocks unpacked at a time (2 x 12 KiB stays in L1)
  // K range of the activations (all groups) kept in L2 while the panels pass: ~512 KiB
  const int64_t span = std::max<int64_t>(kSub, (int64_t{1} << 19) / (G * 4096) / kSub * kSub);
  const int64_t qbytes = 16 * n, gbytes = qbytes + 64 * nb;  // q words, dx
  thread_local std::vector<uint8_t> abuf_v;
  thread_local std::vector<PanelBlock> pbuf;
  thread_local std::vector<float> accbuf;
  const size_t abytes = static_cast<size_t>(G * gbytes + 64);
  if (abuf_v.size() < abytes) abuf_v.resize(abytes);
  uint8_t* abuf = abuf_v.data() + (64 - reinterpret_cast<uintptr_t>(abuf_v.data()) % 64) % 64;
  if (pbuf.size() < static_cast<size_t>(kSub)) pbuf.resize(kSub);
  const bool keep = span < nb;  // accumulators outlive one K range: one set per panel
  const size_t accs = static_cast<size_t>((keep ? P : 1) * G * 256);
  if (accbuf.size() < accs) accbuf.resize(accs);
  for (int64_t g = 0; g < G; ++g) {
    uint8_t* base = abuf + g * gbytes;
    pack_group(x + 16 * g, static_cast<int>(std::min<int64_t>(16, B - 16 * g)), n, reinterpret_cast<uint32_t*>(base),
               reinterpret_cast<float*>(base + qbytes));
  }
  TileConfig cfg;
  for (int i = 0; i < 7; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);
  for (int64_t s0 = 0; s0 < nb; s0 += span) {
    const int64_t s1 = std::min(nb, s0 + span);
    for (int64_t p = 0; p < P; ++p) {
      const int64_t rp = r0 + 16 * p;
      const int nr = static_cast<int>(std::min<int64_t>(16, r1 - rp));
      float* accp = accbuf.data() + (keep ? p * G * 256 : 0);
      for (int64_t k0 = s0; k0 < s1; k0 += kSub) {
        const int64_t k1 = std::min(s1, k0 + kSub);
        for (int64_t b = k0; b < k1; ++b)
          for (int r = 0; r < 16; ++r) {
            PanelBlock& pb = pbuf[static_cast<size_t>(b - k0)];
            if (r >= nr) zero_row(pb, r);
            else if (Q4K) unpack_q4k(w + static_cast<uint64_t>(rp + r) * rb + 144 * b, pb, r);
            else unpack_q6k(w + static_cast<uint64_t>(rp + r) * rb + 210 * b, pb, r);
          }
        for (int64_t g = 0; g < G; ++g) {
          const uint8_t* base = abuf + g * gbytes;
          float* a = accp + g * 256;
          __m512 acc[16];
          for (int r = 0; r < 16; ++r) acc[r] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(a + 16 * r);
          run_blocks<Q4K>(pbuf.data(), base, reinterpret_cast<const float*>(base + qbytes), k0, k1, acc);
          if (k1 < nb) {
            for (int r = 0; r < 16; ++r) _mm512_storeu_ps(a + 16 * r, acc[r]);
            continue;
          }
          alignas(64) float out[16][16];
          for (int r = 0; r < 16; ++r) _mm512_store_ps(out[r], acc[r]);
          const int v = static_cast<int>(std::min<int64_t>(16, B - 16 * g));
          for (int c = 0; c < v; ++c)
            for (int r = 0; r < nr; ++r) y[(16 * g + c) * ldy + rp + r] = out[r][c];
        }
      }
    }
  }
  _tile_release();
}

}  // namespace
}  // namespace rs::kernels::detail::amx

namespace rs::kernels::detail {
bool amx_usable() {
  static const bool ok = amx::request_amx();
  return ok;
}
GemmFn amx_gemm(GgmlType t) {
  if (t == GgmlType::Q4_K) return amx::gemm_k<true>;
  if (t == GgmlType::Q6_K) return amx::gemm_k<false>;
  return nullptr;
}
}  // namespace rs::kernels::detail
#else
namespace rs::kernels::detail {
bool amx_usable() { return false; }
GemmFn amx_gemm(GgmlType) { return nullptr; }
}  // namespace rs::kernels::detail
#endif
