// Benchmark of `cluster train` (issue 12, acceptance 5): training steps per second of the
// default configuration (6 layers, d_model 128, 4 heads, batch 64) with the forward / backward /
// optimizer split, the cost of one evaluation (forward of 2 x 512 rows + 14 k-means), and the
// projected time of the default run; --full runs the default run itself and times it.
// Baseline measured in the same run: an f32 GEMM of the model's widest training shape
// ([B*T, d] x [d, 3d]); the training step's useful FLOP rate is printed against it.
// Run: build/release/bench/bench_cluster [--threads 2] [--steps 100] [--full]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "methods/cluster/trainer.h"
#include "model/model.h"

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  int64_t steps = 100;
  bool full = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc) steps = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--full") == 0) full = true;
  }
  rs::set_threads(threads);
  const rs::cluster::TrainConfig def;
  const rs::ModelConfig mc = rs::cluster::task_model_config(def);
  std::printf("bench_cluster: %d threads; default run: %lld steps, batch %lld, %lld layers, d_model %lld, d_ff %lld\n",
              at::get_num_threads(), (long long)def.steps, (long long)def.batch, (long long)mc.n_layer,
              (long long)mc.d_model, (long long)mc.d_ff);

  // Baseline: sgemm [B*T, d] x [d, 3d] with T ~ 9 tokens per prompt.
  const int64_t rows = def.batch * 9, d = mc.d_model;
  at::Tensor a = at::randn({rows, d}), b = at::randn({d, 3 * d});
  double best = 1e300;
  for (int r = 0; r < 200; ++r) {
    auto t0 = Clock::now();
    at::Tensor c = at::matmul(a, b);
    best = std::min(best, since(t0));
  }
  const double gemm_gflops = 2.0 * rows * d * 3 * d / best / 1e9;
  std::printf("baseline sgemm %lldx%lldx%lld: %.1f GFLOP/s\n", (long long)rows, (long long)d, (long long)(3 * d), gemm_gflops);

  const std::string dir = std::filesystem::temp_directory_path().string() + "/rs_bench_cluster_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  rs::cluster::TrainConfig c = def;
  c.steps = steps;
  c.eval_every = steps;  // evaluations at step 0 and the last step only
  const auto t0 = Clock::now();
  const rs::cluster::TrainResult r = rs::cluster::train_task_model(c, dir, false);
  const double wall = since(t0);
  const auto& t = r.timing;
  const double step_s = (t.forward_s + t.backward_s + t.optimizer_s) / t.steps_run;
  const double eval_s = t.eval_s / 2;
  // Useful FLOPs of a step: 6 x (non-embedding params + the output projection) x tokens.
  const double tokens = def.batch * 9.0;
  const double flops = 6.0 * (r.n_params - mc.n_vocab * mc.d_model) * tokens;
  std::printf("training step: %.2f steps/s (%.1f ms: forward %.1f ms %.0f%%, backward %.1f ms %.0f%%, "
              "AdamW %.1f ms %.0f%%); ~%.1f GFLOP/s useful = %.2fx the baseline sgemm\n",
              1.0 / step_s, 1e3 * step_s, 1e3 * t.forward_s / t.steps_run, 100 * t.forward_s / (step_s * t.steps_run),
              1e3 * t.backward_s / t.steps_run, 100 * t.backward_s / (step_s * t.steps_run),
              1e3 * t.optimizer_s / t.steps_run, 100 * t.optimizer_s / (step_s * t.steps_run),
              flops / step_s / 1e9, flops / step_s / 1e9 / gemm_gflops);
  const int64_t n_evals = def.steps / def.eval_every + 1;
  const double setup_s = wall - t.total_s + (t.total_s - t.forward_s - t.backward_s - t.optimizer_s - t.eval_s - t.checkpoint_s);
  std::printf("evaluation (2 x %lld rows, %lld layers, k-means x10 restarts): %.2f s; checkpoint %.3f s\n",
              (long long)def.eval_rows, (long long)(mc.n_layer + 1), eval_s, t.checkpoint_s / 2);
  std::printf("projected default run: %lld steps x %.1f ms + %lld evaluations x %.2f s + setup %.1f s = %.0f s\n",
              (long long)def.steps, 1e3 * step_s, (long long)n_evals, eval_s, setup_s,
              def.steps * step_s + n_evals * (eval_s + t.checkpoint_s / 2) + setup_s);
  std::filesystem::remove_all(dir);
  if (full) {
    const auto t1 = Clock::now();
    const rs::cluster::TrainResult f = rs::cluster::train_task_model(def, dir, false);
    std::printf("default run: %.0f s, val accuracy %.3f, final val ARI (last layer) %.3f\n", since(t1),
                f.val_accuracy, f.ari_by_layer.back());
    std::filesystem::remove_all(dir);
  }
  return 0;
}
