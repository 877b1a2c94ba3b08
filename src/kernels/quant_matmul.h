// Products with weights kept in their ggml block format: y = W x for W [rows, n] stored as GGUF
// rows of quantised blocks, x one or a few f32 activation rows. For decoding, where every step
// reads every weight once and memory traffic decides the speed.
//
// How it works: llama.cpp's CPU arithmetic (ggml-cpu/arch/x86/quants.c, ggml-quants.c: the
// vec_dot_type of each weight type and its block layouts; no code copied), so that the native
// path reproduces llama.cpp's quantised forward up to the order of f32 additions:
//   1. ActRows::quantize turns each activation row into the integer forms the weights need:
//      - 32-blocks (ggml block_q8_0 / block_q8_1), for Q8_0 Q4_0 Q5_0 (Q8_0) and Q4_1 (Q8_1):
//        amax = max |x|, q = round_half_even(x * 127 / amax), d = f16(amax / 127) and, for Q8_1,
//        s = f16((amax / 127) * sum q) (ggml's x86 quantize_row_q8_0 / q8_1);
//      - 256-blocks (ggml block_q8_K), for Q4_K and Q6_K, when n is a multiple of 256: the
//        element of largest |x| gives max, iscale = -127 / max, q = round_half_even(iscale x),
//        d = 1 / iscale (an f32), bsums = sums of q over each 16 (quantize_row_q8_K_ref).
//   2. dot products are exact integer sums scaled in f32, per weight block:
//        Q8_0  (32 elems, 34 B: f16 d | i8 qs[32])           dw dx sum_j qw qx
//        Q4_0  (32 elems, 18 B: f16 d | u8 qs[16])           dw dx (sum_j nib qx - 8 sum qx)
//        Q4_1  (32 elems, 20 B: f16 d | f16 m | u8 qs[16])   dw dx sum_j nib qx + m s
//        Q5_0  (32 elems, 22 B: f16 d | u32 qh | u8 qs[16])  dw dx (sum_j q5 qx - 16 sum qx),
//              q5 = nibble j | (bit j of qh) << 4
//        Q4_K  (256 elems, 144 B: f16 d | f16 dmin | u8 scales[12] | u8 qs[128]): with the 6-bit
//              sub-block scales sc_j and mins m_j kept as integers,
//              (d dx) sum_j sc_j sum_{32 in j} nib qx  -  (dmin dx) sum_j m_j (bsum_2j + bsum_2j+1)
//        Q6_K  (256 elems, 210 B: u8 ql[128] | u8 qh[64] | i8 scales[16] | f16 d):
//              (d dx) sum_g sc_g (sum_{16 in g} q6 qx - 32 bsum_g)
//      so a K-quant block costs one or two f32 operations, as in ggml's vec_dot_q4_K_q8_K.
//      (Block layouts: ggml-common.h, as in io/dequant.cpp.) Nibble j < 16 of a 32-block is the
//      low half of byte j, nibble j + 16 the high half.
//   Every other dequantisable type (F32, F16, BF16, Q5_1, Q5_K) takes the generic path: dequantise a
//   row into a scratch buffer and take an f32 dot with the unquantised activations.
//
// Batches: matmul_rows works in tiles of up to 4 weight rows x 4 activation rows, so a weight
// block is unpacked once for several activation rows (prefill, batched decode); on AVX-512,
// 16 or more activation rows take batched kernels instead (16 activation rows in the lanes of a
// vector, dot_avx512.cpp), about twice the tiles' rate; with AMX, Q4_K and Q6_K take tile
// multiplies over panels of 16 weight rows x 16 activation rows instead (dot_amx.cpp, ~2.7x the
// AVX-512 batched rate); on AVX-512, a single activation row of Q4_K / Q6_K (decoding) takes
// 512-bit kernels of up to 4 weight rows that prefetch the next rows into L2 (dot_avx512.cpp,
// ~1.3x the tiles' decode step at 1.5B). Every output's
// f32 operations are the same whatever the tile, so a row's result does not depend on B or on
// the split of rows over threads (bit for bit).
//
// Accuracy: the integer sums are exact; the approximation is x -> dx*qx, at most |dx|/2 per
// element, plus f32 rounding of the scales (dx rounded to f16 for the 32-blocks).
//
// Instruction sets, picked once at run time from the CPU (override: set_isa, or the environment
// variable RS_KERNEL_ISA=scalar|avx2|avx512|amx): amx = avx512 plus AMX-INT8 tile multiplies
// for 16 or more activation rows of Q4_K / Q6_K (prefill; needs Linux's per-process tile
// permission, dot_amx.cpp), avx512 = AVX-512 F/BW/VL + VNNI (vpdpbusd / vpdpwssd on 256-bit
// vectors), avx2 = AVX2 + FMA + F16C (vpmaddubsw / vpmaddwd), scalar = portable C++. All of
// them compute the same integer sums and the same f32 operations in the same order: their
// results are identical bit for bit (RS_KERNEL_ISA=avx512 turns AMX off, nothing else). (That matters beyond tidiness: the next
// layer rounds activations to 8 bits, so a last-bit difference can move a later activation by a
// whole step. For the 32-block types the f32 order is that of ggml's AVX kernels, 8-lane fused
// multiply-adds per block; for the K-quants one fused multiply-add per 256-block.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/ggml_types.h"

