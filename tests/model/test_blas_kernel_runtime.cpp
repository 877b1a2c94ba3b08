// The BLAS kernel check end to end, in a binary that links libtorch (and so OpenBLAS): the
// start-up check ran before main and left the fastest family the CPU runs (unless
// OPENBLAS_CORETYPE says otherwise); and from the state a host gets when OpenBLAS picks Prescott
// by itself, the same decision and switch restore the fast kernel with the same products.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "core/blas_kernel.h"

using namespace rs::blas;

namespace {

bool dynamic_openblas() {
  const BlasKernel& k = blas_kernel();
  return k.openblas && k.dynamic_arch;
}

// Best-of-3 seconds of an [m,k] x [k,n] f32 product (the shape of a prefill projection).
double time_mm(const at::Tensor& a, const at::Tensor& b) {
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    at::Tensor c = at::mm(a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

TEST(BlasKernelRuntime, StartupCheckLeftTheFastestFamily) {
  const BlasKernel& k = blas_kernel();
  std::printf("BLAS: %s\n  %s\n", blas_kernel_line().c_str(), k.reason.c_str());
  if (!k.openblas) GTEST_SKIP() << "libtorch's BLAS is not OpenBLAS: nothing to check";
  EXPECT_EQ(k.core, openblas_core_now());
  if (std::getenv("OPENBLAS_CORETYPE")) {
    EXPECT_EQ(k.chosen_by, "OPENBLAS_CORETYPE");
    EXPECT_EQ(k.core, k.openblas_choice);  // the user's choice stands
    return;
  }
  if (!k.dynamic_arch) GTEST_SKIP() << "OpenBLAS built for one core: " << k.core;
  const std::string best = best_core(detect_cpu_features(), openblas_available_cores());
  if (!best.empty()) {
    EXPECT_GE(core_tier(k.core), core_tier(best)) << k.reason;
  }
}

TEST(BlasKernelRuntime, FromAPrescottChoiceTheCheckRestoresTheFastKernel) {
  if (!dynamic_openblas()) GTEST_SKIP() << "needs OpenBLAS with DYNAMIC_ARCH";
  const std::string before = openblas_core_now();
  at::manual_seed(0);
  at::Tensor a = at::randn({512, 576}), b = at::randn({576, 1536});
  at::Tensor exact = at::mm(a.to(at::kDouble), b.to(at::kDouble));

  // The state of a host whose model OpenBLAS does not know: Prescott, chosen by the library.
  ASSERT_EQ(switch_openblas_core("Prescott"), "Prescott");
  at::Tensor slow = at::mm(a, b);
  const double t_slow = time_mm(a, b);
  const CoreDecision d = decide_openblas_core(detect_cpu_features(), openblas_core_now(),
                                              /*user_set=*/false, openblas_available_cores());
  if (!d.change) {
    switch_openblas_core(before);
    GTEST_SKIP() << "this CPU has nothing faster than Prescott: " << d.reason;
  }
  EXPECT_EQ(switch_openblas_core(d.target), d.target);
  at::Tensor fast = at::mm(a, b);
  const double t_fast = time_mm(a, b);
  // Both kernels compute the same product: f32 sums of 576 terms, |x| ~ 24.
  EXPECT_LT((slow.to(at::kDouble) - exact).abs().max().item<double>(), 1e-3);
  EXPECT_LT((fast.to(at::kDouble) - exact).abs().max().item<double>(), 1e-3);
  std::printf("sgemm 512x576x1536, %d thread(s): Prescott %.1f GFLOP/s, %s %.1f GFLOP/s (%.2fx; "
              "timings on a shared machine are noisy, not asserted)\n",
              at::get_num_threads(), 2.0 * 512 * 576 * 1536 / t_slow / 1e9, d.target.c_str(),
              2.0 * 512 * 576 * 1536 / t_fast / 1e9, t_slow / t_fast);
  switch_openblas_core(before);
  EXPECT_EQ(openblas_core_now(), before);
}

TEST(BlasKernelRuntime, SwitchingLeavesTheEnvironmentAsItWas) {
  if (!dynamic_openblas()) GTEST_SKIP() << "needs OpenBLAS with DYNAMIC_ARCH";
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = env ? env : "";
  const bool had = env != nullptr;
  const std::string before = openblas_core_now();
  switch_openblas_core("Haswell");
  EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE") != nullptr, had);
  if (had) {
    EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE"), saved);
  }
  switch_openblas_core(before);
  EXPECT_EQ(openblas_core_now(), before);
}
