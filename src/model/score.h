// Log-probability scoring: how likely a continuation is given a prefix, and the perplexity of a
// text (exp of the mean negative log-likelihood per predicted token, Jelinek et al. 1977).
//
//   rs::ContinuationScore s = rs::score_continuation(model, prefix_ids, continuation_ids);
//   s.token_logprobs[i] = log p(continuation[i] | prefix, continuation[< i]);  s.sum_logprob
//   rs::PerplexityResult p = rs::perplexity(model, text_ids);   // p.perplexity
//
// Log-probabilities are natural logs: a log-softmax of the f32 logits, summed in double. Hooks
// passed here are active in every forward call (e.g. score a text while steering).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace rs {

struct ContinuationScore {
  std::vector<double> token_logprobs;  // one per continuation token
  std::vector<int64_t> greedy;         // argmax prediction at each continuation position
  double sum_logprob = 0.0;
  int64_t n_tokens = 0;
  int64_t n_greedy_correct = 0;        // continuation tokens equal to the argmax
  double mean_logprob() const { return n_tokens ? sum_logprob / n_tokens : 0.0; }
};

// prefix must not be empty (the first continuation token needs something to condition on:
// prepend BOS for an unconditional score); continuation must not be empty.
ContinuationScore score_continuation(const Model& m, const std::vector<int64_t>& prefix,
                                     const std::vector<int64_t>& continuation,
                                     Hooks* hooks = nullptr);

// Several (prefix, continuation) pairs in left-padded batches of at most batch_size rows;
// each result equals score_continuation on that pair alone (padding is masked out).
std::vector<ContinuationScore> score_continuations(
    const Model& m, const std::vector<std::vector<int64_t>>& prefixes,
    const std::vector<std::vector<int64_t>>& continuations, int64_t batch_size = 8,
    Hooks* hooks = nullptr);

struct PerplexityOptions {
  // Longest context one forward sees; 0 -> the model's n_ctx_train (capped at 2048 so the
  // logits of one window stay small). Texts longer than the window are scored in windows.
  int64_t window = 0;
  // Start of each window after the previous one; 0 -> window / 2. Every token after the first
  // is predicted exactly once, from the window that first reaches it, with at least
  // window - stride tokens of context (except in the first window).
  int64_t stride = 0;
  // Tokens fed per forward inside a window (the KV cache carries the rest); bounds the logits
  // buffer to chunk x vocab floats.
  int64_t chunk = 512;
  Hooks* hooks = nullptr;
};

struct PerplexityResult {
  std::vector<double> token_logprobs;  // [n - 1]: log p(tokens[i + 1] | context)
  double nll_sum = 0.0;
  int64_t n_predicted = 0;
  int64_t n_windows = 0;
  double mean_nll() const { return n_predicted ? nll_sum / n_predicted : 0.0; }
  double perplexity() const;   // exp(mean_nll)
};

// tokens: at least 2. Throws rs::Error otherwise or for a bad window/stride.
PerplexityResult perplexity(const Model& m, const std::vector<int64_t>& tokens,
                            const PerplexityOptions& opts = {});

}  // namespace rs
