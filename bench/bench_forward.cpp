// Prefill throughput, model FLOP utilisation and hook overheads (issue 3, acceptance 5).
//   bench_forward [MODEL] [--threads N] [--dtype f32|bf16] [--reps N]
// Everything is measured in one run so the ratios are comparable: an sgemm of the model's MLP
// shape gives the machine's attainable GFLOP/s; each forward is timed as the median of --reps runs
// after one warm-up. Model FLOPs count the useful work: 2 * (non-embedding weights) per token,
// attention's QK^T and PV over the causal half, and the unembedding for the positions whose
// logits are returned.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "core/blas_kernel.h"
#include "core/paths.h"
#include "hooks/hooks.h"
#include "model/model.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double median_time(int reps, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now();
    f();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double model_flops(const rs::ModelConfig& c, int64_t B, int64_t T, int64_t logit_positions) {
  const double D = c.d_model, Hd = c.n_head * c.d_head, KVd = c.n_head_kv * c.d_head, F = c.d_ff;
  const double linear = D * Hd + 2 * D * KVd + Hd * D + 3 * D * F;         // weights per layer
  const double attn_pairs = static_cast<double>(T) * (T + 1) / 2;          // causal (q, k) pairs
  const double per_seq = c.n_layer * (2 * linear * T + 2 * 2 * attn_pairs * Hd) +
                         2.0 * c.n_vocab * D * static_cast<double>(logit_positions);
  return per_seq * static_cast<double>(B);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = rs::default_model_path();
  int threads = 2, reps = 5;
  at::ScalarType dtype = at::kFloat;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) dtype = std::string(argv[++i]) == "bf16" ? at::kBFloat16 : at::kFloat;
    else path = argv[i];
  }
  rs::set_threads(threads);
  at::NoGradGuard no_grad;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when piped

  // Attainable GEMM rate on this machine, now: [2048 x 576] x [576 x 1536] (the MLP's shape).
  const at::Tensor a = at::randn({2048, 576}).to(dtype), w = at::randn({1536, 576}).to(dtype);
  at::Tensor sink;
  const double t_gemm = median_time(reps * 2, [&] { sink = at::matmul(a, w.t()); });
  const double gemm_gflops = 2.0 * 2048 * 576 * 1536 / t_gemm / 1e9;

  const double t_load0 = now();
  rs::Model m = rs::load_model(path, {at::kCPU, dtype});
  const double t_load = now() - t_load0;
  const rs::ModelConfig& c = m.config;
  std::printf("model %s (%s), threads %d, dtype %s, load %.3f s\n", path.c_str(), c.summary().c_str(),
              at::get_num_threads(), dtype == at::kFloat ? "f32" : "bf16", t_load);
  std::printf("blas %s\n", rs::blas::blas_kernel_line().c_str());
  std::printf("gemm 2048x576x1536: %.1f GFLOP/s\n\n", gemm_gflops);

  // The machine may be shared: every ratio is taken within one round (GEMM probe, plain forward,
  // hooked forwards back to back) and the median over rounds is reported.
  auto gemm_rate = [&] {
    const double t0 = now();
    for (int i = 0; i < 3; ++i) sink = at::matmul(a, w.t());
    return 3 * 2.0 * 2048 * 576 * 1536 / (now() - t0) / 1e9;
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  struct Shape { int64_t B, T; };
  for (const Shape sh : {Shape{8, 256}, Shape{1, 512}}) {
    const at::Tensor tokens = at::randint(0, c.n_vocab, {sh.B, sh.T}, at::kLong);
    const double ntok = static_cast<double>(sh.B * sh.T);
    auto timed = [&](rs::LogitsMode mode, rs::Hooks* h) {
      rs::ForwardOptions o;
      o.logits = mode;
      o.hooks = h;
      if (h) h->clear_captures();
      const double t0 = now();
      sink = rs::forward(m, tokens, {}, o);
      return now() - t0;
    };
    rs::Hooks h_resid(c), h_pattern(c);
    h_resid.capture("blocks.*.hook_resid_post");
    h_pattern.capture("blocks.*.attn.hook_pattern");
    timed(rs::LogitsMode::Last, nullptr);  // warm-up
    std::vector<double> tok_last, tok_all, mfu_last, mfu_all, over_resid, over_pattern, gemms;
    double rss_plain = 0, rss_resid = 0, rss_pattern = 0, mib_resid = 0, mib_pattern = 0;
    const double f_last = model_flops(c, sh.B, sh.T, 1), f_all = model_flops(c, sh.B, sh.T, sh.T);
    for (int r = 0; r < reps; ++r) {
      const double g = gemm_rate();
      const double t_last = timed(rs::LogitsMode::Last, nullptr);
      rss_plain = std::max(rss_plain, peak_rss_mib());
      const double t_all = timed(rs::LogitsMode::All, nullptr);
      const double t_resid = timed(rs::LogitsMode::Last, &h_resid);
      rss_resid = std::max(rss_resid, peak_rss_mib());
      const double t_last2 = timed(rs::LogitsMode::Last, nullptr);
      const double t_pattern = timed(rs::LogitsMode::Last, &h_pattern);
      rss_pattern = std::max(rss_pattern, peak_rss_mib());
      const double g2 = gemm_rate();
      const double gm = 0.5 * (g + g2);
      gemms.push_back(gm);
      tok_last.push_back(ntok / t_last);
      tok_all.push_back(ntok / t_all);
      mfu_last.push_back(f_last / t_last / 1e9 / gm);
      mfu_all.push_back(f_all / t_all / 1e9 / gm);
      over_resid.push_back(t_resid / t_last - 1);
      over_pattern.push_back(t_pattern / t_last2 - 1);
    }
    for (const auto& [n, calls] : h_resid.captures()) mib_resid += calls.back().numel() * calls.back().element_size() / 1048576.0;
    for (const auto& [n, calls] : h_pattern.captures()) mib_pattern += calls.back().numel() * calls.back().element_size() / 1048576.0;
    std::printf("prefill %ld x %ld (medians of %d rounds; gemm %.1f GFLOP/s)\n", static_cast<long>(sh.B),
                static_cast<long>(sh.T), reps, median(gemms));
    std::printf("  no hooks, last logits : %8.1f tok/s  MFU %5.1f%% of gemm (target >= 60%%)  peak RSS %.0f MiB\n",
                median(tok_last), 100 * median(mfu_last), rss_plain);
    std::printf("  no hooks, all logits  : %8.1f tok/s  MFU %5.1f%%\n", median(tok_all), 100 * median(mfu_all));
    std::printf("  capture every hook_resid_post, all positions: overhead %+5.1f%% (target <= 10%%)  captured %.0f MiB  peak RSS %.0f MiB\n",
                100 * median(over_resid), mib_resid, rss_resid);
    std::printf("  capture every hook_pattern, all positions   : overhead %+5.1f%% (target <= 35%%)  captured %.0f MiB  peak RSS %.0f MiB\n",
                100 * median(over_pattern), mib_pattern, rss_pattern);
  }
  // Decode: one token at a time after a 128-token prompt (memory-bound: f32 weights are read
  // in full per token).
  {
    const at::Tensor prompt = at::randint(0, c.n_vocab, {1, 128}, at::kLong);
    rs::KVCache cache;
    rs::ForwardOptions o;
    o.cache = &cache;
    o.logits = rs::LogitsMode::Last;
    rs::forward(m, prompt, {}, o);
    const int steps = 64;
    const double t0 = now();
    at::Tensor tok = at::full({1, 1}, 42, at::kLong);
    for (int i = 0; i < steps; ++i) tok = rs::forward(m, tok, {}, o).argmax(-1);
    std::printf("\ndecode 1 x %d after 128: %.1f tok/s\n", steps, steps / (now() - t0));
  }
  return 0;
}
