// Prefill and decode throughput of our forward pass against llama.cpp on the same GGUF file, the
// same number of threads, in one run (issue 3, acceptance 5: "prefill and decode tokens/s
// against llama.cpp ... as a ratio").
//
//   build-x/bench_vs_llamacpp [--model M.gguf] [--threads 2] [--repeats 3]
//                             [--python PY (default $RS_PYTHON or python3)] [--no-llamacpp] [--json]
//                             [--weights dequant|native] [--decode-only]
//                             [--generate-runs 5] [--cli PATH (default: the build's bin/reasonscope)]
//                             [--llama-bench PATH]
// --llama-bench PATH: llama.cpp's baseline from its own llama-bench (`-p 512 -n <decode-steps>
// -r <repeats> --repack 0 -o json`) instead of llama-cpp-python (which dies with SIGILL on CPUs
// whose AMX it cannot use; --repack 0 keeps llama-bench off those repacked AMX kernels too).
// llama-bench's pp512 is a 512-token prompt (prefill 1x512), its tg is decoding from an empty
// context (ours: after a 16-token prompt); it has no 8x256 figure. Issue 23's command:
//   bench_vs_llamacpp --model M.gguf --weights native --threads 2 --generate-runs 5
//       --llama-bench /tmp/llamaserver/build/bin/llama-bench
// --weights native keeps the matrices quantised (model/native.h) and also reports memory: the
// resident set before the model loads, and its peak after decoding (measured before any
// prefill run), against the file size plus the KV cache (issue 7, acceptance 2); and the decode
// loop against the bandwidth roofline: weights read per token against a streaming-read
// measurement with the same threads (stream_read_gbs; issue 23).
//
// What is measured (the same work on both sides; tools/bench_llamacpp.py does llama.cpp's part):
//   prefill 1x512  one 512-token sequence, one forward, logits for the last position only
//   prefill 8x256  eight 256-token sequences as one batch (ours: one [8, 256] forward; llama.cpp:
//                  one llama_decode with 8 sequence ids), last-position logits per sequence
//   decode         16-token prompt, then 128 single-token steps with the KV cache (the loop);
//                  also the median of the repeats (decode_median), which generate is held to
//   generate_in_process  rs::generate() in this process, same 16 tokens, 128 new, greedy: its
//                  gap to the loop is generate()'s per-step work, the command's further gap
//                  is the process's own
//   generate       what a user gets: `reasonscope generate --json` run as a whole command, greedy,
//                  128 new tokens after the same 16 tokens' text, same weights and threads; its
//                  own decode rate (tokens / decode seconds, as it logs) and the command's wall
//                  time, median of --generate-runs (issue 23: the command, not only the loop)
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
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "json_command.h"
#include "core/error.h"
#include "core/paths.h"
#include "kernels/quant_matmul.h"
#include "kernels/thread_pool.h"
#include "model/generate.h"
#include "model/model.h"
#include "model/native.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string repo_root() { return RS_SOURCE_DIR; }  // bench/CMakeLists.txt

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// *median_out: the median of the same runs, to compare with figures that are medians
double best_of(int repeats, const std::function<double()>& run, double* median_out = nullptr) {
  run();  // warm-up (allocator, OpenMP pool, page faults)
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) t.push_back(run());
  if (median_out) *median_out = median(t);
  return *std::min_element(t.begin(), t.end());
}

struct Args {
  std::string model;
  int threads = 2;
  int repeats = 3;
  int decode_steps = 128;
  std::string python;
  bool llamacpp = true;
  bool json = false;
  std::string weights = "dequant";
  bool decode_only = false;
  int generate_runs = 5;  // 0: skip the whole-command measurement
  std::string cli;
  std::string llama_bench;  // path: baseline from llama-bench instead of llama-cpp-python
};

