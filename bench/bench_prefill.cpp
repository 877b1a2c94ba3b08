// Prefill of 512 tokens in f32 and bf16 against llama.cpp's pp512 on the same GGUF file, with the
// model FLOP utilisation of each against the GEMM of its dtype measured in the same round
// (issue 7, acceptance 3).
//
//   bench_prefill [--model M.gguf] [--threads 2] [--rounds 5] [--python PY] [--no-llamacpp] [--json]
//
// Ours: one [1, 512] forward, last-position logits (the work of llama-bench's pp512), weights
// dequantised on load to f32 or bf16. llama.cpp: tools/bench_llamacpp.py --only prefill_1x512
// (llama-cpp-python, its own Q4_1 kernels), run before and after ours; the better of the two is
// the baseline. Each round measures the f32 GEMM probe, our f32 prefill, the bf16 GEMM probe and
// our bf16 prefill back to back, so a busy neighbour slows a round's ratio less than its figures;
// medians over rounds are reported. MFU = model FLOPs / time / GEMM rate of the same dtype; model
// FLOPs count 2 x non-embedding weights per token, QK^T and PV over the causal half and one
// unembedding row (bench_forward.cpp counts the same way).
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_command.h"
#include "core/blas_kernel.h"
#include "core/error.h"
#include "core/paths.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string repo_root() { return RS_SOURCE_DIR; }  // bench/CMakeLists.txt

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double model_flops(const rs::ModelConfig& c, int64_t T, int64_t logit_positions) {
  const double D = c.d_model, Hd = c.n_head * c.d_head, KVd = c.n_head_kv * c.d_head, F = c.d_ff;
  const double linear = D * Hd + 2 * D * KVd + Hd * D + 3 * D * F;  // weights per layer
  const double attn_pairs = static_cast<double>(T) * (T + 1) / 2;   // causal (q, k) pairs
  return c.n_layer * (2 * linear * T + 2 * 2 * attn_pairs * Hd) +
         2.0 * c.n_vocab * D * static_cast<double>(logit_positions);
}

struct Args {
  std::string model, python;
  int threads = 2, rounds = 5;
  bool llamacpp = true, json = false;
};

Args parse(int argc, char** argv) {
  Args a;
  const char* py = std::getenv("RS_PYTHON");
  a.python = py ? py : "python3";
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) rs::fail(s, ": missing value");
      return argv[++i];
    };
    if (s == "--model") a.model = next();
    else if (s == "--threads") a.threads = std::stoi(next());
    else if (s == "--rounds") a.rounds = std::max(1, std::stoi(next()));
    else if (s == "--python") a.python = next();
    else if (s == "--no-llamacpp") a.llamacpp = false;
    else if (s == "--json") a.json = true;
    else if (s == "--help" || s == "-h") {
      std::printf("usage: bench_prefill [--model M.gguf] [--threads 2] [--rounds 5] [--python PY] "
                  "[--no-llamacpp] [--json]\n");
      std::exit(0);
    } else {
      rs::fail("unknown option ", s, " (try --help)");
    }
  }
  if (a.model.empty()) a.model = rs::default_model_path();
  return a;
}

