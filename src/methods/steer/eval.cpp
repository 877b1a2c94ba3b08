// Scoring under steering (see eval.h).
#include "methods/steer/eval.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "core/error.h"

namespace rs::steer {

double kl_divergence(const at::Tensor& ref, const at::Tensor& st, double eps) {
  // KL(p || q) = sum p (log(p + eps) - log(q + eps))
  const at::Tensor p = ref.to(at::kDouble).exp(), q = st.to(at::kDouble).exp();
  return (p * ((p + eps).log() - (q + eps).log())).sum().item<double>();
}

double entropy_bits(const at::Tensor& logprobs) {
  // H = -sum p log2 p  (p = 0 terms contribute 0)
  const at::Tensor lp = logprobs.to(at::kDouble);
  const at::Tensor p = lp.exp();
  return -(p * lp).nan_to_num(0.0).sum().item<double>() / std::log(2.0);
}

namespace {

void check_item(const McItem& item) {
  const int64_t K = static_cast<int64_t>(item.candidates.size());
  if (item.prompt.empty()) fail(item.id, ": empty prompt");
  if (K < 2) fail(item.id, ": needs at least 2 candidates, has ", K);
  if (item.correct < 0 || item.correct >= K) fail(item.id, ": correct index out of range");
  for (const auto& c : item.candidates)
    if (c.empty()) fail(item.id, ": a candidate has no tokens");
}

// The candidates' tokens after their first, c_1 .. c_{n-1}, as one left-padded batch [K, T] on
// dev (T = 0: every candidate is one token, nothing to run).
struct Continuations {
  at::Tensor tok, mask;
  int64_t T = 0;
};
Continuations continuations(const McItem& item, const at::Device& dev) {
  const int64_t K = static_cast<int64_t>(item.candidates.size());
  size_t longest = 0;
  for (const auto& c : item.candidates) longest = std::max(longest, c.size());
  Continuations r;
  r.T = static_cast<int64_t>(longest) - 1;
  if (r.T == 0) return r;
  r.tok = at::zeros({K, r.T}, at::kLong);
  r.mask = at::zeros({K, r.T}, at::kLong);
  for (int64_t k = 0; k < K; ++k) {
    const auto& c = item.candidates[static_cast<size_t>(k)];
    const int64_t n = static_cast<int64_t>(c.size()) - 1, off = r.T - n;
    for (int64_t j = 0; j < n; ++j) {
      r.tok[k][off + j] = c[static_cast<size_t>(j)];
      r.mask[k][off + j] = 1;
    }
  }
  r.tok = r.tok.to(dev);
  r.mask = r.mask.to(dev);
  return r;
}

// The scores from the next-token log-probs lp [V] and, when some candidate is longer than one
// token, the log-probs lps [K, T, V] of the continuations batch (CPU, f32).
ItemScore score_from(const McItem& item, const at::Tensor& lp, const at::Tensor& lps, const at::Tensor& ref_logprobs) {
  const int64_t K = static_cast<int64_t>(item.candidates.size());
  ItemScore s;
  s.kl = ref_logprobs.defined() ? kl_divergence(ref_logprobs, lp) : 0.0;
  s.entropy_bits = entropy_bits(lp);

  // First token: softmax over the candidates' first-token logits (same argmax as over logits).
  std::vector<double> first(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) first[k] = lp[item.candidates[k][0]].item<double>();
  bool unique_best = true;
  for (int64_t k = 0; k < K; ++k)
    if (k != item.correct && first[k] >= first[item.correct]) unique_best = false;
  s.first_token_correct = unique_best;
  const int64_t correct_first = item.candidates[item.correct][0];
  s.p_correct = std::exp(first[item.correct]);
  std::set<int64_t> wrong_ids;
  for (int64_t k = 0; k < K; ++k)
    if (k != item.correct && item.candidates[k][0] != correct_first) wrong_ids.insert(item.candidates[k][0]);
  for (int64_t id : wrong_ids) s.p_incorrect += std::exp(lp[id].item<double>());

  // Full sequences: log p(c_1 | prompt) + sum_j log p(c_j+1 | prompt, c_<=j).
  s.candidate_logprobs = first;
  if (lps.defined()) {
    const int64_t T = lps.size(1);
    for (int64_t k = 0; k < K; ++k) {
      const auto& c = item.candidates[k];
      const int64_t n = static_cast<int64_t>(c.size()) - 1, off = T - n;
      for (int64_t j = 0; j < n; ++j) s.candidate_logprobs[k] += lps[k][off + j][c[j + 1]].item<double>();
    }
  }
  bool seq_best = true;
  for (int64_t k = 0; k < K; ++k)
    if (k != item.correct && s.candidate_logprobs[k] >= s.candidate_logprobs[item.correct]) seq_best = false;
  s.sequence_correct = seq_best;
  return s;
}

at::Tensor next_logprobs_of(const at::Tensor& logits_row) {
  return at::log_softmax(logits_row.view({-1}).to(at::kFloat), 0).cpu();
}

// One run of the prompt under `hooks`: its next-token log-probs lp [V] and, when some candidate
// is longer than one token, the continuations' log-probs lps [K, T, V], run as one left-padded
// batch on K copies of the prompt's cache.
struct PromptRun {
  at::Tensor lp, lps;
};
PromptRun run_prompt(const Model& m, const at::Tensor& tokens, const Continuations& cont, int64_t K, Hooks* hooks) {
  KVCache cache;
  ForwardOptions fo;
  fo.hooks = hooks;
  fo.cache = &cache;
  fo.logits = LogitsMode::Last;
  PromptRun r;
  r.lp = next_logprobs_of(forward(m, tokens, at::Tensor(), fo));
  if (cont.T > 0) {
    cache.select_rows(at::zeros({K}, at::kLong));
    fo.logits = LogitsMode::All;
    r.lps = at::log_softmax(forward(m, cont.tok, cont.mask, fo).to(at::kFloat), -1).cpu();
  }
  return r;
}

}  // namespace

ItemScore score_mc_item(const Model& m, const McItem& item, Hooks* hooks,
                        const at::Tensor& ref_logprobs, at::Tensor* next_logprobs) {
  check_item(item);
  at::NoGradGuard no_grad;
  const at::Tensor tokens = at::tensor(item.prompt, at::kLong).view({1, -1}).to(m.device());
  const PromptRun run = run_prompt(m, tokens, continuations(item, m.device()),
                                   static_cast<int64_t>(item.candidates.size()), hooks);
  if (next_logprobs) *next_logprobs = run.lp;
  return score_from(item, run.lp, run.lps, ref_logprobs);
}

std::vector<ItemScore> score_mc_item_settings(const Model& m, const McItem& item,
                                              const std::vector<SteerSetting>& settings,
                                              int64_t max_rows, at::Tensor* unsteered_logprobs) {
  check_item(item);
  at::NoGradGuard no_grad;
  const auto dev = m.device();
  const int64_t K = static_cast<int64_t>(item.candidates.size());
  std::map<int64_t, std::vector<size_t>> by_layer;  // layer -> indices into settings
  for (size_t j = 0; j < settings.size(); ++j) {
    const int64_t l = settings[j].layer;
    if (l < 0 || l >= m.config.n_layer)
      fail("steering layer ", l, " is out of range: the model has ", m.config.n_layer, " layers");
    by_layer[l].push_back(j);
  }
  const auto name = [](int64_t l) { return "blocks." + std::to_string(l) + ".hook_resid_post"; };

  // Unsteered: prompt (call 0) and continuations (call 1), keeping resid_post where a setting
  // steers (a capture changes no bit of the run).
  Hooks h(m.config);
  CaptureSpec keep;
  keep.to_cpu = false;
  for (const auto& [l, js] : by_layer) h.capture(name(l), keep);
  const at::Tensor tokens = at::tensor(item.prompt, at::kLong).view({1, -1}).to(dev);
  const Continuations cont = continuations(item, dev);
  const PromptRun run = run_prompt(m, tokens, cont, K, by_layer.empty() ? nullptr : &h);
  const at::Tensor& lp = run.lp;
  if (unsteered_logprobs) *unsteered_logprobs = lp;
  std::vector<ItemScore> out(settings.size() + 1);
  out[0] = score_from(item, lp, run.lps, at::Tensor());

  // Steered at layer l: blocks l+1.. from resid_post[l] + alpha * v, the add hook's arithmetic
  // (hooks.cpp, Add: x + v * alpha), one row per setting.
  const int64_t chunk = max_rows > 0 ? max_rows : static_cast<int64_t>(settings.size());
  for (const auto& [l, js] : by_layer) {
    const auto& calls = h.get_calls(name(l));
    for (size_t start = 0; start < js.size(); start += static_cast<size_t>(chunk)) {
      const size_t end = std::min(js.size(), start + static_cast<size_t>(chunk));
      const int64_t b = static_cast<int64_t>(end - start);
      std::vector<at::Tensor> rows;
      for (size_t q = start; q < end; ++q) {
        const SteerSetting& st = settings[js[q]];
        rows.push_back(st.vec.to(dev, m.dtype()) * st.alpha);
      }
      const at::Tensor add = at::stack(rows).unsqueeze(1);  // [b, 1, D]
      KVCache sc;
      ForwardOptions so;
      so.cache = &sc;
      so.logits = LogitsMode::Last;
      so.start_at_layer = l + 1;
      so.resid_in = calls.at(0) + add;                      // [b, T, D]
      const at::Tensor logits = forward(m, tokens.expand({b, tokens.size(1)}), at::Tensor(), so);
      at::Tensor slps;
      if (cont.T > 0) {
        sc.select_rows(at::arange(b, at::kLong).repeat_interleave(K));
        so.logits = LogitsMode::All;
        so.resid_in = calls.at(1).repeat({b, 1, 1}) + add.repeat_interleave(K, 0);
        slps = at::log_softmax(forward(m, cont.tok.repeat({b, 1}), cont.mask.repeat({b, 1}), so).to(at::kFloat), -1).cpu();
      }
      for (int64_t r = 0; r < b; ++r)
        out[js[start + static_cast<size_t>(r)] + 1] =
            score_from(item, next_logprobs_of(logits[r]), slps.defined() ? slps.narrow(0, r * K, K) : at::Tensor(), lp);
    }
  }
  return out;
}

std::string extract_final_number(const std::string& text) {
  auto numbers_in = [](const std::string& t) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < t.size()) {
      const bool sign = t[i] == '-' && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i + 1]));
      if (std::isdigit(static_cast<unsigned char>(t[i])) || sign) {
        std::string num(1, t[i++]);
        while (i < t.size()) {
          const char c = t[i];
          const bool digit_next = i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i + 1]));
          if (std::isdigit(static_cast<unsigned char>(c))) num += c;
          else if (c == ',' && digit_next) {}  // thousands separator
          else if (c == '.' && digit_next) num += c;
          else break;
          ++i;
        }
        out.push_back(num);
      } else {
        ++i;
      }
    }
    return out;
  };
  const size_t mark = text.find("####");
  if (mark != std::string::npos) {
    auto after = numbers_in(text.substr(mark + 4));
    if (!after.empty()) return after.front();
  }
  auto all = numbers_in(text);
  return all.empty() ? std::string() : all.back();
}

bool same_number(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  return std::fabs(std::strtod(a.c_str(), nullptr) - std::strtod(b.c_str(), nullptr)) < 1e-9;
}

}  // namespace rs::steer