// kB of a /proc/self/status field ("VmRSS", "VmHWM"), 0 when unavailable
long proc_status_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  return 0;
}

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
    else if (s == "--weights") a.weights = next();
    else if (s == "--decode-only") a.decode_only = true;
    else if (s == "--generate-runs") a.generate_runs = std::stoi(next());
    else if (s == "--cli") a.cli = next();
    else if (s == "--llama-bench") a.llama_bench = next();
    else if (s == "--help" || s == "-h") {
      std::printf("usage: bench_vs_llamacpp [--model M.gguf] [--threads 2] [--repeats 3] "
                  "[--decode-steps 128] [--python PY] [--no-llamacpp] [--json] [--weights dequant|native] "
                  "[--decode-only] [--generate-runs 5] [--cli PATH] [--llama-bench PATH]\n");
      std::exit(0);
    } else {
      rs::fail("unknown option ", s, " (try --help)");
    }
  }
  if (a.model.empty()) a.model = rs::default_model_path();
  if (a.cli.empty()) {
    // the build puts benches in <build>/bench and the CLI in <build>/bin
    std::string self(4096, '\0');
    const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
    self.resize(n > 0 ? static_cast<size_t>(n) : 0);
    const std::string dir = self.substr(0, self.rfind('/') + 1);
    a.cli = access((dir + "../bin/reasonscope").c_str(), X_OK) == 0 ? dir + "../bin/reasonscope" : dir + "reasonscope";
  }
  return a;
}

// `reasonscope generate` as a user runs it, --generate-runs times after a warm-up run (page
// cache): median decode rate as the command reports it, median wall time of the whole command.
nlohmann::json run_generate_command(const Args& a, const std::string& prompt) {
  std::string quoted = "'";
  for (char c : prompt) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string cmd = "'" + a.cli + "' generate --json --model '" + a.model + "' --weights " + a.weights +
                          " --threads " + std::to_string(a.threads) + " -n " + std::to_string(a.decode_steps) +
                          " -p " + quoted + " 2>/dev/null";
  std::vector<double> rate, wall;
  int64_t tokens = 0;
  for (int i = 0; i <= a.generate_runs; ++i) {
    const auto t0 = Clock::now();
    int rc = 0;
    std::optional<nlohmann::json> r = rs::bench::run_json_command(cmd, &rc);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!r) rs::fail("reasonscope generate failed (exit ", rc, "): ", cmd);
    if (i == 0) continue;  // warm-up
    tokens = static_cast<int64_t>((*r)["tokens"].size());
    // single-token forwards over their time (the first token comes from the prompt's forward)
    rate.push_back((*r)["decode_steps"].get<double>() / (*r)["decode_seconds"].get<double>());
    wall.push_back(dt);
  }
  return {{"decode_tok_s", median(rate)}, {"command_seconds", median(wall)}, {"tokens", tokens},
          {"runs", a.generate_runs}, {"command", cmd}};
}

// Bytes of quantised weights one decode step reads: every layer's matrices and the unembedding
// (the embedding row and the norms are noise).
double weight_bytes_per_token(const rs::Model& m) {
  if (!m.native) return 0;
  auto bytes = [](const rs::QuantMatrix& q) { return static_cast<double>(q.rows) * static_cast<double>(q.row_bytes); };
  double total = bytes(m.native->lm_head);
  for (const rs::NativeLayer& l : m.native->layers)
    for (const rs::QuantMatrix* q : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) total += bytes(*q);
  return total;
}

// Streaming-read bandwidth of this machine as the decode loop can use it: `threads` threads
// (the loop's pool) each summing its half of a 1 GiB buffer (larger than the 1.5B file's
// weights, and than L3), 64-bit loads the compiler vectorises; best of 5 passes, GB/s (1e9).
double stream_read_gbs(int threads) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // touch every page before timing
  rs::kernels::ThreadPool pool(threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads) * 8);
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
      uint64_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t i = b; i + 8 <= e; i += 8)
        for (int k = 0; k < 8; ++k) s[k] += buf[static_cast<size_t>(i + k)];
      uint64_t t = 0;
      for (uint64_t v : s) t += v;
      sums[static_cast<size_t>(b * threads / static_cast<int64_t>(n)) * 8] = t;  // keep the loads
    }, 4096);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  uint64_t keep = 0;
  for (uint64_t v : sums) keep += v;
  if (keep == 1) std::printf(" ");  // never; stops the sums being optimised away
  return static_cast<double>(n * sizeof(uint64_t)) / best / 1e9;
}

