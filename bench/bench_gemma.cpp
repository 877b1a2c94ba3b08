// Gemma 3 270M beside the default model, in one run (issue 13, acceptance 4): prefill and decode
// tokens/s on native (quantised) and exact f32 weights, and what the 262,144 x 640 unembedding
// costs in a decode step.
//
//   bench_gemma [--threads 2] [--prefill 256] [--decode 32] [--reps 3] [--gemma M.gguf] [--default M.gguf] [--q5-only]
//
// prefill: one [1, P] forward, last-position logits, median of --reps after a warm-up.
// decode:  after a 32-token prompt, --decode single-token steps with the KV cache, last logits
//          (greedy: the argmax is fed back), median of --reps; tok/s = steps / time.
// head:    the same decode steps with LogitsMode::None (final norm, no unembedding); the
//          difference per step is the unembedding's cost, shown as a share of the step. Beside
//          it, the time to stream the head's bytes once (a plain sum over them, same threads),
//          i.e. the memory-bandwidth floor of any kernel that reads the head as stored.
// q5_0:    Gemma's Q5_0 matrices (q, k, gate, up of all 18 layers, one decode step's worth, one
//          thread): our integer Q5_0 kernel against the generic path it replaced (dequantise a
//          row, f32 dot with the unquantised activations).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/paths.h"
#include "io/ggml_types.h"
#include "kernels/quant_matmul.h"
#include "model/model.h"
#include "model/native.h"

