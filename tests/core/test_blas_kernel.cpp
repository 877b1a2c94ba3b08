// The BLAS kernel check (core/blas_kernel.h): the decision as a pure function over (CPU
// features, the core OpenBLAS picked, whether OPENBLAS_CORETYPE is set, the cores the library
// has), so the Prescott case is tested on any host; and the CPUID reader against /proc/cpuinfo.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/blas_kernel.h"

using namespace rs::blas;

namespace {

// Debian's OpenBLAS 0.3.21 has these (no SapphireRapids table).
const std::vector<std::string> kDebian = {"Cooperlake", "SkylakeX", "Haswell", "Sandybridge"};

CpuFeatures sse_only() {
  CpuFeatures f;
  f.sse3 = true;
  return f;
}
CpuFeatures avx2() {
  CpuFeatures f = sse_only();
  f.avx = f.fma = f.avx2 = true;
  return f;
}
CpuFeatures avx512() {  // Skylake-SP / Cascade Lake
  CpuFeatures f = avx2();
  f.avx512f = f.avx512cd = f.avx512bw = f.avx512dq = f.avx512vl = true;
  return f;
}
CpuFeatures avx512_bf16() {  // Cooper Lake, Zen 4
  CpuFeatures f = avx512();
  f.avx512_bf16 = true;
  return f;
}
CpuFeatures amx() {  // Sapphire Rapids: the CI host of issue 7
  CpuFeatures f = avx512_bf16();
  f.amx_tile = f.amx_bf16 = true;
  return f;
}

}  // namespace

// The case of issue 7: a Sapphire Rapids host presenting a generic "Intel Xeon Processor";
// OpenBLAS 0.3.21 falls back to Prescott by itself.
TEST(BlasKernel, PrescottOnAnAmxHostSwitchesToTheFastestFamilyTheLibraryHas) {
  auto d = decide_openblas_core(amx(), "Prescott", /*user_set=*/false, kDebian);
  EXPECT_TRUE(d.change);
  EXPECT_EQ(d.target, "Cooperlake");  // no SapphireRapids table in 0.3.21
  EXPECT_NE(d.reason.find("Prescott"), std::string::npos) << d.reason;
  // A library that has the AMX family gets it.
  auto all = kDebian;
  all.push_back("SapphireRapids");
  EXPECT_EQ(decide_openblas_core(amx(), "Prescott", false, all).target, "SapphireRapids");
}

TEST(BlasKernel, PrescottOnOtherHostsPicksWhatTheCpuRuns) {
  EXPECT_EQ(decide_openblas_core(avx512(), "Prescott", false, kDebian).target, "SkylakeX");
  EXPECT_EQ(decide_openblas_core(avx512_bf16(), "prescott", false, kDebian).target, "Cooperlake");
  EXPECT_EQ(decide_openblas_core(avx2(), "Prescott", false, kDebian).target, "Haswell");
  EXPECT_EQ(decide_openblas_core(avx2(), "Nehalem", false, kDebian).target, "Haswell");
  CpuFeatures avx_only = sse_only();
  avx_only.avx = true;
  EXPECT_EQ(decide_openblas_core(avx_only, "Core2", false, kDebian).target, "Sandybridge");
  // Only the families the library has: an old build with SkylakeX but no Cooperlake table.
  EXPECT_EQ(decide_openblas_core(amx(), "Prescott", false, {"SkylakeX", "Haswell"}).target, "SkylakeX");
}

TEST(BlasKernel, TheUsersSettingAlwaysWins) {
  for (const char* core : {"Prescott", "Haswell", "SkylakeX", "NoSuchCore"}) {
    auto d = decide_openblas_core(amx(), core, /*user_set=*/true, kDebian);
    EXPECT_FALSE(d.change) << core;
    EXPECT_TRUE(d.target.empty());
    EXPECT_NE(d.reason.find("OPENBLAS_CORETYPE"), std::string::npos);
  }
}

TEST(BlasKernel, AGoodChoiceIsLeftAlone) {
  EXPECT_FALSE(decide_openblas_core(amx(), "Cooperlake", false, kDebian).change);
  EXPECT_FALSE(decide_openblas_core(avx512(), "SkylakeX", false, kDebian).change);
  EXPECT_FALSE(decide_openblas_core(avx2(), "Haswell", false, kDebian).change);
  EXPECT_FALSE(decide_openblas_core(avx2(), "Zen", false, kDebian).change);  // Zen = AVX2 tier
  // A CPU with only SSE: Prescott is right.
  EXPECT_FALSE(decide_openblas_core(sse_only(), "Prescott", false, kDebian).change);
  // A faster family than the CPU's best is never downgraded (OpenBLAS knows the model).
  EXPECT_FALSE(decide_openblas_core(avx2(), "SkylakeX", false, kDebian).change);
  // AVX-512 without the OS saving ZMM state: no AVX-512 family.
  CpuFeatures partial = avx2();
  partial.avx512f = true;  // but not bw/dq/vl/cd: not the SkylakeX kernels' set
  EXPECT_EQ(decide_openblas_core(partial, "Prescott", false, kDebian).target, "Haswell");
}

TEST(BlasKernel, UnknownNamesAndLibrariesWithoutFastTablesAreLeftAlone) {
  EXPECT_FALSE(decide_openblas_core(amx(), "NeoverseN1", false, kDebian).change);
  EXPECT_FALSE(decide_openblas_core(amx(), "", false, kDebian).change);
  EXPECT_FALSE(decide_openblas_core(amx(), "Prescott", false, {}).change);
}

TEST(BlasKernel, CoreTiers) {
  EXPECT_EQ(core_tier("Prescott"), 1);
  EXPECT_EQ(core_tier("PRESCOTT"), 1);
  EXPECT_EQ(core_tier("Sandybridge"), 2);
  EXPECT_EQ(core_tier("Zen"), 3);
  EXPECT_EQ(core_tier("SkylakeX"), 4);
  EXPECT_EQ(core_tier("Cooperlake"), 5);
  EXPECT_EQ(core_tier("SapphireRapids"), 6);
  EXPECT_EQ(core_tier("Unknown"), -1);
  EXPECT_EQ(best_core(sse_only(), kDebian), "");
}

// The CPUID + XCR0 reader agrees with the kernel's view (/proc/cpuinfo lists a feature only when
// the CPU has it and the kernel enabled its register state).
TEST(BlasKernel, CpuFeaturesMatchProcCpuinfo) {
#if defined(__x86_64__) && defined(__linux__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;) flags.insert(w);
      break;
    }
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const CpuFeatures f = detect_cpu_features();
  EXPECT_EQ(f.sse3, flags.count("pni") == 1);  // /proc/cpuinfo calls SSE3 "pni"
  EXPECT_EQ(f.avx, flags.count("avx") == 1);
  EXPECT_EQ(f.fma, flags.count("fma") == 1);
  EXPECT_EQ(f.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(f.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(f.avx512cd, flags.count("avx512cd") == 1);
  EXPECT_EQ(f.avx512bw, flags.count("avx512bw") == 1);
  EXPECT_EQ(f.avx512dq, flags.count("avx512dq") == 1);
  EXPECT_EQ(f.avx512vl, flags.count("avx512vl") == 1);
  EXPECT_EQ(f.avx512_bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(f.amx_tile, flags.count("amx_tile") == 1);
  EXPECT_EQ(f.amx_bf16, flags.count("amx_bf16") == 1);
  std::printf("CPU features: %s\n", describe(f).c_str());
#else
  GTEST_SKIP() << "x86-64 Linux only";
#endif
}