// llama-bench's JSON lines: one object per test, n_prompt / n_gen and avg_ts (tokens per second)
nlohmann::json run_llama_bench(const Args& a) {
  const std::string cmd = "'" + a.llama_bench + "' -m '" + a.model + "' -t " + std::to_string(a.threads) +
                          " -p " + (a.decode_only ? "0" : "512") + " -n " + std::to_string(a.decode_steps) +
                          " -r " + std::to_string(a.repeats) + " --repack 0 -o jsonl 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) rs::fail("llama-bench could not start: ", cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  nlohmann::json res = {{"command", cmd}};
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find('{') == std::string::npos) continue;
    const nlohmann::json t = nlohmann::json::parse(line.substr(line.find('{')));
    res["source"] = "llama-bench " + t.value("build_commit", std::string("?"));
    const int64_t np = t.at("n_prompt").get<int64_t>(), ng = t.at("n_gen").get<int64_t>();
    if (np == 512 && ng == 0) res["prefill_1x512_tok_s"] = t.at("avg_ts").get<double>();
    if (np == 0 && ng == a.decode_steps) res["decode_tok_s"] = t.at("avg_ts").get<double>();
  }
  if (rc != 0 || !res.contains("decode_tok_s")) rs::fail("llama-bench failed (exit ", rc, "): ", cmd);
  return res;
}

nlohmann::json run_llamacpp(const Args& a) {
  if (!a.llama_bench.empty()) return run_llama_bench(a);
  const std::string cmd = "'" + a.python + "' '" + repo_root() + "/tools/bench_llamacpp.py' --model '" +
                          a.model + "' --threads " + std::to_string(a.threads) + " --repeats " +
                          std::to_string(a.repeats) + " --decode-steps " + std::to_string(a.decode_steps) +
                          (a.decode_only ? " --decode-only" : "");
  int rc = 0;
  std::optional<nlohmann::json> r = rs::bench::run_json_command(cmd, &rc);
  if (!r) rs::fail("llama.cpp baseline failed (exit ", rc, "): ", cmd);
  return *r;
}

}  // namespace

