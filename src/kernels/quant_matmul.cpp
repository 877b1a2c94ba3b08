// Dispatch for quant_matmul.h: instruction-set choice, activation quantisation, the row loop and
// the generic (dequantise a row, f32 dot) path.
#include "kernels/quant_matmul.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "core/error.h"
#include "kernels/dot_kernels.h"

namespace rs::kernels {
namespace {

bool cpu_has(Isa isa) {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also checks that the OS saves the vector state (XCR0).
  if (isa == Isa::Avx2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == Isa::Avx512)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  if (isa == Isa::Amx) return cpu_has(Isa::Avx512) && detail::amx_usable();
#endif
  return isa == Isa::Scalar;
}

Isa initial_isa() {
  const char* env = std::getenv("RS_KERNEL_ISA");
  if (env && *env) {
    const std::string s = env;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Amx})
      if (s == isa_name(isa)) {
        if (!isa_supported(isa))
          fail("RS_KERNEL_ISA=", s, ": this CPU does not support it (best: ", isa_name(detected_isa()), ")");
        return isa;
      }
    fail("RS_KERNEL_ISA: expected scalar, avx2, avx512 or amx, got '", s, "'");
  }
  return detected_isa();
}

std::atomic<int>& active() {
  static std::atomic<int> a{static_cast<int>(initial_isa())};
  return a;
}

const detail::DotTable& table_of(Isa isa) {
  const detail::DotTable* t = nullptr;
  if (isa == Isa::Avx512 || isa == Isa::Amx) t = detail::avx512_table();
  else if (isa == Isa::Avx2) t = detail::avx2_table();
  return t ? *t : detail::scalar_table();
}

detail::TileFn tile_fn(GgmlType t, const detail::DotTable& tab) {
  switch (t) {
    case GgmlType::Q8_0: return tab.q8_0;
    case GgmlType::Q4_0: return tab.q4_0;
    case GgmlType::Q4_1: return tab.q4_1;
    case GgmlType::Q5_0: return tab.q5_0;
    case GgmlType::Q4_K: return tab.q4_k;
    case GgmlType::Q6_K: return tab.q6_k;
    default: return nullptr;
  }
}

void check_shape(GgmlType t, int64_t n) {
  if (!matmul_supported(t))
    fail("quantised matmul: weight type ", ggml_type_name(t), " is not supported");
  if (n <= 0 || n % kActBlock != 0 || n % ggml_block_size(t) != 0)
    fail("quantised matmul: row length ", n, " must be a positive multiple of 32 and of ",
         ggml_type_name(t), "'s block size ", ggml_block_size(t));
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Amx: return "amx";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  if ((isa == Isa::Avx512 || isa == Isa::Amx) && !detail::avx512_table()) return false;
  if (isa == Isa::Amx && !detail::amx_gemm(GgmlType::Q4_K)) return false;
  if (isa == Isa::Avx2 && !detail::avx2_table()) return false;
  return cpu_has(isa);
}

Isa detected_isa() {
  static const Isa best = isa_supported(Isa::Amx)      ? Isa::Amx
                          : isa_supported(Isa::Avx512) ? Isa::Avx512
                          : isa_supported(Isa::Avx2) ? Isa::Avx2
                                                     : Isa::Scalar;
  return best;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  if (!isa_supported(isa))
    fail("kernel instruction set ", isa_name(isa), " is not supported on this CPU (best: ",
         isa_name(detected_isa()), ")");
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
}

// ------------------------------------------------------------------ activations

namespace {
// round half to even, for |v| < 2^22: the float addition rounds (ggml's nearest_int trick,
// ggml-quants.c; _mm256_round_ps(_MM_ROUND_NEAREST) gives the same), and it vectorises
inline int32_t round_even(float v) {
  const float t = v + 12582912.0f;  // 1.5 * 2^23
  int32_t i;
  std::memcpy(&i, &t, 4);
  return (i & 0x007fffff) - 0x00400000;
}
inline float f16_round(float v) { return fp16_to_fp32(fp32_to_fp16(v)); }
}  // namespace

