// Dispatch for quant_matmul.h: instruction-set choice, activation quantisation, the row loop and
// the generic (dequantise a row, f32 dot) path.
#include "kernels/quant_matmul.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>

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
#endif
  return isa == Isa::Scalar;
}

Isa initial_isa() {
  const char* env = std::getenv("RS_KERNEL_ISA");
  if (env && *env) {
    const std::string s = env;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
      if (s == isa_name(isa)) {
        if (!isa_supported(isa))
          fail("RS_KERNEL_ISA=", s, ": this CPU does not support it (best: ", isa_name(detected_isa()), ")");
        return isa;
      }
    fail("RS_KERNEL_ISA: expected scalar, avx2 or avx512, got '", s, "'");
  }
  return detected_isa();
}

std::atomic<int>& active() {
  static std::atomic<int> a{static_cast<int>(initial_isa())};
  return a;
}

const detail::DotTable& table_of(Isa isa) {
  const detail::DotTable* t = nullptr;
  if (isa == Isa::Avx512) t = detail::avx512_table();
  else if (isa == Isa::Avx2) t = detail::avx2_table();
  return t ? *t : detail::scalar_table();
}

detail::DotFn dot_fn(GgmlType t, const detail::DotTable& tab) {
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
  }
  return "?";
}

bool isa_supported(Isa isa) {
  if (isa == Isa::Avx512 && !detail::avx512_table()) return false;
  if (isa == Isa::Avx2 && !detail::avx2_table()) return false;
  return cpu_has(isa);
}

Isa detected_isa() {
  static const Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512
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

void quantize_row_q8(const float* x, int64_t n, int8_t* q, float* d, float* s, int16_t* sum16) {
  for (int64_t b = 0; b < n / kActBlock; ++b) {
    const float* xb = x + kActBlock * b;
    float amax = 0.0f;
    for (int j = 0; j < kActBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    // d = amax / 127, q = round(x / d) in [-127, 127] (ggml quantize_row_q8_0_ref's rule)
    const float db = amax / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    int32_t sums[2] = {0, 0};
    for (int j = 0; j < kActBlock; ++j) {
      const float v = std::round(xb[j] * id);
      const int8_t qj = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, v)));
      q[kActBlock * b + j] = qj;
      sums[j / 16] += qj;
    }
    d[b] = db;
    s[b] = db * static_cast<float>(sums[0] + sums[1]);
    sum16[2 * b] = static_cast<int16_t>(sums[0]);
    sum16[2 * b + 1] = static_cast<int16_t>(sums[1]);
  }
}

void ActRows::quantize(const float* x, int64_t B, int64_t n, int64_t ldx) {
  if (n <= 0 || n % kActBlock != 0)
    fail("quantize activations: row length ", n, " is not a positive multiple of ", kActBlock);
  B_ = B;
  n_ = n;
  const size_t N = static_cast<size_t>(B * n), NB = static_cast<size_t>(B * n / kActBlock);
  if (q_.size() < N) q_.resize(N);
  if (x_.size() < N) x_.resize(N);
  if (d_.size() < NB) d_.resize(NB);
  if (s_.size() < NB) s_.resize(NB);
  if (sum16_.size() < 2 * NB) sum16_.resize(2 * NB);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t nb = n / kActBlock;
    std::copy(x + b * ldx, x + b * ldx + n, x_.data() + b * n);
    quantize_row_q8(x + b * ldx, n, q_.data() + b * n, d_.data() + b * nb, s_.data() + b * nb,
                    sum16_.data() + 2 * b * nb);
  }
}

ActRow ActRows::row(int64_t b) const {
  const int64_t nb = n_ / kActBlock;
  return ActRow{n_, q_.data() + b * n_, d_.data() + b * nb, s_.data() + b * nb,
                sum16_.data() + 2 * b * nb, x_.data() + b * n_};
}

// ------------------------------------------------------------------ products

bool has_integer_kernel(GgmlType t) { return dot_fn(t, detail::scalar_table()) != nullptr; }

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
  if (const detail::DotFn dot = dot_fn(t, table_of(isa))) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint8_t* wr = w + static_cast<uint64_t>(r) * row_bytes;
      for (int64_t b = 0; b < B; ++b) y[b * ldy + r] = dot(wr, x[b]);
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