namespace rs::kernels {

// Amx: Avx512 plus AMX-INT8 tile multiplies for batches of Q4_K / Q6_K (dot_amx.cpp).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Amx = 3 };
const char* isa_name(Isa isa);
Isa detected_isa();                // the best this CPU (and OS) supports
bool isa_supported(Isa isa);
Isa active_isa();                  // detected_isa(), or RS_KERNEL_ISA, or set_isa()
void set_isa(Isa isa);             // throws rs::Error when the CPU lacks it

constexpr int64_t kActBlock = 32;   // activation block of the 32-block types (elements)
constexpr int64_t kActBlockK = 256; // activation block of the K-quants

// One quantised activation row of n elements (n a multiple of 32), views into ActRows.
struct ActRow {
  int64_t n = 0;
  // 32-blocks (block_q8_0 / block_q8_1): x ~ d[j / 32] * q[j]
  const int8_t* q = nullptr;       // [n]
  const float* d = nullptr;        // [n / 32]   f16-rounded scale, as f32
  const float* s = nullptr;        // [n / 32]   f16(unrounded d * sum of the block's q), as f32
  const int16_t* sum = nullptr;    // [n / 32]   sum of the block's q
  // 256-blocks (block_q8_K), only when n % 256 == 0 (else null): x ~ dk[j / 256] * qk[j]
  const int8_t* qk = nullptr;      // [n]
  const float* dk = nullptr;       // [n / 256]
  const int16_t* bsums = nullptr;  // [n / 16]   sum of qk over each 16
  const float* x = nullptr;        // [n]        the f32 values (generic path)
};

// Storage for B quantised rows of n elements; reused between calls (grows, never shrinks).
class ActRows {
 public:
  void quantize(const float* x, int64_t B, int64_t n, int64_t ldx);  // x[b * ldx + j]
  // The same in two steps, so that threads can share the rows: resize once, then
  // quantize_rows over disjoint ranges [b0, b1) (each row's result is the same either way).
  // need32 / needk false: skip the 32-block / 256-block form (no weight that reads it; its
  // pointers in row() are then null and matmul_rows refuses those weights).
  void resize(int64_t B, int64_t n, bool need32 = true, bool needk = true);
  void quantize_rows(const float* x, int64_t b0, int64_t b1, int64_t ldx);
  ActRow row(int64_t b) const;
  int64_t rows() const { return B_; }
  int64_t cols() const { return n_; }

 private:
  int64_t B_ = 0, n_ = 0;
  bool has32_ = true, hask_ = true;
  std::vector<int8_t> q_, qk_;
  std::vector<float> d_, s_, dk_, x_;
  std::vector<int16_t> sum_, bsums_;
};

// Quantise one row into caller-provided arrays (the ActRow layouts): n a multiple of 32 for
// the 32-blocks, of 256 for the 256-blocks.
void quantize_row_q8(const float* x, int64_t n, int8_t* q, float* d, float* s, int16_t* sum);
void quantize_row_q8k(const float* x, int64_t n, int8_t* q, float* d, int16_t* bsums);

// Whether weights of type t read the 256-block activations (Q4_K, Q6_K).
bool uses_k_acts(GgmlType t);

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