namespace {

using Clock = std::chrono::steady_clock;

double median_time(int reps, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

at::Tensor prompt_ids(const rs::Model& m, int64_t n) {
  // fixed pseudo-random ids away from the special tokens
  at::Tensor ids = at::empty({1, n}, at::kLong);
  uint64_t s = 88172645463325252ull;
  for (int64_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    ids[0][i] = 1000 + static_cast<int64_t>(s % static_cast<uint64_t>(std::min<int64_t>(m.config.n_vocab - 1000, 30000)));
  }
  return ids;
}

// `steps` cached single-token steps after a 32-token prompt; returns seconds for the steps.
double decode_seconds(const rs::Model& m, int64_t steps, rs::LogitsMode mode) {
  at::NoGradGuard ng;
  rs::KVCache cache;
  cache.reserve = 32 + steps;
  rs::ForwardOptions o;
  o.cache = &cache;
  o.logits = rs::LogitsMode::Last;
  at::Tensor out = rs::forward(m, prompt_ids(m, 32), {}, o);
  at::Tensor next = out.reshape({-1}).argmax().view({1, 1});
  o.logits = mode;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    out = rs::forward(m, next, {}, o);
    next = mode == rs::LogitsMode::None ? at::full({1, 1}, 1000 + i, at::kLong) : out.reshape({-1}).argmax().view({1, 1});
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Seconds to read `bytes` bytes at p once, split over the intra-op threads (a sum of 64-bit words).
double stream_seconds(const uint8_t* p, size_t bytes, int reps) {
  volatile uint64_t sink = 0;
  return median_time(reps, [&] {
    const int64_t words = static_cast<int64_t>(bytes / 8);
    std::vector<uint64_t> part(static_cast<size_t>(at::get_num_threads()) + 1, 0);
    at::parallel_for(0, words, 1 << 16, [&](int64_t b, int64_t e) {
      uint64_t acc = 0;
      for (int64_t i = b; i < e; ++i) {
        uint64_t w;
        std::memcpy(&w, p + 8 * i, 8);
        acc += w;
      }
      part[static_cast<size_t>(at::get_thread_num())] += acc;
    });
    for (uint64_t v : part) sink = sink + v;
  });
}

void bench_model(const std::string& label, const std::string& path, int64_t P, int64_t steps, int reps) {
  for (bool native : {true, false}) {
    rs::LoadOptions lo;
    lo.weights = native ? rs::WeightFormat::Native : rs::WeightFormat::Dequantize;
    const rs::Model m = rs::load_model(path, lo);
    const at::Tensor ids = prompt_ids(m, P);
    const double t_prefill = median_time(reps, [&] {
      at::NoGradGuard ng;
      rs::ForwardOptions o;
      o.logits = rs::LogitsMode::Last;
      rs::forward(m, ids, {}, o);
    });
    const double t_dec = median_time(reps, [&] { decode_seconds(m, steps, rs::LogitsMode::Last); });
    // the step without the unembedding (one extra run of each, median of reps)
    std::vector<double> with, without;
    for (int r = 0; r < reps; ++r) {
      with.push_back(decode_seconds(m, steps, rs::LogitsMode::Last));
      without.push_back(decode_seconds(m, steps, rs::LogitsMode::None));
    }
    std::sort(with.begin(), with.end());
    std::sort(without.begin(), without.end());
    const double step = with[with.size() / 2] / steps, body = without[without.size() / 2] / steps;
    const double head = std::max(0.0, step - body);
    std::string head_type = native ? rs::ggml_type_name(m.native->lm_head.type) : "f32";
    const double head_bytes = native ? static_cast<double>(m.native->lm_head.row_bytes) * m.native->lm_head.rows
                                     : static_cast<double>(m.lm_head.numel()) * 4.0;
    const uint8_t* head_ptr = native ? m.native->lm_head.data : static_cast<const uint8_t*>(m.lm_head.data_ptr());
    const double t_stream = stream_seconds(head_ptr, static_cast<size_t>(head_bytes), reps);
    std::printf("%-8s %-8s prefill 1x%lld %7.1f tok/s | decode %6.2f tok/s (%.1f ms/step) | unembedding %s %.0f MB: "
                "%.1f ms/step = %.0f%% of the step (%.1f GB/s; streaming its bytes alone %.1f ms, %.1f GB/s)\n",
                label.c_str(), native ? "native" : "f32", static_cast<long long>(P), P / t_prefill, steps / t_dec,
                1e3 * step, head_type.c_str(), head_bytes / 1e6, 1e3 * head, 100.0 * head / step,
                head > 0 ? head_bytes / head / 1e9 : 0.0, 1e3 * t_stream, head_bytes / t_stream / 1e9);
    std::fflush(stdout);
  }
}

void bench_q5_0(const std::string& path, int reps) {
  rs::LoadOptions lo;
  lo.weights = rs::WeightFormat::Native;
  const rs::Model m = rs::load_model(path, lo);
  std::vector<const rs::QuantMatrix*> mats;
  for (const auto& l : m.native->layers)
    for (const rs::QuantMatrix* q : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      if (q->type == rs::GgmlType::Q5_0) mats.push_back(q);
  std::vector<float> x(static_cast<size_t>(m.config.d_model)), y(static_cast<size_t>(2 * m.config.d_ff)), row;
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  rs::kernels::ActRows acts;
  acts.quantize(x.data(), 1, m.config.d_model, m.config.d_model);
  const rs::kernels::ActRow a = acts.row(0);
  double bytes = 0;
  for (const auto* q : mats) bytes += static_cast<double>(q->row_bytes) * q->rows;
  const double t_int = median_time(reps, [&] {
    for (const auto* q : mats) rs::kernels::matmul_rows(q->type, q->data, q->cols, 0, q->rows, &a, 1, y.data(), 1);
  });
  const double t_gen = median_time(reps, [&] {
    for (const auto* q : mats) {
      row.resize(static_cast<size_t>(q->cols));
      for (int64_t r = 0; r < q->rows; ++r) {  // the generic path of kernels/quant_matmul.cpp
        rs::dequantize(q->type, q->data + static_cast<uint64_t>(r) * q->row_bytes, row.data(), q->cols);
        float acc = 0.0f;
        for (int64_t j = 0; j < q->cols; ++j) acc += row[static_cast<size_t>(j)] * a.x[j];
        y[static_cast<size_t>(r % static_cast<int64_t>(y.size()))] = acc;
      }
    }
  });
  std::printf("gemma3   Q5_0 products of one decode step (%zu matrices, %.0f MB, 1 thread): integer kernel %.2f ms, "
              "generic dequantise-row path %.2f ms (%.1fx)\n", mats.size(), bytes / 1e6, 1e3 * t_int, 1e3 * t_gen, t_gen / t_int);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 3;
  bool q5_only = false;
  int64_t P = 256, steps = 32;
  std::string gemma = rs::gemma3_model_path(), def = rs::default_model_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads") threads = std::stoi(next());
    else if (a == "--prefill") P = std::stoll(next());
    else if (a == "--decode") steps = std::stoll(next());
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--gemma") gemma = next();
    else if (a == "--default") def = next();
    else if (a == "--q5-only") q5_only = true;
    else {
      std::fprintf(stderr, "usage: bench_gemma [--threads N] [--prefill P] [--decode N] [--reps R] [--gemma M] [--default M]\n");
      return 2;
    }
  }
  rs::set_threads(threads);
  std::printf("threads %d, prefill 1x%lld, decode %lld steps after 32 tokens, median of %d\n", threads,
              static_cast<long long>(P), static_cast<long long>(steps), reps);
  if (!q5_only) {
    bench_model("default", def, P, steps, reps);
    bench_model("gemma3", gemma, P, steps, reps);
  }
  bench_q5_0(gemma, reps);
  return 0;
}
