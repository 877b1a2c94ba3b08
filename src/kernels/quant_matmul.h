// Products with weights kept in their ggml block format: y = W x for W [rows, n] stored as GGUF
// rows of quantised blocks, x one or a few f32 activation rows. For decoding, where every step
// reads every weight once and memory traffic decides the speed.
//
// How it works (the scheme of ggml's vec_dot kernels, ggml-quants.c; no code copied):
//   1. quantize_acts: each activation row becomes 8-bit integers in blocks of 32 with one f32
//      scale per block, x[32b + j] ~ d[b] * q[32b + j], d[b] = max_j |x[32b + j]| / 127, q =
//      round(x / d). This plays the role of ggml's Q8_0 / Q8_1 / Q8_K "vec_dot_type"; we keep the
//      scale in f32 (ggml rounds it to f16) and one block size (32) for every weight format.
//   2. dot products are integer sums per block, scaled in f32:
//        Q8_0  (32 elems, 34 B: f16 d | i8 qs[32])           sum_b dw*dx * sum_j qw*qx
//        Q4_0  (32 elems, 18 B: f16 d | u8 qs[16])           sum_b dw*dx * (sum_j nib*qx - 8 sum qx)
//        Q4_1  (32 elems, 20 B: f16 d | f16 m | u8 qs[16])   sum_b dw*dx * sum_j nib*qx + m * dx*sum qx
//        Q5_0  (32 elems, 22 B: f16 d | u32 qh | u8 qs[16])  sum_b dw*dx * (sum_j q5*qx - 16 sum qx),
//              q5 = nibble j | (bit j of qh) << 4
//        Q4_K  (256 elems, 144 B: f16 d | f16 dmin | u8 scales[12] | u8 qs[128]): per 32-element
//              sub-block j, (d sc_j) dx_j sum nib*qx - (dmin m_j) dx_j sum qx
//        Q6_K  (256 elems, 210 B: u8 ql[128] | u8 qh[64] | i8 scales[16] | f16 d): per group g of
//              16, (d sc_g) dx (sum q6*qx - 32 sum qx)
//      (block layouts: ggml-common.h, as in io/dequant.cpp). Nibble j < 16 of a 32-block is the
//      low half of byte j, nibble j + 16 the high half.
//   Every other dequantisable type (F32, F16, BF16, Q5_1, Q5_K) takes the generic path: dequantise a
//   row into a scratch buffer and take an f32 dot with the unquantised activations.
//
// Accuracy: the integer sums are exact; the only approximation is x -> dx*qx, at most dx/2 per
// element, so |y - W x| <= sum_b (dx_b / 2) sum_{j in b} |W_j| plus f32 rounding. Tests check
// this bound and agreement with dequantise-then-matmul on the quantised x.
//
// Instruction sets, picked once at run time from the CPU (override: set_isa, or the environment
// variable RS_KERNEL_ISA=scalar|avx2|avx512): avx512 = AVX-512 F/BW/VL + VNNI (vpdpbusd on
// 256-bit vectors), avx2 = AVX2 + FMA + F16C (vpmaddubsw / vpmaddwd), scalar = portable C++.
// All three compute the same integer sums; they differ only in the order of f32 additions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/ggml_types.h"

namespace rs::kernels {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
const char* isa_name(Isa isa);
Isa detected_isa();                // the best this CPU (and OS) supports
bool isa_supported(Isa isa);
Isa active_isa();                  // detected_isa(), or RS_KERNEL_ISA, or set_isa()
void set_isa(Isa isa);             // throws rs::Error when the CPU lacks it

constexpr int64_t kActBlock = 32;  // activation block (elements)

// One quantised activation row of n elements (n a multiple of 32), views into ActRows.
struct ActRow {
  int64_t n = 0;
  const int8_t* q = nullptr;       // [n]         x ~ d[j / 32] * q[j]
  const float* d = nullptr;        // [n / 32]    block scales
  const float* s = nullptr;        // [n / 32]    d * sum of the block's q (ggml Q8_1's "s")
  const int16_t* sum16 = nullptr;  // [n / 16]    sum of q over each half block (16 elements)
  const float* x = nullptr;        // [n]         the f32 values (generic path)
};

// Storage for B quantised rows of n elements; reused between calls (grows, never shrinks).
class ActRows {
 public:
  void quantize(const float* x, int64_t B, int64_t n, int64_t ldx);  // x[b * ldx + j]
  ActRow row(int64_t b) const;
  int64_t rows() const { return B_; }
  int64_t cols() const { return n_; }

 private:
  int64_t B_ = 0, n_ = 0;
  std::vector<int8_t> q_;
  std::vector<float> d_, s_, x_;
  std::vector<int16_t> sum16_;
};

// Quantise one row (n a multiple of 32) into caller-provided arrays (the ActRow layout).
void quantize_row_q8(const float* x, int64_t n, int8_t* q, float* d, float* s, int16_t* sum16);

// Types with an integer kernel (Q8_0 Q4_0 Q4_1 Q5_0 Q4_K Q6_K); others use the generic path.
bool has_integer_kernel(GgmlType t);
// Types matmul_rows accepts at all: the integer ones plus every dequantisable type.
bool matmul_supported(GgmlType t);

// y[b * ldy + r] = sum_k W[r, k] x_b[k] for r in [r0, r1), b in [0, B).
// w: the whole matrix, rows of ggml_row_bytes(t, n) bytes (no alignment needed).
// Single-threaded; split rows over threads with ThreadPool. n must be a multiple of the type's
// block size and of 32. `isa` defaults to active_isa().
void matmul_rows(GgmlType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                 const ActRow* x, int64_t B, float* y, int64_t ldy);
void matmul_rows(GgmlType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                 const ActRow* x, int64_t B, float* y, int64_t ldy, Isa isa);

// One dot product of a weight row with a quantised activation row (tests, small uses).
float dot_row(GgmlType t, const uint8_t* w_row, const ActRow& x, Isa isa);

}  // namespace rs::kernels
