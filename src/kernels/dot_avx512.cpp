// AVX-512 (F, BW, VL) + VNNI copy of the SIMD kernels (dot_simd_impl.h): the integer dot is one
// vpdpbusd instead of vpmaddubsw + vpmaddwd, on 256-bit vectors (one 32-element block each).
#include "kernels/dot_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define RS_SIMD_NS avx512
#define RS_SIMD_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define RS_SIMD_VNNI 1
#include "kernels/dot_simd_impl.h"

namespace rs::kernels::detail {
const DotTable* avx512_table() { return &avx512::table(); }
}  // namespace rs::kernels::detail
#else
namespace rs::kernels::detail {
const DotTable* avx512_table() { return nullptr; }
}  // namespace rs::kernels::detail
#endif
