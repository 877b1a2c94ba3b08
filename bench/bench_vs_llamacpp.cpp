// Prefill and decode throughput of our forward pass against llama.cpp on the same GGUF file, the
// same number of threads, in one run (issue 3, acceptance 5: "prefill and decode tokens/s
// against llama.cpp ... as a ratio").
//
//   build-x/bench_vs_llamacpp [--model M.gguf] [--threads 2] [--rounds 3] [--repeats 1]
//                             [--python PY (default $RS_PYTHON or python3)] [--no-llamacpp] [--json]
//                             [--weights dequant|native] [--decode-only]
//                             [--generate-runs 5] [--cli PATH (default: the build's bin/reasonscope)]
//                             [--llama-bench PATH]
// Rounds (issue 23): the host's speed moves (up to 3x within minutes when shared), so one
// llama.cpp run after all of ours compares different minutes. Each of --rounds rounds times our
// side and then llama.cpp's back to back, the order alternating (round 1 ours first, round 2
// llama.cpp first, ...); every round gives its own ratios, and the reported ratio is the median
// of the rounds' ratios (each side's figure is the median over rounds too). --repeats is the
// runs per side per round (ours: the best of them; llama-bench: its average of -r runs).
// --generate-runs spreads the command's runs over the rounds (run i in round i % rounds).
// --llama-bench PATH: llama.cpp's baseline from its own llama-bench (`-p 512 -n <decode-steps>
// -r <repeats> --repack 0 -o jsonl`, with its own warm-up run) instead of llama-cpp-python
// (which dies with SIGILL on CPUs whose AMX it cannot use; --repack 0 keeps llama-bench off
// those repacked AMX kernels too; ours use AMX tiles for Q4_K / Q6_K prefill where Linux grants
// them, RS_KERNEL_ISA=avx512 measures ours without). llama-bench's pp512 is a 512-token prompt (prefill 1x512),
// its tg is decoding from an empty context (ours: after a 16-token prompt); it has no 8x256
// figure, so that one is measured only beside the Python baseline. Issue 23's command:
//   bench_vs_llamacpp --model M.gguf --weights native --threads 2 --generate-runs 3
//       --llama-bench /tmp/llamaserver/build/bin/llama-bench
// --weights native keeps the matrices quantised (model/native.h) and also reports memory: the
// resident set before the model loads, and its peak after decoding (measured before any
// prefill run), against the file size plus the KV cache (issue 7, acceptance 2); and the decode
// loop against the bandwidth roofline: weights read per token against a streaming-read
// measurement with the same threads, taken in every round beside the loop (stream_read_gbs;
// issue 23).
//
// What is measured (the same work on both sides; tools/bench_llamacpp.py does llama.cpp's part):
//   prefill 1x512  one 512-token sequence, one forward, logits for the last position only
//   prefill 8x256  eight 256-token sequences as one batch (ours: one [8, 256] forward; llama.cpp:
//                  one llama_decode with 8 sequence ids), last-position logits per sequence
//   decode         16-token prompt, then 128 single-token steps with the KV cache (the loop)
//   generate_in_process  rs::generate() in this process, same 16 tokens, 128 new, greedy: its
//                  gap to the loop is generate()'s per-step work, the command's further gap
//                  is the process's own
//   generate       what a user gets: `reasonscope generate --json` run as a whole command, greedy,
//                  128 new tokens after the same 16 tokens' text, same weights and threads; its
//                  own decode rate (tokens / decode seconds, as it logs) and the command's wall
//                  time (issue 23: the command, not only the loop)
// Tokens are real text (tests/golden/reference/long_text.txt, repeated). Every measurement has
// a warm-up run before the rounds. With --weights dequant ours runs in f32 (weights dequantised
// on load) while llama.cpp runs the quantised weights, so decode (memory-bound: all weights are
// read once per token) favours llama.cpp by about the ratio of bytes read.
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

#include <sys/resource.h>
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
#include "model/native_detail.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string repo_root() { return RS_SOURCE_DIR; }  // bench/CMakeLists.txt

