// Scoring by log-softmax of the logits at the positions that predict the scored tokens.
#include "model/score.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace rs {

namespace {

void check_ids(const ModelConfig& cfg, const std::vector<int64_t>& ids, const char* what) {
  for (int64_t id : ids)
    if (id < 0 || id >= cfg.n_vocab)
      fail("score: ", what, " token id ", id, " is outside the vocabulary [0, ", cfg.n_vocab, ")");
}

// Row logits [n, V] predicting targets [n] -> per-token log-probs and argmax.
void gather_scores(const at::Tensor& logits, const std::vector<int64_t>& targets,
                   std::vector<double>& logprobs, std::vector<int64_t>* greedy) {
  at::Tensor lp = at::log_softmax(logits.to(at::kFloat), -1);
  at::Tensor idx = at::tensor(targets, at::kLong).to(lp.device()).view({-1, 1});
  at::Tensor picked = lp.gather(1, idx).view({-1}).to(at::kCPU, at::kDouble).contiguous();
  const double* p = picked.data_ptr<double>();
  logprobs.insert(logprobs.end(), p, p + picked.numel());
  if (greedy) {
    at::Tensor am = lp.argmax(-1).to(at::kCPU).contiguous();
    greedy->insert(greedy->end(), am.data_ptr<int64_t>(), am.data_ptr<int64_t>() + am.numel());
  }
}

}  // namespace

ContinuationScore score_continuation(const Model& m, const std::vector<int64_t>& prefix,
                                     const std::vector<int64_t>& continuation, Hooks* hooks) {
  return score_continuations(m, {prefix}, {continuation}, 1, hooks).at(0);
}

std::vector<ContinuationScore> score_continuations(
    const Model& m, const std::vector<std::vector<int64_t>>& prefixes,
    const std::vector<std::vector<int64_t>>& continuations, int64_t batch_size, Hooks* hooks) {
  const ModelConfig& cfg = m.config;
  if (prefixes.size() != continuations.size())
    fail("score: ", prefixes.size(), " prefixes but ", continuations.size(), " continuations");
  if (batch_size < 1) fail("score: batch size must be >= 1, got ", batch_size);
  std::vector<std::vector<int64_t>> seqs(prefixes.size());
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (prefixes[i].empty())
      fail("score: row ", i, ": empty prefix (the first continuation token needs context; "
           "prepend the BOS token for an unconditional score)");
    if (continuations[i].empty()) fail("score: row ", i, ": empty continuation");
    check_ids(cfg, prefixes[i], "prefix");
    check_ids(cfg, continuations[i], "continuation");
    seqs[i] = prefixes[i];
    seqs[i].insert(seqs[i].end(), continuations[i].begin(), continuations[i].end());
    if (cfg.n_ctx_train > 0 && static_cast<int64_t>(seqs[i].size()) > cfg.n_ctx_train)
      fail_as(ExitCode::kTooLong, "score: row ", i, ": ", seqs[i].size(), " tokens exceed the model's context of ",
           cfg.n_ctx_train, " tokens");
  }
  at::NoGradGuard no_grad;
  std::vector<ContinuationScore> out(seqs.size());
  for (size_t b0 = 0; b0 < seqs.size(); b0 += static_cast<size_t>(batch_size)) {
    const size_t b1 = std::min(seqs.size(), b0 + static_cast<size_t>(batch_size));
    std::vector<std::vector<int64_t>> chunk(seqs.begin() + b0, seqs.begin() + b1);
    // Left padding: every row ends in the last column, so row r's continuation occupies the
    // last n_cont columns and is predicted by the n_cont columns before the last one.
    Batch batch = make_batch(chunk, /*pad_id=*/0, m.device());
    ForwardOptions fo;
    fo.logits = LogitsMode::All;
    fo.hooks = hooks;
    at::Tensor logits = forward(m, batch.tokens, batch.mask, fo);  // [B, T, V]
    const int64_t T = logits.size(1);
    for (size_t r = b0; r < b1; ++r) {
      const auto& cont = continuations[r];
      const int64_t n = static_cast<int64_t>(cont.size());
      at::Tensor rows = logits[static_cast<int64_t>(r - b0)].narrow(0, T - n - 1, n);  // [n, V]
      ContinuationScore& s = out[r];
      gather_scores(rows, cont, s.token_logprobs, &s.greedy);
      s.n_tokens = n;
      for (int64_t i = 0; i < n; ++i) {
        s.sum_logprob += s.token_logprobs[i];
        s.n_greedy_correct += s.greedy[i] == cont[i];
      }
    }
  }
  return out;
}

