// QK-score scan cost against a plain forward of the same prompts (issue 9, acceptance 5).
//   bench_qk [MODEL] [--threads N] [--n QUESTIONS] [--batch B] [--reps R] [--rope pre|post]
// Prompts: generated ProntoQA questions (data make prontoqa, hops 1..5) in the default template,
// each in both option orders, as `verify qk` runs them. Per round, back to back on the same
// batches: (a) plain forward, last-position logits only, no hooks; (b) the scan (q at the last
// token and k at the option tokens captured in every layer, scores, first-token log-probs).
// Reported: questions per second of each and the scan's overhead, median over rounds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "core/paths.h"
#include "data/gen_prontoqa.h"
#include "methods/qk/qk_data.h"
#include "methods/qk/qk_runner.h"
#include "methods/qk/qk_score.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string path = rs::default_model_path();
  int threads = 2, reps = 3;
  int64_t n = 48, batch = 8;
  bool post = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--rope") && i + 1 < argc) post = std::string(argv[++i]) == "post";
    else path = argv[i];
  }
  rs::set_threads(threads);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  rs::Model m = rs::load_model(path, {at::kCPU, at::kFloat});
  auto tok = rs::tok::Tokenizer::from_model_path(path);

  rs::data::ProntoqaOptions po;
  po.hops = {1, 3, 5};
  std::vector<rs::qk::Prompt> prompts;
  const auto rows = rs::data::make_prontoqa(static_cast<uint64_t>(n), 1, po);
  for (int order = 0; order < 2; ++order)
    for (const auto& r : rows) {
      const rs::qk::Example e = rs::qk::parse_example(nlohmann::json::parse(r.dump()), rs::qk::Format::ProntoQA, "gen", true);
      prompts.push_back(rs::qk::build_prompt(*tok, rs::qk::kDefaultTemplate, e, rs::qk::display_order(2, order == 1), "gen"));
    }
  size_t total_tokens = 0;
  for (const auto& p : prompts) total_tokens += p.ids.size();
  std::printf("model %s, threads %d, %lld questions = %zu prompts (%zu tokens, mean %.0f), batch %lld, rope %s\n",
              path.c_str(), at::get_num_threads(), static_cast<long long>(n), prompts.size(), total_tokens,
              static_cast<double>(total_tokens) / prompts.size(), static_cast<long long>(batch), post ? "post" : "pre");

  // (a) the plain forward over the same batches the scan makes (longest first, same sizes)
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a].ids.size() > prompts[b].ids.size(); });
  at::Tensor sink;
  auto plain = [&] {
    at::NoGradGuard ng;
    for (size_t s = 0; s < order.size(); s += static_cast<size_t>(batch)) {
      std::vector<std::vector<int64_t>> seqs;
      for (size_t i = s; i < std::min(order.size(), s + static_cast<size_t>(batch)); ++i) seqs.push_back(prompts[order[i]].ids);
      const rs::Batch b = rs::make_batch(seqs, 0);
      rs::ForwardOptions fo;
      fo.logits = rs::LogitsMode::Last;
      sink = rs::forward(m, b.tokens, b.mask, fo);
    }
  };
  rs::qk::ScanOptions so;
  so.batch_size = batch;
  so.post_rope = post;
  auto scan = [&] { sink = rs::qk::scan(m, prompts, so).scores; };

  plain();  // warm-up
  std::vector<double> t_plain, t_scan, overhead;
  for (int r = 0; r < reps; ++r) {
    // alternate which goes first, so a load change on the shared machine hits both alike
    double a = 0, b = 0;
    if (r % 2 == 0) {
      double t0 = now(); plain(); a = now() - t0;
      t0 = now(); scan(); b = now() - t0;
    } else {
      double t0 = now(); scan(); b = now() - t0;
      t0 = now(); plain(); a = now() - t0;
    }
    t_plain.push_back(a);
    t_scan.push_back(b);
    overhead.push_back(b / a - 1);
    std::printf("round %d: plain %.2f s (%.2f questions/s), scan %.2f s (%.2f questions/s), overhead %+.1f%%\n", r + 1, a,
                n / a, b, n / b, 100 * (b / a - 1));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("\nmedian over %d rounds: plain %.2f questions/s (%.0f tok/s), scan %.2f questions/s, scan overhead %+.1f%% "
              "(target <= +10%%)\n",
              reps, n / median(t_plain), total_tokens / median(t_plain), n / median(t_scan), 100 * median(overhead));
  return 0;
}