// llama.cpp's pp512 (tokens/s) from tools/bench_llamacpp.py.
nlohmann::json llamacpp_pp512(const Args& a) {
  const std::string cmd = "'" + a.python + "' '" + repo_root() + "/tools/bench_llamacpp.py' --model '" +
                          a.model + "' --threads " + std::to_string(a.threads) + " --repeats " +
                          std::to_string(std::max(3, a.rounds)) + " --only prefill_1x512";
  int rc = 0;
  std::optional<nlohmann::json> r = rs::bench::run_json_command(cmd, &rc);
  if (!r) rs::fail("llama.cpp baseline failed (exit ", rc, "): ", cmd);
  return *r;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  rs::set_threads(a.threads);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  at::NoGradGuard no_grad;

  auto tok = rs::tok::Tokenizer::from_model_path(a.model);
  std::ifstream f(repo_root() + "/tests/golden/reference/long_text.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::vector<int32_t> text = tok->encode(ss.str(), false);
  if (text.empty()) rs::fail("no tokens in long_text.txt");
  std::vector<int64_t> ids;
  while (ids.size() < 512) ids.insert(ids.end(), text.begin(), text.end());
  ids.resize(512);
  const at::Tensor tokens = at::tensor(ids, at::kLong).view({1, 512});

  nlohmann::json ll_before, ll_after;
  if (a.llamacpp) ll_before = llamacpp_pp512(a);

  const rs::Model m32 = rs::load_model(a.model, {at::kCPU, at::kFloat});
  const rs::Model m16 = rs::load_model(a.model, {at::kCPU, at::kBFloat16});
  const rs::ModelConfig& c = m32.config;
  const double flops = model_flops(c, 512, 1);

  // GEMM probe: [512 x 576] x [576 x 1536], the prefill's MLP up-projection shape.
  const at::Tensor x32 = at::randn({512, 576}), w32 = at::randn({1536, 576});
  const at::Tensor x16 = x32.to(at::kBFloat16), w16 = w32.to(at::kBFloat16);
  at::Tensor sink;
  auto gemm_rate = [&](const at::Tensor& x, const at::Tensor& w) {
    sink = at::matmul(x, w.t());  // warm
    const auto t0 = Clock::now();
    for (int i = 0; i < 10; ++i) sink = at::matmul(x, w.t());
    return 10 * 2.0 * 512 * 576 * 1536 / seconds_since(t0) / 1e9;
  };
  rs::ForwardOptions last;
  last.logits = rs::LogitsMode::Last;
  auto prefill = [&](const rs::Model& m) {
    const auto t0 = Clock::now();
    sink = rs::forward(m, tokens, at::Tensor(), last);
    return seconds_since(t0);
  };
  prefill(m32);  // warm-up: allocator, OpenMP pool, oneDNN primitives
  prefill(m16);

  std::vector<double> g32, g16, tok32, tok16, mfu32, mfu16;
  for (int r = 0; r < a.rounds; ++r) {
    const double ga = gemm_rate(x32, w32), t32 = prefill(m32);
    const double gb = gemm_rate(x16, w16), t16 = prefill(m16);
    g32.push_back(ga);
    g16.push_back(gb);
    tok32.push_back(512 / t32);
    tok16.push_back(512 / t16);
    mfu32.push_back(flops / t32 / 1e9 / ga);
    mfu16.push_back(flops / t16 / 1e9 / gb);
  }
  if (a.llamacpp) ll_after = llamacpp_pp512(a);

  nlohmann::json res = {
      {"model", a.model}, {"threads", a.threads}, {"rounds", a.rounds},
      {"blas", rs::blas::blas_kernel_line()}, {"model_gflop_per_pp512", flops / 1e9},
      {"f32", {{"gemm_gflops", median(g32)}, {"prefill_tok_s", median(tok32)}, {"mfu", median(mfu32)}}},
      {"bf16", {{"gemm_gflops", median(g16)}, {"prefill_tok_s", median(tok16)}, {"mfu", median(mfu16)}}}};
  if (a.llamacpp) {
    const double pp = std::max(ll_before["prefill_1x512_tok_s"].get<double>(),
                               ll_after["prefill_1x512_tok_s"].get<double>());
    res["llamacpp"] = {{"version", ll_before.value("version", "?")},
                       {"pp512_tok_s", pp},
                       {"pp512_before_after", {ll_before["prefill_1x512_tok_s"], ll_after["prefill_1x512_tok_s"]}},
                       {"mfu_vs_f32_gemm", flops * pp / 512 / 1e9 / median(g32)}};
    res["ratio_f32"] = median(tok32) / pp;
    res["ratio_bf16"] = median(tok16) / pp;
  }
  if (a.json) {
    std::printf("%s\n", res.dump(2).c_str());
    return 0;
  }
  std::printf("model %s, %d threads, %d rounds (medians); BLAS %s\n", a.model.c_str(), a.threads,
              a.rounds, res["blas"].get<std::string>().c_str());
  std::printf("%-22s %10s %10s %8s %10s\n", "pp512", "tok/s", "gemm GF/s", "MFU", "vs llama");
  for (const char* d : {"f32", "bf16"}) {
    const auto& r = res[d];
    std::printf("%-22s %10.1f %10.1f %7.1f%% %10s\n", (std::string("ours ") + d).c_str(),
                r["prefill_tok_s"].get<double>(), r["gemm_gflops"].get<double>(),
                100 * r["mfu"].get<double>(),
                a.llamacpp ? (std::to_string(res[std::string("ratio_") + d].get<double>()).substr(0, 5) + "x").c_str() : "-");
  }
  if (a.llamacpp)
    std::printf("%-22s %10.1f %10s %7.1f%% (of the f32 gemm)   before/after ours: %.1f / %.1f\n",
                ("llama.cpp " + res["llamacpp"]["version"].get<std::string>()).c_str(),
                res["llamacpp"]["pp512_tok_s"].get<double>(), "-",
                100 * res["llamacpp"]["mfu_vs_f32_gemm"].get<double>(),
                ll_before["prefill_1x512_tok_s"].get<double>(), ll_after["prefill_1x512_tok_s"].get<double>());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