// CPU seconds of this process so far (every thread, user + system)
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double best_of(int repeats, const std::function<double()>& run) {
  run();  // warm-up (allocator, OpenMP pool, page faults)
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) t.push_back(run());
  return *std::min_element(t.begin(), t.end());
}

struct Args {
  std::string model;
  int threads = 2;
  int repeats = 1;  // per side per round
  int rounds = 3;
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
    else if (s == "--rounds") a.rounds = std::stoi(next());
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
      std::printf("usage: bench_vs_llamacpp [--model M.gguf] [--threads 2] [--rounds 3] [--repeats 1] "
                  "[--decode-steps 128] [--python PY] [--no-llamacpp] [--json] [--weights dequant|native] "
                  "[--decode-only] [--generate-runs 5] [--cli PATH] [--llama-bench PATH]\n");
      std::exit(0);
    } else {
      rs::fail("unknown option ", s, " (try --help)");
    }
  }
  if (a.rounds < 1 || a.repeats < 1 || a.generate_runs < 0 || a.decode_steps < 1)
    rs::fail("--rounds, --repeats, --decode-steps: at least 1; --generate-runs: at least 0");
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

// The `reasonscope generate` command line for the bench's prompt.
std::string generate_command(const Args& a, const std::string& prompt) {
  std::string quoted = "'";
  for (char c : prompt) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  return "'" + a.cli + "' generate --json --model '" + a.model + "' --weights " + a.weights + " --threads " +
         std::to_string(a.threads) + " -n " + std::to_string(a.decode_steps) + " -p " + quoted + " 2>/dev/null";
}

struct CommandRun {
  double decode_tok_s = 0, seconds = 0;
  int64_t tokens = 0;
};

