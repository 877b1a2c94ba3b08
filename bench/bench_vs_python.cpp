// reasonscope against the Python stack people use today, on the same GGUF file, the same token
// ids and the same captures, in one run (issue 7, acceptance 5).
//
//   bench_vs_python [--model M.gguf] [--threads 2] [--batch 4] [--positions 256] [--repeats 3]
//                   [--python PY (default $RS_PYTHON or python3)] [--json]
//
// The work: one forward over [batch, positions] real-text tokens (tests/golden/reference/
// long_text.txt; row s starts at token 128 s), logits at every position, capturing the residual
// stream after every block (blocks.*.hook_resid_post) and every attention pattern
// (blocks.*.attn.hook_pattern) at every position, all f32 with weights dequantised from the GGUF.
// The Python side (tools/bench_python_stack.py, one process per framework so peak RSS is its own):
// transformers with output_hidden_states + output_attentions, and TransformerLens run_with_cache
// with the same names, when it is installed. Times are the best of --repeats after a warm-up;
// peak RSS is the process's (getrusage), also given above the RSS before the model was loaded.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "json_command.h"
#include "core/blas_kernel.h"
#include "core/error.h"
#include "core/paths.h"
#include "hooks/hooks.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t peak_rss() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
}

int64_t rss_now() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

struct Args {
  std::string model, python;
  int threads = 2, batch = 4, positions = 256, repeats = 3;
  bool json = false;
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
    else if (s == "--batch") a.batch = std::stoi(next());
    else if (s == "--positions") a.positions = std::stoi(next());
    else if (s == "--repeats") a.repeats = std::max(1, std::stoi(next()));
    else if (s == "--python") a.python = next();
    else if (s == "--json") a.json = true;
    else if (s == "--help" || s == "-h") {
      std::printf("usage: bench_vs_python [--model M.gguf] [--threads 2] [--batch 4] [--positions 256] "
                  "[--repeats 3] [--python PY] [--json]\n");
      std::exit(0);
    } else {
      rs::fail("unknown option ", s, " (try --help)");
    }
  }
  if (a.model.empty()) a.model = rs::default_model_path();
  return a;
}

