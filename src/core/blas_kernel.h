// Which BLAS kernel the process runs, and the start-up check that keeps it fast.
//
// libtorch does its f32 GEMMs in whatever libblas.so.3 points to; on Debian that is OpenBLAS
// 0.3.21 built with DYNAMIC_ARCH: at load time it picks one kernel family from the CPU's model
// number (driver/others/dynamic.c). On hosts that present a generic "Intel Xeon Processor" it
// knows no model and falls back to its Prescott (SSE3) kernels: sgemm 38-50 GFLOP/s instead of
// ~240 on an AVX-512 CPU. OPENBLAS_CORETYPE=<name> overrides the choice, but only when set before
// the library loads, i.e. before main().
//
// So every reasonscope binary (CLI, tests, benchmarks) runs check_openblas_core() once before
// main (a constructor in blas_kernel.cpp, linked into every binary through rs_core): it compares
// the kernel OpenBLAS chose with the CPU's instruction sets and, if OpenBLAS chose an older
// family than the CPU runs and the user did not set OPENBLAS_CORETYPE, re-runs OpenBLAS's own
// kernel selection (gotoblas_dynamic_quit / gotoblas_dynamic_init, the code its load-time
// constructor runs) with the better family named, exactly as if OPENBLAS_CORETYPE had been set.
// An explicit OPENBLAS_CORETYPE always wins. `reasonscope info` reports the outcome.
//
// The decision is a pure function (decide_openblas_core) so it is tested on any host, Prescott
// or not. RS_BLAS_SIMULATE_CORE=<name> (testing aid) first puts OpenBLAS into that kernel, as a
// host whose model OpenBLAS does not know would, and then runs the normal check.
#pragma once
#include <string>
#include <vector>

namespace rs::blas {

// x86-64 instruction sets that OpenBLAS's kernel families need, as the CPU *and* the OS support
// them (CPUID plus the XCR0 register: the OS must save the wider registers).
struct CpuFeatures {
  bool sse3 = false, avx = false, fma = false, avx2 = false;
  bool avx512f = false, avx512cd = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_bf16 = false, amx_tile = false, amx_bf16 = false;
};

// This CPU's features (all false off x86-64).
CpuFeatures detect_cpu_features();
// "sse3 avx fma avx2 avx512f ... " (the features that are present).
std::string describe(const CpuFeatures& f);

// The instruction-set tier of an OpenBLAS x86-64 core name (case-insensitive), by what its
// kernels use: 1 SSE-era (Prescott, Core2, Nehalem, Atom, Opteron, ...), 2 AVX (Sandybridge,
// Bulldozer, Piledriver, Steamroller), 3 AVX2 + FMA (Haswell, Zen, Excavator), 4 AVX-512
// (SkylakeX), 5 AVX-512 + BF16 (Cooperlake), 6 AMX (SapphireRapids). -1 for a name not known
// here (then nothing is changed).
int core_tier(const std::string& core);

// The fastest core among `available` (OpenBLAS names, e.g. "SkylakeX") whose instructions the
// CPU has; "" if none of the AVX-or-later families applies.
std::string best_core(const CpuFeatures& f, const std::vector<std::string>& available);

struct CoreDecision {
  bool change = false;   // switch OpenBLAS to `target`
  std::string target;    // the core to switch to (empty when not changing)
  std::string reason;    // one line: why changing or not
};

// Whether to replace the core OpenBLAS chose (`chosen`) with a faster one the CPU supports.
// `user_set`: OPENBLAS_CORETYPE is set (the user's choice wins, whatever it is).
CoreDecision decide_openblas_core(const CpuFeatures& f, const std::string& chosen, bool user_set,
                                  const std::vector<std::string>& available);

// What the process runs with (filled by the start-up check).
struct BlasKernel {
  bool openblas = false;      // libtorch's BLAS is OpenBLAS (found by symbol at run time)
  bool dynamic_arch = false;  // OpenBLAS can switch kernels (DYNAMIC_ARCH build)
  std::string config;         // openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
  std::string core;           // the kernel family in use now
  std::string openblas_choice;  // the family OpenBLAS picked by itself (or was told to)
  std::string chosen_by;      // "openblas", "OPENBLAS_CORETYPE" (the user) or "reasonscope"
  std::string reason;         // decide_openblas_core's reason
  std::string simulated;      // RS_BLAS_SIMULATE_CORE, when that testing aid was used
  std::string cpu;            // describe(detect_cpu_features())
};

// The start-up check (runs once before main; later calls return the recorded result).
const BlasKernel& blas_kernel();

// One line for `info`, logs and benchmarks: "OpenBLAS SkylakeX (chosen by reasonscope: ...)".
std::string blas_kernel_line();

// Re-runs OpenBLAS's kernel selection with `core` named (as OPENBLAS_CORETYPE=core would at load)
// and returns the core now in use; "" if this BLAS cannot switch. The environment is left as it
// was. For the start-up check and for tests.
std::string switch_openblas_core(const std::string& core);
// The core OpenBLAS runs now ("" if the BLAS is not OpenBLAS).
std::string openblas_core_now();
// OpenBLAS cores this library has (x86-64 DYNAMIC_ARCH builds), from its exported kernel tables.
std::vector<std::string> openblas_available_cores();

}  // namespace rs::blas