int main(int argc, char** argv) try {
  Args a = parse(argc, argv);
  if (a.weights != "dequant" && a.weights != "native") rs::fail("--weights: expected dequant or native");
  rs::set_threads(a.threads);
  at::empty({1});  // libtorch initialised: its own resident set is the baseline
  const long rss_before_kb = proc_status_kb("VmRSS");
  rs::LoadOptions lo;
  if (a.weights == "native") lo.weights = rs::WeightFormat::Native;
  rs::Model m = rs::load_model(a.model, lo);
  const long rss_loaded_kb = proc_status_kb("VmRSS");
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

  int64_t kv_bytes = 0;
  // decode: 16-token prompt, then single-token steps with the cache
  double sdec_median = 0;
  const double sdec = best_of(a.repeats, [&] {
    rs::KVCache cache;
    cache.reserve = 16 + a.decode_steps;  // allocated once, as generate() does
    kv_bytes = 0;
    rs::ForwardOptions o = last;
    o.cache = &cache;
    rs::forward(m, at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 16), at::kLong).view({1, 16}),
                at::Tensor(), o);
    auto t0 = Clock::now();
    for (int i = 0; i < a.decode_steps; ++i)
      rs::forward(m, at::full({1, 1}, toks[16 + i], at::kLong), at::Tensor(), o);
    const double dt = seconds(t0);
    for (const auto& t : cache.k) kv_bytes += 2 * t.numel() * static_cast<int64_t>(t.element_size());
    return dt;
  }, &sdec_median);
  const long peak_after_decode_kb = proc_status_kb("VmHWM");
  // rs::generate in this process on the same prompt and weights: its gap to the loop is
  // generate()'s own per-step work; the command's further gap is the process (issue 23).
  double sgen_in = 0;
  int64_t gen_in_steps = 0;
  {
    rs::GenerateOptions go;
    go.max_new_tokens = a.decode_steps + 1;  // the first token comes from the prompt's forward
    go.stop_at_eos = false;
    const std::vector<int64_t> prompt(toks.begin(), toks.begin() + 16);
    sgen_in = best_of(a.repeats, [&] {
      rs::GenerateStats st;
      rs::generate(m, tok.get(), {prompt}, go, &st);
      gen_in_steps = st.steps;
      return st.decode_seconds;
    });
  }
  double s512 = 0, s8 = 0;
  if (!a.decode_only) {
  // prefill 1 x 512
  at::Tensor t512 = at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 512), at::kLong).view({1, 512});
  s512 = best_of(a.repeats, [&] {
    auto t0 = Clock::now();
    rs::forward(m, t512, at::Tensor(), last);
    return seconds(t0);
  });
  // prefill 8 x 256 (the same windows as the python baseline: sequence s starts at token 128 s)
  std::vector<int64_t> b8;
  for (int s = 0; s < 8; ++s) b8.insert(b8.end(), toks.begin() + s * 128, toks.begin() + s * 128 + 256);
  at::Tensor t8 = at::tensor(b8, at::kLong).view({8, 256});
  s8 = best_of(a.repeats, [&] {
    auto t0 = Clock::now();
    rs::forward(m, t8, at::Tensor(), last);
    return seconds(t0);
  });
  }
  nlohmann::json ours = {{"decode_tok_s", a.decode_steps / sdec},
                         {"decode_median_tok_s", a.decode_steps / sdec_median},
                         {"generate_in_process_decode_tok_s", gen_in_steps / sgen_in}};
  if (!a.decode_only) {
    ours["prefill_1x512_tok_s"] = 512 / s512;
    ours["prefill_8x256_tok_s"] = 2048 / s8;
  }
  // issue 23: the loop against the bandwidth roofline (weights read per token / read bandwidth)
  nlohmann::json roofline;
  if (m.native) {
    const double wb = weight_bytes_per_token(m), bw = stream_read_gbs(a.threads);
    const double loop_gbs = wb * (a.decode_steps / sdec) / 1e9;
    roofline = {{"weight_bytes_per_token", wb}, {"stream_read_gb_s", bw}, {"roofline_tok_s", bw * 1e9 / wb},
                {"loop_gb_s", loop_gbs}, {"loop_over_roofline", loop_gbs / bw}};
  }
  nlohmann::json gen;
  if (a.generate_runs > 0) {
    std::vector<int32_t> head(toks.begin(), toks.begin() + 16);
    gen = run_generate_command(a, tok->decode(head));
  }
  std::ifstream mf(a.model, std::ios::binary | std::ios::ate);
  const double file_mb = static_cast<double>(mf.tellg()) / 1048576.0;
  const double peak_above_mb = (peak_after_decode_kb - rss_before_kb) / 1024.0;
  const double kv_mb = static_cast<double>(kv_bytes) / 1048576.0;
  nlohmann::json memory = {{"rss_before_load_mb", rss_before_kb / 1024.0},
                           {"rss_after_load_mb", rss_loaded_kb / 1024.0},
                           {"peak_rss_after_decode_mb", peak_after_decode_kb / 1024.0},
                           {"peak_above_baseline_mb", peak_above_mb},
                           {"file_mb", file_mb},
                           {"kv_cache_mb", kv_mb},
                           {"peak_over_file_plus_kv", peak_above_mb / (file_mb + kv_mb)}};
  nlohmann::json res = {{"model", a.model}, {"threads", a.threads},
                        {"weights", a.weights == "native" ? "native (quantised, kernels " +
                                        std::string(rs::kernels::isa_name(rs::kernels::active_isa())) + ")"
                                                          : "dequantised f32"},
                        {"repeats", a.repeats}, {"ours", ours}, {"memory", memory}};
  if (!roofline.is_null()) res["roofline"] = roofline;
  if (!gen.is_null()) {
    res["generate"] = gen;
    // median over median: the loop's best of a few runs against the command's median would
    // count run-to-run spread as generate's overhead
    res["generate_over_loop"] = gen["decode_tok_s"].get<double>() / ours["decode_median_tok_s"].get<double>();
  }
  if (a.llamacpp) {
    nlohmann::json ll = run_llamacpp(a);
    res["llamacpp"] = ll;
    nlohmann::json ratio;
    for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s"})
      if (ll.contains(k) && ours.contains(k)) ratio[k] = ours[k].get<double>() / ll[k].get<double>();
    if (!gen.is_null() && ll.contains("decode_tok_s"))
      ratio["generate_decode_tok_s"] = gen["decode_tok_s"].get<double>() / ll["decode_tok_s"].get<double>();
    res["ratio_ours_over_llamacpp"] = ratio;
  }
  if (a.json) {
    std::printf("%s\n", res.dump(2).c_str());
    return 0;
  }
  std::printf("model %s, %d threads, ours: %s weights, best of %d\n", a.model.c_str(), a.threads,
              res["weights"].get<std::string>().c_str(), a.repeats);
  std::printf("%-16s %12s %12s %8s\n", "", "ours tok/s", "llama.cpp", "ratio");
  for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s", "decode_median_tok_s",
                        "generate_in_process_decode_tok_s"}) {
    std::string name = std::string(k).substr(0, std::string(k).size() - 6);
    if (!ours.contains(k)) continue;
    if (res.contains("llamacpp") && res["llamacpp"].contains(k))
      std::printf("%-16s %12.1f %12.1f %7.2fx\n", name.c_str(), ours[k].get<double>(),
                  res["llamacpp"][k].get<double>(), res["ratio_ours_over_llamacpp"][k].get<double>());
    else
      std::printf("%-16s %12.1f %12s %8s\n", name.c_str(), ours[k].get<double>(), "-", "-");
  }
  if (!gen.is_null() && res.contains("llamacpp") && res["llamacpp"].contains("decode_tok_s"))
    std::printf("%-16s %12.1f %12.1f %7.2fx\n", "generate decode", gen["decode_tok_s"].get<double>(),
                res["llamacpp"]["decode_tok_s"].get<double>(),
                res["ratio_ours_over_llamacpp"]["generate_decode_tok_s"].get<double>());
  if (!gen.is_null()) {
    const nlohmann::json& r = res.contains("ratio_ours_over_llamacpp") ? res["ratio_ours_over_llamacpp"] : nlohmann::json();
    std::printf("generate: `reasonscope generate -n %d` decodes at %.1f tok/s (median of %d runs) = %.2fx "
                "the loop's median%s; the whole command takes %.2f s (load, prefill, %lld tokens)\n",
                a.decode_steps, gen["decode_tok_s"].get<double>(), a.generate_runs,
                res["generate_over_loop"].get<double>(),
                r.contains("generate_decode_tok_s")
                    ? rs::str(", ", r["generate_decode_tok_s"].get<double>(), "x llama.cpp").c_str() : "",
                gen["command_seconds"].get<double>(), static_cast<long long>(gen["tokens"].get<int64_t>()));
  }
  if (!roofline.is_null()) {
    const double wb = roofline["weight_bytes_per_token"].get<double>(), bw = roofline["stream_read_gb_s"].get<double>();
    std::printf("roofline: a decode step reads %.1f MB of weights; streaming reads here (%d threads, 1 GiB, best "
                "of 5) run at %.1f GB/s, so at most %.1f tok/s; the loop reads %.1f GB/s = %.0f%% of it",
                wb / 1e6, a.threads, bw, bw * 1e9 / wb, roofline["loop_gb_s"].get<double>(),
                100 * roofline["loop_over_roofline"].get<double>());
    if (res.contains("llamacpp") && res["llamacpp"].contains("decode_tok_s"))
      std::printf(", llama.cpp's tg %.0f%%", 100 * res["llamacpp"]["decode_tok_s"].get<double>() * wb / 1e9 / bw);
    std::printf("\n");
  }
  std::printf("memory: RSS %.1f MB before load, peak %.1f MB after decoding: %.1f MB above the "
              "baseline = %.2fx (file %.1f MB + KV cache %.1f MB)\n",
              rss_before_kb / 1024.0, peak_after_decode_kb / 1024.0, peak_above_mb,
              peak_above_mb / (file_mb + kv_mb), file_mb, kv_mb);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
