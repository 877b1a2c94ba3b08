// Load time and peak resident memory of the default model (issue 2, acceptance 6).
//   bench_load [MODEL] [--dtype f32|bf16] [--repeat N]
// Prints the best and median wall time of load_model over N loads (first load includes the page
// cache warming), and the process's peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "core/paths.h"
#include "model/model.h"

static double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

int main(int argc, char** argv) {
  std::string path = rs::default_model_path();
  at::ScalarType dtype = at::kFloat;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) {
      const std::string d = argv[++i];
      dtype = d == "bf16" ? at::kBFloat16 : d == "f16" ? at::kHalf : at::kFloat;
    } else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      path = argv[i];
    }
  }
  rs::set_threads(0);
  std::vector<double> times;
  double rss_first = 0;
  int64_t params = 0, bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    rs::Model m = rs::load_model(path, {at::kCPU, dtype});
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (r == 0) rss_first = peak_rss_mib();
    params = m.n_params();
    bytes = m.nbytes();
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  std::printf("model            %s\n", path.c_str());
  std::printf("threads          %d (dequantisation uses every core)\n", at::get_num_threads());
  std::printf("parameters       %.1f M, weights %.1f MiB (%s)\n", params / 1e6, bytes / 1048576.0,
              dtype == at::kFloat ? "f32" : dtype == at::kBFloat16 ? "bf16" : "f16");
  std::printf("load time        first %.3f s, best %.3f s, median %.3f s over %d loads (target < 1 s)\n",
              times[0], sorted[0], sorted[sorted.size() / 2], repeat);
  std::printf("peak RSS         %.0f MiB after the first load, %.0f MiB at the end\n", rss_first, peak_rss_mib());
  return 0;
}
