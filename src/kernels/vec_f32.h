// Small f32 vector loops of the decode step (attention over the cache), with an AVX2 + FMA path
// picked at run time like quant_matmul.h (active_isa(); avx512 uses the same 256-bit code).
#pragma once
#include <cstdint>

namespace rs::kernels {

float dot_f32(const float* a, const float* b, int64_t n);           // sum_i a_i b_i
void axpy_f32(float alpha, const float* x, float* y, int64_t n);    // y += alpha x

}  // namespace rs::kernels