void quantize_row_q8(const float* x, int64_t n, int8_t* q, float* d, float* s, int16_t* sum) {
  for (int64_t b = 0; b < n / kActBlock; ++b) {
    const float* xb = x + kActBlock * b;
    float amax = 0.0f;
    for (int j = 0; j < kActBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    // ggml x86 quantize_row_q8_0 / q8_1: d = amax / 127 stored as f16, q = round(x * 127 / amax)
    const float db = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int32_t qs[kActBlock];
    for (int j = 0; j < kActBlock; ++j) qs[j] = round_even(xb[j] * id);
    int32_t total = 0;
    for (int j = 0; j < kActBlock; ++j) {
      q[kActBlock * b + j] = static_cast<int8_t>(qs[j]);
      total += qs[j];
    }
    d[b] = f16_round(db);
    s[b] = f16_round(db * static_cast<float>(total));
    sum[b] = static_cast<int16_t>(total);
  }
}

namespace {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
// quantize_row_q8k's steps on 16 lanes, bit for bit: the same first element of largest |x| (a NaN
// never wins, as in the scalar comparison), the same iscale * x rounded half to even (vcvtps2dq
// in the default rounding mode equals round_even for |v| < 2^22), the same min(127, .), bsums of
// the stored bytes (a NaN's lane converts to INT_MIN, stored as 0, as the scalar code stores).
// Prefill quantises every row before each product: the scalar loop was ~9% of it on 1.5B.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) void quantize_q8k_avx512(const float* x, int64_t n,
                                                                                   int8_t* q, float* d,
                                                                                   int16_t* bsums) {
  for (int64_t b = 0; b < n / kActBlockK; ++b) {
    const float* xb = x + kActBlockK * b;
    int8_t* qb = q + kActBlockK * b;
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < 16; ++i) vmax = _mm512_mask_max_ps(vmax, 0xffff, _mm512_abs_ps(_mm512_loadu_ps(xb + 16 * i)), vmax);
    // (masked forms and plain reductions: GCC 12's plain intrinsics trip -Wmaybe-uninitialized)
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, vmax);
    const float amax = *std::max_element(lanes, lanes + 16);
    if (!(amax > 0.0f)) {
      d[b] = 0.0f;
      std::fill(qb, qb + kActBlockK, int8_t{0});
      std::fill(bsums + 16 * b, bsums + 16 * b + 16, int16_t{0});
      continue;
    }
    float mx = 0.0f;
    for (int i = 0; i < 16; ++i) {
      const __mmask16 m = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(xb + 16 * i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (m) {
        mx = xb[16 * i + __builtin_ctz(m)];
        break;
      }
    }
    const float iscale = -127.0f / mx;
    const __m512 vs = _mm512_set1_ps(iscale);
    for (int g = 0; g < 16; ++g) {
      __m512i r = _mm512_maskz_cvtps_epi32(0xffff, _mm512_mul_ps(vs, _mm512_loadu_ps(xb + 16 * g)));
      r = _mm512_maskz_min_epi32(0xffff, r, _mm512_set1_epi32(127));
      const __m128i bytes = _mm512_maskz_cvtepi32_epi8(0xffff, r);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qb + 16 * g), bytes);
      int32_t t = 0;
      for (int j = 0; j < 16; ++j) t += qb[16 * g + j];
      bsums[16 * b + g] = static_cast<int16_t>(t);
    }
    d[b] = 1.0f / iscale;
  }
}
#endif
}  // namespace

void quantize_row_q8k(const float* x, int64_t n, int8_t* q, float* d, int16_t* bsums) {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  if (active_isa() >= Isa::Avx512) return quantize_q8k_avx512(x, n, q, d, bsums);
#endif
  for (int64_t b = 0; b < n / kActBlockK; ++b) {
    const float* xb = x + kActBlockK * b;
    int8_t* qb = q + kActBlockK * b;
    // ggml quantize_row_q8_K_ref: the first element of largest |x| maps to -127
    float amax = 0.0f, mx = 0.0f;
    for (int j = 0; j < kActBlockK; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) { amax = ax; mx = xb[j]; }
    }
    if (amax == 0.0f) {
      d[b] = 0.0f;
      std::fill(qb, qb + kActBlockK, int8_t{0});
      std::fill(bsums + 16 * b, bsums + 16 * b + 16, int16_t{0});
      continue;
    }
    const float iscale = -127.0f / mx;
    int32_t qs[kActBlockK];
    for (int j = 0; j < kActBlockK; ++j) qs[j] = std::min(127, round_even(iscale * xb[j]));
    for (int g = 0; g < 16; ++g) {
      int32_t t = 0;
      for (int j = 0; j < 16; ++j) {
        qb[16 * g + j] = static_cast<int8_t>(qs[16 * g + j]);
        t += qs[16 * g + j];
      }
      bsums[16 * b + g] = static_cast<int16_t>(t);
    }
    d[b] = 1.0f / iscale;
  }
}

bool uses_k_acts(GgmlType t) { return t == GgmlType::Q4_K || t == GgmlType::Q6_K; }

void ActRows::quantize(const float* x, int64_t B, int64_t n, int64_t ldx) {
  resize(B, n);
  quantize_rows(x, 0, B, ldx);
}

void ActRows::resize(int64_t B, int64_t n, bool need32, bool needk) {
  if (n <= 0 || n % kActBlock != 0)
    fail("quantize activations: row length ", n, " is not a positive multiple of ", kActBlock);
  B_ = B;
  n_ = n;
  has32_ = need32;
  hask_ = needk && n % kActBlockK == 0;
  const bool k = hask_;
  const size_t N = static_cast<size_t>(B * n), NB = static_cast<size_t>(B * n / kActBlock);
  auto grow = [](auto& v, size_t m) { if (v.size() < m) v.resize(m); };
  grow(q_, N);
  grow(x_, N);
  grow(d_, NB);
  grow(s_, NB);
  grow(sum_, NB);
  if (k) {
    grow(qk_, N);
    grow(dk_, N / kActBlockK);
    grow(bsums_, N / 16);
  }
}

