// Scoring under steering (see eval.h).
#include "methods/steer/eval.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
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

ItemScore score_mc_item(const Model& m, const McItem& item, Hooks* hooks,
                        const at::Tensor& ref_logprobs, at::Tensor* next_logprobs) {
  const int64_t K = static_cast<int64_t>(item.candidates.size());
  if (item.prompt.empty()) fail(item.id, ": empty prompt");
  if (K < 2) fail(item.id, ": needs at least 2 candidates, has ", K);
  if (item.correct < 0 || item.correct >= K) fail(item.id, ": correct index out of range");
  for (const auto& c : item.candidates)
    if (c.empty()) fail(item.id, ": a candidate has no tokens");
  at::NoGradGuard no_grad;
  const auto dev = m.device();

  // Prompt once, keeping the cache for the candidates.
  KVCache cache;
  ForwardOptions fo;
  fo.hooks = hooks;
  fo.cache = &cache;
  fo.logits = LogitsMode::Last;
  at::Tensor tokens = at::tensor(item.prompt, at::kLong).view({1, -1}).to(dev);
  const at::Tensor lp = at::log_softmax(forward(m, tokens, at::Tensor(), fo).view({-1}).to(at::kFloat), 0).cpu();
  if (next_logprobs) *next_logprobs = lp;

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

  // Full sequences: log p(c_1 | prompt) + sum_j log p(c_j+1 | prompt, c_<=j). Candidates of more
  // than one token run as one left-padded batch on K copies of the prompt's cache.
  s.candidate_logprobs = first;
  size_t longest = 0;
  for (const auto& c : item.candidates) longest = std::max(longest, c.size());
  if (longest > 1) {
    const int64_t T = static_cast<int64_t>(longest) - 1;  // feed c_1 .. c_{n-1}
    at::Tensor tok = at::zeros({K, T}, at::kLong), mask = at::zeros({K, T}, at::kLong);
    for (int64_t k = 0; k < K; ++k) {
      const auto& c = item.candidates[k];
      const int64_t n = static_cast<int64_t>(c.size()) - 1, off = T - n;
      for (int64_t j = 0; j < n; ++j) {
        tok[k][off + j] = c[j];
        mask[k][off + j] = 1;
      }
    }
    cache.select_rows(at::zeros({K}, at::kLong));
    fo.logits = LogitsMode::All;
    const at::Tensor lps = at::log_softmax(forward(m, tok.to(dev), mask.to(dev), fo).to(at::kFloat), -1).cpu();
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