// One run of the command: its own decode rate (single-token forwards over their time, as it
// logs; the first token comes from the prompt's forward) and the whole command's wall time.
CommandRun run_generate_once(const std::string& cmd) {
  const auto t0 = Clock::now();
  int rc = 0;
  std::optional<nlohmann::json> r = rs::bench::run_json_command(cmd, &rc);
  const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!r) rs::fail("reasonscope generate failed (exit ", rc, "): ", cmd);
  return {(*r)["decode_steps"].get<double>() / (*r)["decode_seconds"].get<double>(), dt,
          static_cast<int64_t>((*r)["tokens"].size())};
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
// prefetch: each cache line also asks for the one 8 KiB ahead into L2, as the decode kernels
// do (dot_avx512.cpp); the plain read leaves that to the hardware prefetcher, which stops at
// page boundaries, so the kernels can read faster than it (1.5B, one thread, busy host).
double stream_read_gbs(int threads, bool prefetch = false) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  // One buffer for every call (two per round), its pages touched once, not at every call.
  static const std::vector<uint64_t> buf = [n] {
    std::vector<uint64_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = i;  // touch every page before timing
    return b;
  }();
  rs::kernels::ThreadPool pool(threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads) * 8);
  double best = 1e30;
  for (int pass = 0; pass < 5; ++pass) {
    const auto t0 = Clock::now();
    pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
      uint64_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (prefetch)
        for (int64_t i = b; i + 8 <= e; i += 8) {
          __builtin_prefetch(buf.data() + i + 1024, 0, 2);
          for (int k = 0; k < 8; ++k) s[k] += buf[static_cast<size_t>(i + k)];
        }
      else
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
  // the last decode loop's CPU time and the native pool's sleeps (kernels/thread_pool.h), per step
  double loop_cpu_ms = 0, loop_sleeps = 0;
  // decode: 16-token prompt, then single-token steps with the cache; seconds of the steps
  auto decode_loop = [&] {
    rs::KVCache cache;
    cache.reserve = 16 + a.decode_steps;  // allocated once, as generate() does
    rs::ForwardOptions o = last;
    o.cache = &cache;
    rs::forward(m, at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 16), at::kLong).view({1, 16}),
                at::Tensor(), o);
    const uint64_t sl0 = m.native ? rs::native_detail::pool().sleeps() : 0;
    const double c0 = cpu_seconds();
    auto t0 = Clock::now();
    for (int i = 0; i < a.decode_steps; ++i)
      rs::forward(m, at::full({1, 1}, toks[16 + i], at::kLong), at::Tensor(), o);
    const double dt = seconds(t0);
    loop_cpu_ms = 1e3 * (cpu_seconds() - c0) / a.decode_steps;
    loop_sleeps = m.native ? static_cast<double>(rs::native_detail::pool().sleeps() - sl0) / a.decode_steps : 0;
    kv_bytes = 0;
    for (const auto& t : cache.k) kv_bytes += 2 * t.numel() * static_cast<int64_t>(t.element_size());
    return dt;
  };
  // rs::generate in this process on the same prompt and weights: its gap to the loop is
  // generate()'s own per-step work; the command's further gap is the process (issue 23).
  rs::GenerateOptions go;
  go.max_new_tokens = a.decode_steps + 1;  // the first token comes from the prompt's forward
  go.stop_at_eos = false;
  const std::vector<int64_t> prompt16(toks.begin(), toks.begin() + 16);
  auto generate_in_process = [&] {
    rs::GenerateStats st;
    rs::generate(m, tok.get(), {prompt16}, go, &st);
    return st.steps / st.decode_seconds;
  };
  at::Tensor t512 = at::tensor(std::vector<int64_t>(toks.begin(), toks.begin() + 512), at::kLong).view({1, 512});
  auto prefill512 = [&] {
    auto t0 = Clock::now();
    rs::forward(m, t512, at::Tensor(), last);
    return seconds(t0);
  };
  const std::string gen_cmd =
      generate_command(a, tok->decode(std::vector<int32_t>(toks.begin(), toks.begin() + 16)));

  // warm-ups (allocator, the pool, page faults); the peak resident set is taken before any prefill
  decode_loop();
  const long peak_after_decode_kb = proc_status_kb("VmHWM");
  generate_in_process();
  if (a.generate_runs > 0) run_generate_once(gen_cmd);  // page cache
  if (!a.decode_only) prefill512();

  // Rounds: ours, then llama.cpp, back to back, the order alternating, so that both sides of a
  // round's ratio see the same minute of a host whose speed moves (up to 3x within minutes on a
  // shared machine). Each round's ratio and the median over rounds are reported.
  const bool with_ll = a.llamacpp;
  std::vector<nlohmann::json> rounds;
  std::vector<double> all_gen_rate, all_gen_wall;
  int64_t gen_tokens = 0;
  for (int r = 0; r < a.rounds; ++r) {
    nlohmann::json mine, ll;
    auto ours_block = [&] {
      std::vector<double> dec, gin, pp;
      for (int i = 0; i < a.repeats; ++i) {
        dec.push_back(a.decode_steps / decode_loop());
        if (dec.back() >= *std::max_element(dec.begin(), dec.end())) {
          mine["decode_cpu_ms_per_token"] = loop_cpu_ms;
          mine["decode_pool_sleeps_per_token"] = loop_sleeps;
        }
        gin.push_back(generate_in_process());
        // The reads in the same round as the loop: this host's speed moves up to 2x within
        // minutes, so a roofline measured once beside a median over rounds mixes two minutes.
        if (m.native && dec.size() == 1) {
          mine["stream_read_gb_s"] = stream_read_gbs(a.threads);
          mine["stream_read_prefetch_gb_s"] = stream_read_gbs(a.threads, true);
        }
        if (!a.decode_only) pp.push_back(512 / prefill512());
      }
      mine["decode_tok_s"] = *std::max_element(dec.begin(), dec.end());
      mine["generate_in_process_decode_tok_s"] = *std::max_element(gin.begin(), gin.end());
      if (!pp.empty()) mine["prefill_1x512_tok_s"] = *std::max_element(pp.begin(), pp.end());
      // --generate-runs spread over the rounds: run i in round i % rounds
      std::vector<double> rate;
      for (int i = r; i < a.generate_runs; i += a.rounds) {
        const CommandRun c = run_generate_once(gen_cmd);
        rate.push_back(c.decode_tok_s);
        all_gen_rate.push_back(c.decode_tok_s);
        all_gen_wall.push_back(c.seconds);
        gen_tokens = c.tokens;
      }
      if (!rate.empty()) mine["generate_decode_tok_s"] = median(rate);
    };
    const bool ours_first = r % 2 == 0;
    if (ours_first || !with_ll) ours_block();
    if (with_ll) ll = run_llamacpp(a);
    if (!ours_first && with_ll) ours_block();
    nlohmann::json round = {{"first", ours_first || !with_ll ? "ours" : "llama.cpp"}, {"ours", mine}};
    if (with_ll) {
      round["llamacpp"] = ll;
      nlohmann::json ratio;
      for (const char* k : {"prefill_1x512_tok_s", "decode_tok_s"})
        if (ll.contains(k) && mine.contains(k)) ratio[k] = mine[k].get<double>() / ll[k].get<double>();
      if (mine.contains("generate_decode_tok_s") && ll.contains("decode_tok_s"))
        ratio["generate_decode_tok_s"] = mine["generate_decode_tok_s"].get<double>() / ll["decode_tok_s"].get<double>();
      round["ratio"] = ratio;
    }
    rounds.push_back(round);
    std::fprintf(stderr, "round %d/%d done (%s first)\n", r + 1, a.rounds, round["first"].get<std::string>().c_str());
  }
  // medians over rounds of a field of each round's `side`
  auto round_median = [&](const char* side, const char* k) -> std::optional<double> {
    std::vector<double> v;
    for (const nlohmann::json& r : rounds)
      if (r.contains(side) && r[side].contains(k)) v.push_back(r[side][k].get<double>());
    if (v.empty()) return std::nullopt;
    return median(v);
  };
  auto round_best = [&](const char* k) {
    double b = 0;
    for (const nlohmann::json& r : rounds) b = std::max(b, r["ours"].value(k, 0.0));
    return b;
  };
  nlohmann::json ours = {{"decode_tok_s", *round_median("ours", "decode_tok_s")},
                         {"decode_cpu_ms_per_token", *round_median("ours", "decode_cpu_ms_per_token")},
                         {"decode_pool_sleeps_per_token", *round_median("ours", "decode_pool_sleeps_per_token")},
                         {"decode_median_tok_s", *round_median("ours", "decode_tok_s")},
                         {"decode_best_tok_s", round_best("decode_tok_s")},
                         {"generate_in_process_decode_tok_s", *round_median("ours", "generate_in_process_decode_tok_s")}};
  if (!a.decode_only) {
    ours["prefill_1x512_tok_s"] = *round_median("ours", "prefill_1x512_tok_s");
    ours["prefill_1x512_best_tok_s"] = round_best("prefill_1x512_tok_s");
  }
  // prefill 8 x 256 has no llama-bench counterpart: measured only beside the Python baseline
  // (the same windows as it: sequence s starts at token 128 s) or with no baseline
  if (!a.decode_only && a.llama_bench.empty()) {
    std::vector<int64_t> b8;
    for (int s = 0; s < 8; ++s) b8.insert(b8.end(), toks.begin() + s * 128, toks.begin() + s * 128 + 256);
    at::Tensor t8 = at::tensor(b8, at::kLong).view({8, 256});
    const double s8 = best_of(a.repeats, [&] {
      auto t0 = Clock::now();
      rs::forward(m, t8, at::Tensor(), last);
      return seconds(t0);
    });
    ours["prefill_8x256_tok_s"] = 2048 / s8;
  }
  // issue 23: the loop against the bandwidth roofline (weights read per token / read bandwidth),
  // each round's decode over the same round's read, median over rounds
  nlohmann::json roofline;
  if (m.native) {
    const double wb = weight_bytes_per_token(m);
    auto share = [&](const char* side, const char* read) -> std::optional<double> {
      std::vector<double> v;
      for (const nlohmann::json& r : rounds)
        if (r.contains(side) && r[side].contains("decode_tok_s"))
          v.push_back(wb * r[side]["decode_tok_s"].get<double>() / 1e9 / r["ours"][read].get<double>());
      if (v.empty()) return std::nullopt;
      return median(v);
    };
    const double bw = *round_median("ours", "stream_read_gb_s");
    roofline = {{"weight_bytes_per_token", wb}, {"stream_read_gb_s", bw}, {"roofline_tok_s", bw * 1e9 / wb},
                {"loop_gb_s", wb * ours["decode_tok_s"].get<double>() / 1e9},
                {"loop_over_roofline", *share("ours", "stream_read_gb_s")},
                {"stream_read_prefetch_gb_s", *round_median("ours", "stream_read_prefetch_gb_s")},
                {"loop_over_prefetched_read", *share("ours", "stream_read_prefetch_gb_s")}};
    if (with_ll) {
      roofline["llamacpp_over_roofline"] = *share("llamacpp", "stream_read_gb_s");
      roofline["llamacpp_over_prefetched_read"] = *share("llamacpp", "stream_read_prefetch_gb_s");
    }
  }
  nlohmann::json gen;
  if (!all_gen_rate.empty())
    gen = {{"decode_tok_s", median(all_gen_rate)}, {"command_seconds", median(all_gen_wall)},
           {"tokens", gen_tokens}, {"runs", a.generate_runs}, {"command", gen_cmd}};
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
                        {"repeats", a.repeats}, {"rounds", a.rounds}, {"ours", ours}, {"memory", memory},
                        {"per_round", rounds}};
  if (m.native) res["pool_spin_us"] = rs::native_detail::pool().spin_us();
  if (!roofline.is_null()) res["roofline"] = roofline;
  if (!gen.is_null()) {
    res["generate"] = gen;
    res["generate_over_loop"] = gen["decode_tok_s"].get<double>() / ours["decode_median_tok_s"].get<double>();
  }
  if (with_ll) {
    nlohmann::json ll = rounds.front()["llamacpp"], ratio;
    for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s"})
      if (std::optional<double> v = round_median("llamacpp", k)) ll[k] = *v;
    // the median of the rounds' ratios, not a ratio of medians: each ratio is one minute's
    for (const char* k : {"prefill_1x512_tok_s", "decode_tok_s", "generate_decode_tok_s"})
      if (std::optional<double> v = round_median("ratio", k)) ratio[k] = *v;
    if (ll.contains("prefill_8x256_tok_s") && ours.contains("prefill_8x256_tok_s"))
      ratio["prefill_8x256_tok_s"] = ours["prefill_8x256_tok_s"].get<double>() / ll["prefill_8x256_tok_s"].get<double>();
    res["llamacpp"] = ll;
    res["ratio_ours_over_llamacpp"] = ratio;
  }
  if (a.json) {
    std::printf("%s\n", res.dump(2).c_str());
    return 0;
  }
  std::printf("model %s, %d threads, ours: %s weights; %d rounds (ours and llama.cpp back to back, the order "
              "alternating), each side best of %d per round\n",
              a.model.c_str(), a.threads, res["weights"].get<std::string>().c_str(), a.rounds, a.repeats);
  if (with_ll) {
    std::printf("%-6s %-9s %22s %22s %22s\n", "round", "first", "pp512 ours/ll", "loop/ll tg", "generate/ll tg");
    for (size_t i = 0; i < rounds.size(); ++i) {
      const nlohmann::json& r = rounds[i];
      auto cell = [&](const char* ko, const char* kl, const char* kr) {
        if (!r["ratio"].contains(kr)) return std::string("-");
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f/%.1f=%.2fx", r["ours"][ko].get<double>(), r["llamacpp"][kl].get<double>(),
                      r["ratio"][kr].get<double>());
        return std::string(buf);
      };
      std::printf("%-6zu %-9s %22s %22s %22s\n", i + 1, r["first"].get<std::string>().c_str(),
                  cell("prefill_1x512_tok_s", "prefill_1x512_tok_s", "prefill_1x512_tok_s").c_str(),
                  cell("decode_tok_s", "decode_tok_s", "decode_tok_s").c_str(),
                  cell("generate_decode_tok_s", "decode_tok_s", "generate_decode_tok_s").c_str());
    }
  }
  std::printf("%-28s %12s %12s %14s\n", "medians", "ours tok/s", "llama.cpp", "median ratio");
  for (const char* k : {"prefill_1x512_tok_s", "prefill_8x256_tok_s", "decode_tok_s", "generate_in_process_decode_tok_s"}) {
    std::string name = std::string(k).substr(0, std::string(k).size() - 6);
    if (!ours.contains(k)) continue;
    if (res.contains("llamacpp") && res["llamacpp"].contains(k))
      std::printf("%-28s %12.1f %12.1f %13.2fx\n", name.c_str(), ours[k].get<double>(),
                  res["llamacpp"][k].get<double>(), res["ratio_ours_over_llamacpp"][k].get<double>());
    else
      std::printf("%-28s %12.1f %12s %14s\n", name.c_str(), ours[k].get<double>(), "-", "-");
  }
  if (!gen.is_null() && res.contains("ratio_ours_over_llamacpp") &&
      res["ratio_ours_over_llamacpp"].contains("generate_decode_tok_s"))
    std::printf("%-28s %12.1f %12.1f %13.2fx\n", "generate decode", gen["decode_tok_s"].get<double>(),
                res["llamacpp"]["decode_tok_s"].get<double>(),
                res["ratio_ours_over_llamacpp"]["generate_decode_tok_s"].get<double>());
  if (!gen.is_null())
    std::printf("generate: `reasonscope generate -n %d` decodes at %.1f tok/s (median of %d runs) = %.2fx "
                "the loop's median; the whole command takes %.2f s (load, prefill, %lld tokens)\n",
                a.decode_steps, gen["decode_tok_s"].get<double>(), a.generate_runs,
                res["generate_over_loop"].get<double>(), gen["command_seconds"].get<double>(),
                static_cast<long long>(gen["tokens"].get<int64_t>()));
  std::printf("decode loop: %.2f ms wall, %.2f ms CPU per token; the pool's worker slept %.1f times per token "
              "(RS_POOL_SPIN_US=%lld; medians)\n",
              1e3 / ours["decode_tok_s"].get<double>(), ours["decode_cpu_ms_per_token"].get<double>(),
              ours["decode_pool_sleeps_per_token"].get<double>(),
              static_cast<long long>(m.native ? rs::native_detail::pool().spin_us() : 0));
  if (!roofline.is_null()) {
    const double wb = roofline["weight_bytes_per_token"].get<double>(), bw = roofline["stream_read_gb_s"].get<double>();
    std::printf("roofline: a decode step reads %.1f MB of weights; streaming reads here (%d threads, 1 GiB, best "
                "of 5, taken in each round beside the loop) run at %.1f GB/s (median), so at most %.1f tok/s; "
                "the loop reads %.1f GB/s (median); per round, the loop reads at %.0f%% of that round's read",
                wb / 1e6, a.threads, bw, bw * 1e9 / wb, roofline["loop_gb_s"].get<double>(),
                100 * roofline["loop_over_roofline"].get<double>());
    if (roofline.contains("llamacpp_over_roofline"))
      std::printf(", llama.cpp's tg %.0f%%", 100 * roofline["llamacpp_over_roofline"].get<double>());
    std::printf("; the same read with software prefetch (8 KiB ahead, as the kernels): %.1f GB/s, the loop %.0f%% of it",
                roofline["stream_read_prefetch_gb_s"].get<double>(), 100 * roofline["loop_over_prefetched_read"].get<double>());
    if (roofline.contains("llamacpp_over_prefetched_read"))
      std::printf(", llama.cpp's tg %.0f%%", 100 * roofline["llamacpp_over_prefetched_read"].get<double>());
    std::printf(" (medians over rounds)\n");
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
