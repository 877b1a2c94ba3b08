// Cost of one full causal-tracing sweep (issue 11, acceptance 4): all layers x 3 components
// (resid, attn, mlp) x 2 positions (last, subject) for one two-hop case, against one forward
// pass of the same sequence measured in the same run.
//   bench_patch [MODEL] [--threads N] [--reps N]
// Target: at most L x C x P patched forwards and the guide run computed once. Reported: forward
// calls, patched sequences, guide runs, and the sweep's time in units of one forward (batched
// sweep, and the same sweep with one sequence per forward call).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/paths.h"
#include "methods/lens/answer_scoring.h"
#include "methods/lens/tracing.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
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

}  // namespace

int main(int argc, char** argv) {
  std::string path = rs::default_model_path();
  int threads = 1, reps = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else path = argv[i];
  }
  rs::set_threads(threads);
  rs::Model m = rs::load_model(path);
  auto t = rs::tok::Tokenizer::from_model_path(path);
  const std::string composed = "The capital of the country where the Eiffel Tower is located is";
  const std::string guide = "The capital of France is";
  rs::lens::TraceInput in;
  in.composed = rs::lens::prompt_ids(*t, composed, "bench");
  in.guide = rs::lens::prompt_ids(*t, guide, "bench");
  in.answer = rs::lens::answer_ids(*t, "Paris", "bench");
  in.composed_subject_pos = rs::lens::subject_last_token(*t, composed, "the country where the Eiffel Tower is located", "bench");
  in.guide_subject_pos = rs::lens::subject_last_token(*t, guide, "France", "bench");
  std::vector<int64_t> seq = in.composed;
  seq.insert(seq.end(), in.answer.begin(), in.answer.end());
  const at::Tensor tokens = at::tensor(seq, at::kLong).unsqueeze(0);
  at::NoGradGuard ng;

  const double t_fwd = median_time(reps, [&] { rs::forward(m, tokens, {}, {}); });
  rs::lens::TraceResult r;
  const double t_sweep = median_time(reps, [&] { r = rs::lens::trace_case(m, in); });
  rs::lens::TraceOptions one;
  one.max_batch = 1;
  rs::lens::TraceResult r1;
  const double t_sweep1 = median_time(1, [&] { r1 = rs::lens::trace_case(m, in, one); });
  const int64_t L = m.config.n_layer, budget = L * 3 * 2;
  std::printf("model %s, %lld layers, sequence %zu tokens, threads %d\n", path.c_str(),
              static_cast<long long>(L), seq.size(), threads);
  std::printf("one forward (baseline)          %8.4f s\n", t_fwd);
  std::printf("sweep, batched (L rows/call)    %8.4f s = %6.1f forwards; %lld calls, %lld patched sequences, "
              "%lld guide run(s); budget %lld\n",
              t_sweep, t_sweep / t_fwd, static_cast<long long>(r.forward_calls),
              static_cast<long long>(r.patched_sequences), static_cast<long long>(r.guide_runs),
              static_cast<long long>(budget));
  std::printf("sweep, one sequence per call    %8.4f s = %6.1f forwards; %lld calls\n", t_sweep1,
              t_sweep1 / t_fwd, static_cast<long long>(r1.forward_calls));
  std::printf("same results batched vs single: max |dlogp| = %.2e\n",
              (r.logp - r1.logp).abs().max().item<double>());
  return r.patched_sequences <= budget && r.guide_runs == 1 ? 0 : 1;
}