void ActRows::quantize_rows(const float* x, int64_t b0, int64_t b1, int64_t ldx) {
  const int64_t n = n_, nb = n / kActBlock;
  const bool k = hask_;
  if (b0 < 0 || b1 > B_ || b0 > b1) fail("quantize activations: rows [", b0, ", ", b1, ") outside [0, ", B_, ")");
  for (int64_t b = b0; b < b1; ++b) {
    const float* xb = x + b * ldx;
    std::copy(xb, xb + n, x_.data() + b * n);
    if (has32_) quantize_row_q8(xb, n, q_.data() + b * n, d_.data() + b * nb, s_.data() + b * nb, sum_.data() + b * nb);
    if (k) quantize_row_q8k(xb, n, qk_.data() + b * n, dk_.data() + b * (n / kActBlockK), bsums_.data() + b * (n / 16));
  }
}

ActRow ActRows::row(int64_t b) const {
  const int64_t nb = n_ / kActBlock;
  ActRow r{n_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, x_.data() + b * n_};
  if (has32_) {
    r.q = q_.data() + b * n_;
    r.d = d_.data() + b * nb;
    r.s = s_.data() + b * nb;
    r.sum = sum_.data() + b * nb;
  }
  if (hask_) {
    r.qk = qk_.data() + b * n_;
    r.dk = dk_.data() + b * (n_ / kActBlockK);
    r.bsums = bsums_.data() + b * (n_ / 16);
  }
  return r;
}

// ------------------------------------------------------------------ products

bool has_integer_kernel(GgmlType t) { return tile_fn(t, detail::scalar_table()) != nullptr; }

bool matmul_supported(GgmlType t) { return has_integer_kernel(t) || ggml_type_dequant_supported(t); }

float dot_row(GgmlType t, const uint8_t* w_row, const ActRow& x, Isa isa) {
  float y = 0.0f;
  matmul_rows(t, w_row, x.n, 0, 1, &x, 1, &y, 1, isa);
  return y;
}

void matmul_rows(GgmlType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                 const ActRow* x, int64_t B, float* y, int64_t ldy) {
  matmul_rows(t, w, n, r0, r1, x, B, y, ldy, active_isa());
}

void matmul_rows(GgmlType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                 const ActRow* x, int64_t B, float* y, int64_t ldy, Isa isa) {
  check_shape(t, n);
  for (int64_t b = 0; b < B; ++b)
    if (x[b].n != n) fail("quantised matmul: activation row ", b, " has ", x[b].n, " elements, weights ", n);
  const uint64_t row_bytes = ggml_row_bytes(t, n);
  if (const detail::TileFn tile = tile_fn(t, table_of(isa))) {
    for (int64_t b = 0; b < B; ++b) {
      if (uses_k_acts(t) && !x[b].qk) fail("quantised matmul: activation row ", b, " has no 256-block form (n ", n, ")");
      if (!uses_k_acts(t) && !x[b].q) fail("quantised matmul: activation row ", b, " has no 32-block form");
    }
    // Many activation rows (prefill): the batched kernels, where the instruction set has them.
    // 16 is the width of their vectors; below it the tiles waste no lanes.
    if ((isa == Isa::Avx512 || isa == Isa::Amx) && B >= 16)
      // (amx_usable: the tile permission, asked before the first tile instruction)
      if (const detail::GemmFn gemm = isa == Isa::Amx && detail::amx_usable() && detail::amx_gemm(t)
                                          ? detail::amx_gemm(t)
                                          : detail::avx512_gemm(t)) {
        gemm(w, row_bytes, n, r0, r1, x, B, y, ldy);
        return;
      }
    // Tiles of 4 weight rows x 4 activation rows; activation rows in chunks that stay in the
    // L2 cache (~512 KiB of int8) while every weight row passes over them.
    const int64_t chunk = std::max<int64_t>(4, (int64_t{1} << 19) / n / 4 * 4);
    for (int64_t c0 = 0; c0 < B; c0 += chunk) {
      const int64_t c1 = std::min(B, c0 + chunk);
      for (int64_t r = r0; r < r1; r += 4) {
        const int nr = static_cast<int>(std::min<int64_t>(4, r1 - r));
        const uint8_t* wr = w + static_cast<uint64_t>(r) * row_bytes;
        for (int64_t c = c0; c < c1; c += 4)
          tile(wr, row_bytes, nr, x + c, static_cast<int>(std::min<int64_t>(4, c1 - c)), y + c * ldy + r, ldy);
      }
    }
    return;
  }
  // Generic: dequantise the row (bit-exact, io/dequant.cpp), f32 dot with the exact x.
  thread_local std::vector<float> row;
  if (row.size() < static_cast<size_t>(n)) row.resize(static_cast<size_t>(n));
  for (int64_t r = r0; r < r1; ++r) {
    dequantize(t, w + static_cast<uint64_t>(r) * row_bytes, row.data(), n);
    for (int64_t b = 0; b < B; ++b) {
      const float* xb = x[b].x;
      float acc = 0.0f;
      for (int64_t j = 0; j < n; ++j) acc += row[static_cast<size_t>(j)] * xb[j];
      y[b * ldy + r] = acc;
    }
  }
}

}  // namespace rs::kernels
