// verify spectral's cost on a labelled set (issue 8, acceptance 5): forward pass vs spectral
// maths, in one run, and the peak RSS of the whole process.
//   bench_spectral [DATA.jsonl] [--model PATH] [--threads N] [--limit N] [--max-tokens N]
// Default data: ../shared/benchmarks/minif2f-lean/dev.jsonl (field "text"), run from the repo root.
// Each text goes through methods/spectral/runner.h exactly as the command runs it (one forward
// with the pattern -> W hooks on every layer and full logits for the log-prob baseline, then the
// full-spectrum maths on all layers in the command's default precision, f32). As the baseline
// measured in the same run, a plain forward of the same tokens with no hooks (full logits) is timed
// on every 10th text, so the hooks' own overhead is visible. Also the maths in f64 on those texts
// (`--maths-dtype f64`) to show what precision costs.
#include <sys/resource.h>

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/paths.h"
#include "data/jsonl.h"
#include "methods/spectral/runner.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}
}  // namespace

int main(int argc, char** argv) {
  std::string data = "../shared/benchmarks/minif2f-lean/dev.jsonl";
  std::string model = rs::default_model_path();
  int threads = 1;
  int64_t limit = 0, max_tokens = 512;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model") model = next();
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--limit") limit = std::stoll(next());
    else if (a == "--max-tokens") max_tokens = std::stoll(next());
    else if (a.rfind("--", 0) == 0) { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
    else data = a;
  }
  try {
    rs::set_threads(threads);
    const double t_load = now();
    rs::Model m = rs::load_model(model);
    auto tk = rs::tok::Tokenizer::from_model_path(model);
    std::printf("model %s loaded in %.2f s; threads %d; data %s\n", model.c_str(), now() - t_load, threads, data.c_str());

    std::vector<std::vector<int64_t>> texts;
    for (const auto& r : rs::data::read_jsonl(data)) {
      const std::vector<int32_t> ids = tk->encode(r.value.at("text").get<std::string>(), true, true);
      texts.emplace_back(ids.begin(), ids.end());
      if (limit > 0 && static_cast<int64_t>(texts.size()) >= limit) break;
    }
    rs::spectral::RunOptions ro;
    ro.max_tokens = max_tokens;
    ro.features.dtype = at::kFloat;  // verify spectral's default --maths-dtype
    double fwd = 0, maths = 0, plain = 0, hooked_sample = 0, maths_sample = 0, maths64 = 0;
    int64_t tokens = 0, truncated = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const rs::spectral::TextResult r = rs::spectral::analyse_tokens(m, texts[i], ro);
      fwd += r.forward_seconds;
      maths += r.maths_seconds;
      tokens += r.n_tokens;
      truncated += r.truncated;
      if (i % 10 == 0) {  // baselines on a sample: an unhooked forward, and the maths in f32
        std::vector<int64_t> ids = texts[i];
        if (static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));
        const double tp = now();
        {
          at::NoGradGuard ng;
          rs::forward(m, at::tensor(ids, at::kLong).view({1, -1}), {});
        }
        plain += now() - tp;
        hooked_sample += r.forward_seconds;
        maths_sample += r.maths_seconds;
        rs::spectral::RunOptions r64 = ro;
        r64.features.dtype = at::kDouble;
        maths64 += rs::spectral::analyse_tokens(m, texts[i], r64).maths_seconds;
      }
    }
    std::printf("%zu texts, %lld tokens analysed (%lld truncated to %lld), %lld layers\n", texts.size(),
                static_cast<long long>(tokens), static_cast<long long>(truncated), static_cast<long long>(max_tokens),
                static_cast<long long>(m.config.n_layer));
    std::printf("forward (hooks -> W, full logits): %8.2f s  %.0f tok/s\n", fwd, tokens / fwd);
    std::printf("spectral maths (f32, all layers):  %8.2f s  = %.1f%% of the forward (target <= 50%%)\n", maths, 100 * maths / fwd);
    std::printf("sampled texts: hooked forward / plain forward = %.3f; maths f64 / f32 = %.3f\n",
                hooked_sample / plain, maths64 / maths_sample);
    std::printf("whole run (forward + maths): %.1f s (target < 300 s); peak RSS %.0f MiB (target < 2048)\n",
                fwd + maths, peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
