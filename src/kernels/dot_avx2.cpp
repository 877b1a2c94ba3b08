// AVX2 + FMA + F16C copy of the SIMD kernels (dot_simd_impl.h).
#include "kernels/dot_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define RS_SIMD_NS avx2
#define RS_SIMD_TARGET __attribute__((target("avx2,fma,f16c")))
#define RS_SIMD_VNNI 0
#include "kernels/dot_simd_impl.h"

namespace rs::kernels::detail {
const DotTable* avx2_table() { return &avx2::table(); }
}  // namespace rs::kernels::detail
#else
namespace rs::kernels::detail {
const DotTable* avx2_table() { return nullptr; }
}  // namespace rs::kernels::detail
#endif
