// Prefill and decode throughput of our forward pass against llama.cpp on the same GGUF file, the
// same number of threads, in one run (issue 3, acceptance 5: "prefill and decode tokens/s
// against llama.cpp ... as a ratio").
//
//   build-x/bench_vs_llamacpp [--model M.gguf] [--threads 2] [--repeats 3]
//                             [--python PY (default $RS_PYTHON or python3)] [--no-llamacpp] [--json]
//
// What is measured (the same work on both sides; tools/bench_llamacpp.py does llama.cpp's part):
//   prefill 1x512  one 512-token sequence, one forward, logits for the last position only
//   prefill 8x256  eight 256-token sequences as one batch (ours: one [8, 256] forward; llama.cpp:
//                  one llama_decode with 8 sequence ids), last-position logits per sequence
//   decode         16-token prompt, then 128 single-token steps with the KV cache
// Tokens are real text (tests/golden/reference/long_text.txt, repeated). Each figure is the best
// of --repeats after a warm-up. Ours runs in f32 (weights dequantised on load); llama.cpp runs
// the Q4_1 weights with its quantised kernels, so decode (memory-bound: all weights are read
// once per token) favours llama.cpp by about the ratio of bytes read (f32 vs ~4.5 bits).
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

#include "core/error.h"
#include "core/paths.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string repo_root() {
  std::string f = __FILE__;  // <repo>/bench/bench_vs_llamacpp.cpp
  for (int i = 0; i < 2; ++i) f = f.substr(0, f.find_last_of('/'));
  return f;
}

double best_of(int repeats, const std::function<double()>& run) {
  run();  // warm-up (allocator, OpenMP pool, page faults)
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) best = std::min(best, run());
  return best;
}

struct Args {
  std::string model;
  int threads = 2;
  int repeats = 3;
  int decode_steps = 128;
  std::string python;
  bool llamacpp = true;
  bool json = false;
};

Args parse(int argc, char** argv) {
  Args a;
  const char* py = std::getenv("RS_PYTHON");
  a.python = py ? py : "python3";  // needs llama-cpp-python installed
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) rs::fail(s, ": missing value");
      return argv[++i];
    };
    if (s == "--model") a.model = next();
    else if (s == "--threads") a.threads = std::stoi(next());
    else if (s == "--repeats") a.repeats = std::stoi(next());
    else if (s == "--decode-steps") a.decode_steps = std::stoi(next());
    else if (s == "--python") a.python = next();
    else if (s == "--no-llamacpp") a.llamacpp = false;
    else if (s == "--json") a.json = true;
    else if (s == "--help" || s == "-h") {
      std::printf("usage: bench_vs_llamacpp [--model M.gguf] [--threads 2] [--repeats 3] "
                  "[--decode-steps 128] [--python PY] [--no-llamacpp] [--json]\n");
      std::exit(0);
    } else {
      rs::fail("unknown option ", s, " (try --help)");
    }
  }
  if (a.model.empty()) a.model = rs::default_model_path();
  return a;
}

nlohmann::json run_llamacpp(const Args& a) {
  const std::string cmd = "'" + a.python + "' '" + repo_root() + "/tools/bench_llamacpp.py' --model '" +
                          a.model + "' --threads " + std::to_string(a.threads) + " --repeats " +
                          std::to_string(a.repeats) + " --decode-steps " + std::to_string(a.decode_steps);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) rs::fail("cannot run ", cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) rs::fail("llama.cpp baseline failed (exit ", rc, "): ", cmd);
  return nlohmann::json::parse(out.substr(out.find('{')));
}

}  // namespace

int main(int argc, char** argv) try {
  Args a = parse(argc, argv);
  rs::set_threads(a.threads);
  rs::Model m = rs::load_model(a.model);
  auto tok = rs::tok::Tokenizer::from_model_path(a.model);
  std::ifstream f(repo_root() + "/tests/golden/reference/long_text.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<int32_t> text = tok->encode(ss.str(), false);
  if (text.empty()) rs::fail("no tokens in long_text.txt");
  std::vector<int64_t> toks;
  while (toks.size() < 2048) toks.insert(toks.end(), text.begin(), text.end());
  toks.resize(2048);

  at::NoGradGuard no_grad;
  auto seconds = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  rs::ForwardOptions last;
  last.logits = rs::LogitsMode::Last;

  // prefill 1 x 512
  at::Tensor t512 = at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 512), at::kLong).view({1, 512});
  const double s512 = best_of(a.repeats, [&] {
    auto t0 = Clock::now();
    rs::forward(m, t512, at::Tensor(), last);
    return seconds(t0);
  });
  // prefill 8 x 256 (the same windows as the python baseline: sequence s starts at token 128 s)
  std::vector<int64_t> b8;
  for (int s = 0; s < 8; ++s) b8.insert(b8.end(), toks.begin() + s * 128, toks.begin() + s * 128 + 256);
  at::Tensor t8 = at::tensor(b8, at::kLong).view({8, 256});
  const double s8 = best_of(a.repeats, [&] {
    auto t0 = Clock::now();
    rs::forward(m, t8, at::Tensor(), last);
    return seconds(t0);
  });
  // decode: 16-token prompt, then single-token steps with the cache
  const double sdec = best_of(a.repeats, [&] {
    rs::KVCache cache;
    rs::ForwardOptions o = last;
    o.cache = &cache;
    rs::forward(m, at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 16), at::kLong).view({1, 16}),
                at::Tensor(), o);
    auto t0 = Clock::now();
    for (int i = 0; i < a.decode_steps; ++i)
      rs::forward(m, at::full({1, 1}, toks[16 + i], at::kLong), at::Tensor(), o);
    return seconds(t0);
  });
  nlohmann::json ours = {{"prefill_1x512_tok_s", 512 / s512},
                         {"prefill_8x256_tok_s", 2048 / s8},
                         {"decode_tok_s", a.decode_steps / sdec}};
  nlohmann::json res = {{"model", a.model}, {"threads", a.threads}, {"dtype", "f32"},
                        {"repeats", a.repeats}, {"ours", ours}};
  if (a.llamacpp) {
    nlohmann::json ll = run_llamacpp(a);
    res["llamacpp"] = ll;
    nlohmann::json ratio;
    for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s"})
      if (ll.contains(k)) ratio[k] = ours[k].get<double>() / ll[k].get<double>();
    res["ratio_ours_over_llamacpp"] = ratio;
  }
  if (a.json) {
    std::printf("%s\n", res.dump(2).c_str());
    return 0;
  }
  std::printf("model %s, %d threads, ours f32, best of %d\n", a.model.c_str(), a.threads, a.repeats);
  std::printf("%-16s %12s %12s %8s\n", "", "ours tok/s", "llama.cpp", "ratio");
  for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s"}) {
    std::string name = std::string(k).substr(0, std::string(k).size() - 6);
    if (res.contains("llamacpp") && res["llamacpp"].contains(k))
      std::printf("%-16s %12.1f %12.1f %7.2fx\n", name.c_str(), ours[k].get<double>(),
                  res["llamacpp"][k].get<double>(), res["ratio_ours_over_llamacpp"][k].get<double>());
    else
      std::printf("%-16s %12.1f %12s %8s\n", name.c_str(), ours[k].get<double>(), "-", "-");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
