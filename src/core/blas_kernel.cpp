// The start-up check of blas_kernel.h: OpenBLAS's kernel family against the CPU's features.
#include "core/blas_kernel.h"

#include <dlfcn.h>
#include <strings.h>

#include <cstdlib>
#include <optional>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace rs::blas {
namespace {

bool iequal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

#if defined(__x86_64__)
// XCR0: which register states the OS saves on a context switch (Intel SDM vol. 1, 13.3).
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}
#endif

// The families a faster kernel can come from, fastest first, with what each one needs.
struct Family {
  const char* name;       // OpenBLAS core name (gotoblas_corename(), OPENBLAS_CORETYPE)
  const char* symbol;     // its exported kernel table in a DYNAMIC_ARCH build
  bool (*supported)(const CpuFeatures&);
};
bool has_avx512(const CpuFeatures& f) {
  return f.avx512f && f.avx512cd && f.avx512bw && f.avx512dq && f.avx512vl;
}
const Family kFamilies[] = {
    {"SapphireRapids", "gotoblas_SAPPHIRERAPIDS",
     [](const CpuFeatures& f) { return has_avx512(f) && f.avx512_bf16 && f.amx_tile && f.amx_bf16; }},
    {"Cooperlake", "gotoblas_COOPERLAKE",
     [](const CpuFeatures& f) { return has_avx512(f) && f.avx512_bf16; }},
    {"SkylakeX", "gotoblas_SKYLAKEX", [](const CpuFeatures& f) { return has_avx512(f); }},
    {"Haswell", "gotoblas_HASWELL", [](const CpuFeatures& f) { return f.avx && f.avx2 && f.fma; }},
    {"Sandybridge", "gotoblas_SANDYBRIDGE", [](const CpuFeatures& f) { return f.avx; }},
};

template <class Fn>
Fn symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

BlasKernel run_check() {
  BlasKernel k;
  const CpuFeatures f = detect_cpu_features();
  k.cpu = describe(f);
  k.core = openblas_core_now();
  if (k.core.empty()) return k;  // not OpenBLAS (e.g. MKL in a pip libtorch): nothing to do
  k.openblas = true;
  if (auto config = symbol<char* (*)()>("openblas_get_config")) k.config = config();
  k.dynamic_arch = symbol<void (*)()>("gotoblas_dynamic_init") != nullptr &&
                   symbol<void (*)()>("gotoblas_dynamic_quit") != nullptr;
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  const char* simulate = std::getenv("RS_BLAS_SIMULATE_CORE");
  if (!user && simulate && *simulate && k.dynamic_arch) {
    // Testing aid: the state a host gets when OpenBLAS itself picks `simulate`.
    switch_openblas_core(simulate);
    k.simulated = simulate;
  }
  k.openblas_choice = openblas_core_now();
  const CoreDecision d =
      decide_openblas_core(f, k.openblas_choice, user != nullptr, openblas_available_cores());
  k.reason = d.reason;
  k.chosen_by = user ? "OPENBLAS_CORETYPE" : "openblas";
  if (d.change && k.dynamic_arch) {
    if (iequal(switch_openblas_core(d.target), d.target)) {
      k.chosen_by = "reasonscope";
    } else {
      switch_openblas_core(k.openblas_choice);  // never leave it worse than OpenBLAS's own pick
      k.reason += "; switching to " + d.target + " failed, kept " + k.openblas_choice;
    }
  }
  k.core = openblas_core_now();
  return k;
}

}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse3 = c & (1u << 0);
  const bool osxsave = c & (1u << 27);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;               // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;        // XTILECFG, XTILEDATA
  f.avx = os_avx && (c & (1u << 28));
  f.fma = os_avx && (c & (1u << 12));
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    const unsigned max_subleaf = a;
    f.avx2 = os_avx && (b & (1u << 5));
    f.avx512f = os_avx512 && (b & (1u << 16));
    f.avx512dq = os_avx512 && (b & (1u << 17));
    f.avx512cd = os_avx512 && (b & (1u << 28));
    f.avx512bw = os_avx512 && (b & (1u << 30));
    f.avx512vl = os_avx512 && (b & (1u << 31));
    f.amx_bf16 = os_amx && (d & (1u << 22));
    f.amx_tile = os_amx && (d & (1u << 24));
    if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
      f.avx512_bf16 = os_avx512 && (a & (1u << 5));
  }
#endif
  return f;
}

std::string describe(const CpuFeatures& f) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  };
  add(f.sse3, "sse3");
  add(f.avx, "avx");
  add(f.fma, "fma");
  add(f.avx2, "avx2");
  add(f.avx512f, "avx512f");
  add(f.avx512cd, "avx512cd");
  add(f.avx512bw, "avx512bw");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vl, "avx512vl");
  add(f.avx512_bf16, "avx512_bf16");
  add(f.amx_tile, "amx_tile");
  add(f.amx_bf16, "amx_bf16");
  return s.empty() ? "none" : s;
}