// One framework's figures from tools/bench_python_stack.py, or {"error": ...}.
nlohmann::json run_python(const Args& a, const std::string& framework, const std::string& tokens_path) {
  const std::string cmd = "'" + a.python + "' '" + std::string(RS_SOURCE_DIR) +
                          "/tools/bench_python_stack.py' --framework " + framework + " --model '" +
                          a.model + "' --tokens '" + tokens_path + "' --threads " +
                          std::to_string(a.threads) + " --repeats " + std::to_string(a.repeats);
  int rc = 0;
  std::optional<nlohmann::json> r = rs::bench::run_json_command(cmd, &rc);
  if (!r) return {{"error", framework + " failed (exit " + std::to_string(rc) + "); run: " + cmd}};
  return *r;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  rs::set_threads(a.threads);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  at::NoGradGuard no_grad;

  // The token ids both sides use.
  auto tok = rs::tok::Tokenizer::from_model_path(a.model);
  std::ifstream f(std::string(RS_SOURCE_DIR) + "/tests/golden/reference/long_text.txt");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::vector<int32_t> text = tok->encode(ss.str(), false);
  if (text.empty()) rs::fail("no tokens in long_text.txt");
  std::vector<int64_t> stream;
  const size_t need = static_cast<size_t>(128 * (a.batch - 1) + a.positions);
  while (stream.size() < need) stream.insert(stream.end(), text.begin(), text.end());
  std::vector<int64_t> flat;
  nlohmann::json rows = nlohmann::json::array();
  for (int s = 0; s < a.batch; ++s) {
    std::vector<int64_t> row(stream.begin() + 128 * s, stream.begin() + 128 * s + a.positions);
    flat.insert(flat.end(), row.begin(), row.end());
    rows.push_back(row);
  }
  const std::string tokens_path = "/tmp/rs_bench_vs_python_" + std::to_string(::getpid()) + ".json";
  std::ofstream(tokens_path) << rows.dump();
  const at::Tensor tokens = at::tensor(flat, at::kLong).view({a.batch, a.positions});

  // Ours.
  const int64_t rss_before_load = rss_now();
  auto t0 = Clock::now();
  const rs::Model m = rs::load_model(a.model);
  const double load_s = seconds_since(t0);
  rs::Hooks hooks(m.config);
  hooks.capture("blocks.*.hook_resid_post");
  hooks.capture("blocks.*.attn.hook_pattern");
  rs::ForwardOptions o;
  o.logits = rs::LogitsMode::All;
  o.hooks = &hooks;
  int64_t captured = 0, n_captured = 0;
  // Best of --repeats after a warm-up; run before and after the Python processes (a shared
  // machine's load drifts), the better of the two counts.
  auto time_ours = [&] {
    double best = 1e30;
    for (int r = 0; r <= a.repeats; ++r) {  // r = 0: warm-up
      hooks.clear_captures();
      const auto t1 = Clock::now();
      at::Tensor logits = rs::forward(m, tokens, at::Tensor(), o);
      if (r > 0) best = std::min(best, seconds_since(t1));
      captured = n_captured = 0;
      for (const auto& [name, calls] : hooks.captures()) {
        captured += calls.back().numel() * static_cast<int64_t>(calls.back().element_size());
        ++n_captured;
      }
    }
    hooks.clear_captures();
    return best;
  };
  const double best_before = time_ours();
  double best = best_before;
  nlohmann::json ours = {{"seconds", best}, {"load_seconds", load_s}, {"peak_rss", peak_rss()},
                               {"rss_before_load", rss_before_load}, {"captured_bytes", captured},
                               {"n_captured", n_captured}, {"blas", rs::blas::blas_kernel_line()}};

  nlohmann::json res = {{"model", a.model}, {"threads", a.threads}, {"batch", a.batch},
                        {"positions", a.positions}, {"repeats", a.repeats}};
  for (const char* fw : {"transformers", "transformer_lens"}) res[fw] = run_python(a, fw, tokens_path);
  const double best_after = time_ours();
  best = std::min(best_before, best_after);
  ours["seconds"] = best;
  ours["seconds_before_after"] = {best_before, best_after};
  res["ours"] = ours;
  for (const char* fw : {"transformers", "transformer_lens"}) {
    nlohmann::json& r = res[fw];
    if (!r.contains("error")) {
      r["time_ratio_theirs_over_ours"] = r["seconds"].get<double>() / best;
      r["peak_rss_ratio_theirs_over_ours"] =
          static_cast<double>(r["peak_rss"].get<int64_t>()) / ours["peak_rss"].get<int64_t>();
      r["rss_above_load_ratio_theirs_over_ours"] =
          static_cast<double>(r["peak_rss"].get<int64_t>() - r["rss_before_load"].get<int64_t>()) /
          static_cast<double>(ours["peak_rss"].get<int64_t>() - rss_before_load);
    }
  }
  std::remove(tokens_path.c_str());
  if (a.json) {
    std::printf("%s\n", res.dump(2).c_str());
    return 0;
  }
  const double mib = 1048576.0;
  std::printf("model %s; [%d x %d] tokens, all logits, capturing %lld tensors (%.0f MiB: every "
              "hook_resid_post and hook_pattern); %d threads, best of %d\nours: BLAS %s\n",
              a.model.c_str(), a.batch, a.positions, static_cast<long long>(n_captured), captured / mib,
              a.threads, a.repeats, ours["blas"].get<std::string>().c_str());
  std::printf("%-18s %9s %9s %12s %14s %14s\n", "", "seconds", "x ours", "peak RSS MiB",
              "above load MiB", "peak x ours");
  std::printf("%-18s %9.3f %9s %12.0f %14.0f %14s   (before / after the Python runs: %.3f / %.3f s)\n",
              "reasonscope", best, "1.00",
              ours["peak_rss"].get<int64_t>() / mib,
              (ours["peak_rss"].get<int64_t>() - rss_before_load) / mib, "1.00", best_before, best_after);
  for (const char* fw : {"transformers", "transformer_lens"}) {
    const auto& r = res[fw];
    if (r.contains("error")) {
      std::printf("%-18s not measured: %s\n", fw, r["error"].get<std::string>().c_str());
      continue;
    }
    std::printf("%-18s %9.3f %9.2f %12.0f %14.0f %14.2f   (captured %.0f MiB)\n", fw,
                r["seconds"].get<double>(), r["time_ratio_theirs_over_ours"].get<double>(),
                r["peak_rss"].get<int64_t>() / mib,
                (r["peak_rss"].get<int64_t>() - r["rss_before_load"].get<int64_t>()) / mib,
                r["peak_rss_ratio_theirs_over_ours"].get<double>(), r["captured_bytes"].get<int64_t>() / mib);
  }
  for (const char* fw : {"transformers", "transformer_lens"})
    if (res[fw].contains("versions")) std::printf("%s versions: %s\n", fw, res[fw]["versions"].dump().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
