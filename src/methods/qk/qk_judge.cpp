// Head selection, the saved judge and its evaluation (qk_judge.h).
#include "methods/qk/qk_judge.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace rs::qk {

JudgeScores judge_scores(const ScanResult& r, const at::Tensor& seq_lp, const std::vector<Prompt>& prompts) {
  const int64_t P = static_cast<int64_t>(prompts.size());
  if (P % 2 != 0 || r.scores.size(0) != P) fail("judge_scores: expected 2N prompts and their scores");
  const int64_t N = P / 2;
  std::vector<int64_t> shown_flat;
  for (const Prompt& p : prompts) shown_flat.insert(shown_flat.end(), p.shown.begin(), p.shown.end());
  const at::Tensor shown = at::tensor(shown_flat, at::kLong).view({P, -1});
  JudgeScores js;
  for (int o = 0; o < 2; ++o) {
    const at::Tensor s = shown.narrow(0, o * N, N);
    js.heads[o] = to_content_order(r.scores.narrow(0, o * N, N), s);
    if (r.first_token_lp.defined()) js.first[o] = to_content_order(r.first_token_lp.narrow(0, o * N, N), s);
    if (seq_lp.defined()) js.seq[o] = to_content_order(seq_lp.narrow(0, o * N, N), s);
  }
  return js;
}

// ------------------------------------------------------------------------- selection
at::Tensor balanced_accuracy(const at::Tensor& correct, const at::Tensor& answer, const std::vector<int64_t>& rows) {
  // mean over answer classes of the accuracy within the class: a head that always names the
  // same option scores 1 / (number of classes), not the share of that answer in the data
  std::map<int64_t, std::vector<int64_t>> by_class;
  const at::Tensor a = answer.to(at::kCPU, at::kLong).contiguous();
  for (int64_t r : rows) by_class[a[r].item<int64_t>()].push_back(r);
  at::Tensor sum;
  for (const auto& [c, rs] : by_class) {
    const at::Tensor m = mean_over_rows(correct, rs);
    sum = sum.defined() ? sum + m : m;
  }
  return sum / static_cast<double>(by_class.size());
}

SavedHeads select_heads(const JudgeScores& js, const at::Tensor& answer,
                        const std::vector<int64_t>& calib_rows, int64_t k, int64_t n_head_kv) {
  const at::Tensor& c0 = js.heads[0];
  const at::Tensor& c1 = js.heads[1];
  const int64_t L = c0.size(1), H = c0.size(2), O = c0.size(3);
  if (k < 1 || k > L * H) fail("--ensemble: expected 1..", L * H, " heads, got ", k);
  const at::Tensor correct = correct_both_orders(c0, c1, answer);            // [N, L, H]
  const at::Tensor acc = balanced_accuracy(correct, answer, calib_rows);     // [L, H]
  const ZScore z = fit_zscore(c0, c1, calib_rows);
  // tie-break: the answer's z-scored margin, mean over calibration rows and both orders
  const at::Tensor m = (answer_margin(zscore(c0, z), answer) + answer_margin(zscore(c1, z), answer)) / 2;
  const std::vector<RankedHead> ranked = rank_heads(acc, mean_over_rows(m, calib_rows));
  SavedHeads s;
  s.n_layer = L;
  s.n_head = H;
  s.n_head_kv = n_head_kv;
  s.n_options = O;
  s.n_calib = static_cast<int64_t>(calib_rows.size());
  s.top1 = {ranked[0].layer, ranked[0].head};
  for (int64_t i = 0; i < k; ++i) {
    const RankedHead& r = ranked[static_cast<size_t>(i)];
    s.ensemble.push_back({r.layer, r.head});
    const at::Tensor mu = z.mu[r.layer][r.head].contiguous();
    s.mu.emplace_back(mu.data_ptr<double>(), mu.data_ptr<double>() + O);
    s.sigma.push_back(z.sigma[r.layer][r.head].item<double>());
  }
  s.ranking = ranked;
  return s;
}

std::array<at::Tensor, 2> head_of(const JudgeScores& js, const HeadRef& h) {
  return {js.heads[0].select(1, h.layer).select(1, h.head), js.heads[1].select(1, h.layer).select(1, h.head)};
}

std::array<at::Tensor, 2> ensemble_of(const JudgeScores& js, const SavedHeads& s) {
  const int64_t K = static_cast<int64_t>(s.ensemble.size());
  const int64_t O = js.heads[0].size(3);
  std::vector<double> mu_flat;
  for (const auto& m : s.mu) mu_flat.insert(mu_flat.end(), m.begin(), m.end());
  const at::Tensor mu = at::tensor(mu_flat, at::kDouble).view({K, O});
  const at::Tensor sigma = at::tensor(s.sigma, at::kDouble);
  std::array<at::Tensor, 2> out;
  for (int o = 0; o < 2; ++o) {
    at::Tensor sum;
    for (int64_t i = 0; i < K; ++i) {
      const HeadRef& h = s.ensemble[static_cast<size_t>(i)];
      const at::Tensor c = js.heads[o].select(1, h.layer).select(1, h.head).to(at::kDouble);  // [N, O]
      // z = (d - mu) / sigma with d = c - mean_o c  (qk_score.h, fit_zscore)
      const at::Tensor zi = (c - c.mean(-1, true) - mu[i]) / sigma[i];
      sum = sum.defined() ? sum + zi : zi;
    }
    out[o] = sum / static_cast<double>(K);
  }
  return out;
}

}  // namespace rs::qk