int core_tier(const std::string& core) {
  // OpenBLAS 0.3.x x86-64 core names (driver/others/dynamic.c) by the instructions their GEMM
  // kernels use (kernel/x86_64/KERNEL.<CORE>).
  static const struct { const char* name; int tier; } kTiers[] = {
      {"Katmai", 1}, {"Coppermine", 1}, {"Northwood", 1}, {"Prescott", 1}, {"Banias", 1},
      {"Atom", 1}, {"Core2", 1}, {"Penryn", 1}, {"Dunnington", 1}, {"Nehalem", 1},
      {"Athlon", 1}, {"Opteron", 1}, {"Opteron_SSE3", 1}, {"Barcelona", 1}, {"Nano", 1},
      {"Bobcat", 1}, {"Sandybridge", 2}, {"Bulldozer", 2}, {"Piledriver", 2},
      {"Steamroller", 2}, {"Haswell", 3}, {"Excavator", 3}, {"Zen", 3}, {"SkylakeX", 4},
      {"Cooperlake", 5}, {"SapphireRapids", 6}};
  for (const auto& t : kTiers)
    if (iequal(core, t.name)) return t.tier;
  return -1;
}

std::string best_core(const CpuFeatures& f, const std::vector<std::string>& available) {
  for (const Family& fam : kFamilies) {
    bool have = false;
    for (const std::string& a : available) have = have || iequal(a, fam.name);
    if (have && fam.supported(f)) return fam.name;
  }
  return "";
}

CoreDecision decide_openblas_core(const CpuFeatures& f, const std::string& chosen, bool user_set,
                                  const std::vector<std::string>& available) {
  CoreDecision d;
  if (user_set) {
    d.reason = "OPENBLAS_CORETYPE is set: the user's choice stands";
    return d;
  }
  const int tier = core_tier(chosen);
  if (tier < 0) {
    d.reason = "OpenBLAS core '" + chosen + "' is not one we rank: left as it is";
    return d;
  }
  const std::string best = best_core(f, available);
  if (best.empty() || core_tier(best) <= tier) {
    d.reason = "OpenBLAS's choice is the fastest family this CPU and library offer";
    return d;
  }
  d.change = true;
  d.target = best;
  d.reason = "OpenBLAS picked " + chosen + " but the CPU runs " + best +
             " kernels (set OPENBLAS_CORETYPE to choose yourself)";
  return d;
}

std::string openblas_core_now() {
  auto corename = symbol<char* (*)()>("openblas_get_corename");
  if (!corename) return "";
  const char* name = corename();
  return name ? name : "";
}

std::vector<std::string> openblas_available_cores() {
  std::vector<std::string> out;
  for (const Family& fam : kFamilies)
    if (dlsym(RTLD_DEFAULT, fam.symbol)) out.push_back(fam.name);
  return out;
}

std::string switch_openblas_core(const std::string& core) {
  auto quit = symbol<void (*)()>("gotoblas_dynamic_quit");
  auto init = symbol<void (*)()>("gotoblas_dynamic_init");
  if (!quit || !init) return "";
  // gotoblas_dynamic_init reads OPENBLAS_CORETYPE (force_coretype) as it does at load time.
  const char* old = std::getenv("OPENBLAS_CORETYPE");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  quit();
  init();
  if (saved) setenv("OPENBLAS_CORETYPE", saved->c_str(), 1);
  else unsetenv("OPENBLAS_CORETYPE");
  return openblas_core_now();
}

const BlasKernel& blas_kernel() {
  static const BlasKernel k = run_check();
  return k;
}

std::string blas_kernel_line() {
  const BlasKernel& k = blas_kernel();
  if (!k.openblas) return "not OpenBLAS (no openblas_get_corename): left to the BLAS itself";
  std::string s = "OpenBLAS " + k.core + " (chosen by " + k.chosen_by;
  if (k.chosen_by == "reasonscope") s += "; OpenBLAS had picked " + k.openblas_choice;
  if (!k.simulated.empty()) s += "; simulated host choice " + k.simulated;
  return s + "; CPU " + k.cpu + ")";
}

}  // namespace rs::blas

// Runs before main in every binary that links rs_core (rs_core's link options name this symbol,
// so the linker always pulls this file in). Shared-library constructors, OpenBLAS's among them,
// have run by then (the ELF loader initialises dependencies first).
extern "C" __attribute__((constructor)) void rs_blas_startup_check() { rs::blas::blas_kernel(); }