double PerplexityResult::perplexity() const { return std::exp(mean_nll()); }

PerplexityResult perplexity(const Model& m, const std::vector<int64_t>& tokens,
                            const PerplexityOptions& opts) {
  const ModelConfig& cfg = m.config;
  const int64_t N = static_cast<int64_t>(tokens.size());
  if (N < 2) fail("perplexity: need at least 2 tokens (the first is only context), got ", N);
  check_ids(cfg, tokens, "text");
  int64_t W = opts.window;
  if (W <= 0) W = cfg.n_ctx_train > 0 ? std::min<int64_t>(cfg.n_ctx_train, 2048) : 2048;
  if (cfg.n_ctx_train > 0 && W > cfg.n_ctx_train)
    fail_as(ExitCode::kUsage, "perplexity: window of ", W, " tokens exceeds the model's context of ", cfg.n_ctx_train);
  if (W < 2) fail("perplexity: window must be >= 2 tokens, got ", W);
  const int64_t S = opts.stride > 0 ? opts.stride : std::max<int64_t>(1, W / 2);
  if (S > W - 1) fail("perplexity: stride ", S, " must be < window ", W, " (windows must overlap)");
  const int64_t C = std::max<int64_t>(1, opts.chunk);

  at::NoGradGuard no_grad;
  PerplexityResult res;
  int64_t next_target = 1;  // tokens[0] is never predicted
  for (int64_t begin = 0;; begin += S) {
    const int64_t end = std::min(begin + W, N);
    KVCache cache;
    // Absolute positions [c0, c1) fed per forward; column j predicts tokens[c0 + j + 1].
    for (int64_t c0 = begin; c0 < end; c0 += C) {
      const int64_t c1 = std::min(c0 + C, end);
      std::vector<int64_t> piece(tokens.begin() + c0, tokens.begin() + c1);
      at::Tensor t = at::tensor(piece, at::kLong).view({1, -1}).to(m.device());
      ForwardOptions fo;
      fo.cache = &cache;
      fo.hooks = opts.hooks;
      // Columns predicting tokens [max(next_target, c0 + 1), c1); none -> skip the logits.
      const int64_t first = std::max(next_target, c0 + 1);
      const int64_t last = (c1 < end) ? c1 + 1 : end;  // exclusive; token c1 is predicted here too
      const int64_t n_targets = std::max<int64_t>(0, std::min(last, end) - first);
      fo.logits = n_targets > 0 ? LogitsMode::All : LogitsMode::None;
      at::Tensor out = forward(m, t, at::Tensor(), fo);
      if (n_targets == 0) continue;
      at::Tensor rows = out[0].narrow(0, first - 1 - c0, n_targets);  // [n, V]
      std::vector<int64_t> targets(tokens.begin() + first, tokens.begin() + first + n_targets);
      gather_scores(rows, targets, res.token_logprobs, nullptr);
      next_target = first + n_targets;
    }
    ++res.n_windows;
    if (end == N) break;
  }
  if (static_cast<int64_t>(res.token_logprobs.size()) != N - 1)
    fail("perplexity: internal error: scored ", res.token_logprobs.size(), " of ", N - 1, " tokens");
  for (double lp : res.token_logprobs) res.nll_sum -= lp;
  res.n_predicted = N - 1;
  return res;
}

}  // namespace rs
