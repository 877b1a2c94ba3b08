// QK-score scan on a model (qk_runner.h): batched forwards with two gathering hooks per layer.
#include "methods/qk/qk_runner.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "hooks/hooks.h"
#include "methods/qk/qk_score.h"
#include "model/layers.h"

namespace rs::qk {

namespace {

// cache: the batch's prompts, left-padded as forwarded (only when the logits were asked for)
using BatchFn = std::function<void(const std::vector<size_t>& rows, const at::Tensor& q,
                                   const at::Tensor& k, const at::Tensor& logits, const KVCache& cache)>;

void check_prompts(const Model& m, const std::vector<Prompt>& prompts) {
  if (prompts.empty()) fail("qk scan: no prompts");
  const size_t O = prompts[0].key_pos.size();
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Prompt& p = prompts[i];
    if (p.key_pos.size() != O)
      fail("qk scan: prompt ", i, " has ", p.key_pos.size(), " options, prompt 0 has ", O,
           "; one run needs one option count");
    if (p.ids.empty()) fail("qk scan: prompt ", i, " is empty");
    if (m.config.n_ctx_train > 0 && static_cast<int64_t>(p.fed_tokens()) > m.config.n_ctx_train)
      fail_as(ExitCode::kTooLong, "qk scan: prompt ", i, " has ", p.ids.size(), " tokens and an answer of ",
              p.fed_tokens() - p.ids.size() + 1, ", more than the model's context of ", m.config.n_ctx_train);
    for (int64_t k : p.key_pos)
      if (k < 0 || k >= static_cast<int64_t>(p.ids.size()) - 1)
        fail("qk scan: prompt ", i, ": option token at ", k, " is not before the last token (",
             p.ids.size() - 1, ")");
  }
}

// Forward the prompts in batches of similar length; per batch hand q [B, L, H, dh],
// k [B, L, O, Hkv, dh] (on the model's device) and the last-position logits [B, V] to fn.
void run_batches(const Model& m, const std::vector<Prompt>& prompts, const ScanOptions& o,
                 const BatchFn& fn) {
  check_prompts(m, prompts);
  if (o.batch_size < 1) fail("qk scan: batch size must be >= 1, got ", o.batch_size);
  const ModelConfig& c = m.config;
  const int64_t L = c.n_layer, O = static_cast<int64_t>(prompts[0].key_pos.size());
  // Longest first, stable: deterministic batches, so the same prompts give the same bits.
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return prompts[a].ids.size() > prompts[b].ids.size();
  });
  const char* q_hook = o.post_rope ? "attn.hook_rot_q" : "attn.hook_q";
  const char* k_hook = o.post_rope ? "attn.hook_rot_k" : "attn.hook_k";
  // Gemma 3 normalises each q and k head before RoPE (forward.cpp), after hook_q / hook_k;
  // the pre-RoPE score must use the vectors the attention uses, so the same norm is applied
  // here to the gathered rows (RMSNorm acts on each head vector alone, so gathering first is
  // exact). Post-RoPE hooks already see the normed vectors.
  const bool apply_qk_norm = c.qk_norm && !o.post_rope;
  auto qk_norm = [&c, apply_qk_norm](const at::Tensor& x, const at::Tensor& w) {
    return apply_qk_norm ? layers::rms_norm(x, w, c.rms_eps, c.norm_weight_plus_one) : x;
  };
  at::NoGradGuard no_grad;
  size_t done = 0;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(o.batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(o.batch_size));
    const std::vector<size_t> rows(order.begin() + static_cast<std::ptrdiff_t>(start),
                                   order.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<std::vector<int64_t>> seqs;
    for (size_t r : rows) seqs.push_back(prompts[r].ids);
    const Batch b = make_batch(seqs, o.pad_id, m.device());
    const int64_t B = b.tokens.size(0), T = b.tokens.size(1);
    // Left padding: position p of row i sits in column (T - length_i) + p.
    std::vector<int64_t> cols;
    for (size_t i = 0; i < rows.size(); ++i)
      for (int64_t kp : prompts[rows[i]].key_pos) cols.push_back(T - b.lengths[i] + kp);
    const at::Tensor key_cols = at::tensor(cols, at::kLong).to(m.device()).view({B, O, 1, 1});

    std::vector<at::Tensor> qs(static_cast<size_t>(L)), ks(static_cast<size_t>(L));
    Hooks h(c);
    for (int l = 0; l < L; ++l) {
      const std::string blk = "blocks." + std::to_string(l) + ".";
      // q at the last column (every row's last token): [B, H, dh], copied out of the fused buffer
      const LayerWeights& w = m.layers[static_cast<size_t>(l)];
      h.custom(blk + q_hook, [&qs, &qk_norm, &w, l, T](const at::Tensor& x, const HookContext&) {
        qs[static_cast<size_t>(l)] = qk_norm(x.select(1, T - 1).clone(), w.q_norm);
        return x;
      });
      // k at each row's option columns: [B, T, Hkv, dh] -> [B, O, Hkv, dh]
      h.custom(blk + k_hook, [&ks, &key_cols, &qk_norm, &w, l](const at::Tensor& x, const HookContext&) {
        ks[static_cast<size_t>(l)] = qk_norm(
            at::gather(x, 1, key_cols.expand({x.size(0), key_cols.size(1), x.size(2), x.size(3)})), w.k_norm);
        return x;
      });
    }
    ForwardOptions fo;
    fo.logits = LogitsMode::Last;
    fo.hooks = &h;
    KVCache cache;
    if (o.logits) fo.cache = &cache;
    else fo.stop_after_layer = static_cast<int64_t>(L) - 1;  // skip the unembedding
    const at::Tensor out = forward(m, b.tokens, b.mask, fo);
    const at::Tensor logits = o.logits ? out.select(1, 0) : at::Tensor();
    fn(rows, at::stack(qs, 1), at::stack(ks, 1), logits, cache);
    done += rows.size();
    if (o.on_batch) o.on_batch(done);
  }
}

// [B, V] logits -> [B, O] log-probs of each slot's first answer token (f64 CPU)
at::Tensor first_token_logprobs(const at::Tensor& logits, const std::vector<Prompt>& prompts,
                                const std::vector<size_t>& rows) {
  std::vector<int64_t> first;
  for (size_t r : rows)
    for (const auto& a : prompts[r].answer_ids) first.push_back(a.at(0));
  const int64_t B = static_cast<int64_t>(rows.size());
  const at::Tensor idx = at::tensor(first, at::kLong).to(logits.device()).view({B, -1});
  return at::log_softmax(logits.to(at::kFloat), -1).gather(1, idx).to(at::kCPU, at::kDouble);
}

// [B, O] f64 CPU: log p(answer tokens 2..n of slot j | prompt, the tokens before), 0 for a
// one-token answer. Per slot, the rows with longer answers continue from a copy of their
// prompts' cache: their tokens 1..n-1 are fed, left-padded, and only those columns are
// unembedded. Scoring prompt + answer from scratch instead cost a second forward of every
// prompt per option and the unembedding at every prompt position, several times the scan
// itself (151,936 vocabulary rows on Qwen2.5).
at::Tensor later_token_logprobs(const Model& m, const KVCache& cache, const std::vector<Prompt>& prompts,
                                const std::vector<size_t>& rows, int64_t pad_id) {
  const int64_t B = static_cast<int64_t>(rows.size());
  const size_t O = prompts[rows[0]].answer_ids.size();
  at::Tensor out = at::zeros({B, static_cast<int64_t>(O)}, at::kDouble);
  for (size_t j = 0; j < O; ++j) {
    std::vector<int64_t> sel;
    std::vector<std::vector<int64_t>> fed;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::vector<int64_t>& a = prompts[rows[i]].answer_ids[j];
      if (a.size() < 2) continue;
      sel.push_back(static_cast<int64_t>(i));
      fed.emplace_back(a.begin(), a.end() - 1);
    }
    if (sel.empty()) continue;
    KVCache c = cache;  // select_rows makes new tensors: the batch's cache stays as it is
    c.select_rows(at::tensor(sel, at::kLong));
    // Left padding here sits between the prompt and the answer; the mask keeps it out of every
    // attention and out of the position count, so each row computes what it computes alone.
    const Batch b = make_batch(fed, pad_id, m.device());
    ForwardOptions fo;
    fo.logits = LogitsMode::All;
    fo.cache = &c;
    const at::Tensor lp = at::log_softmax(forward(m, b.tokens, b.mask, fo).to(at::kFloat), -1);  // [B', T, V]
    const int64_t T = b.tokens.size(1);
    for (size_t s = 0; s < sel.size(); ++s) {
      const std::vector<int64_t>& a = prompts[rows[static_cast<size_t>(sel[s])]].answer_ids[j];
      const int64_t n = static_cast<int64_t>(a.size()) - 1;  // columns T-n .. T-1 predict a[1..n]
      const at::Tensor idx = at::tensor(std::vector<int64_t>(a.begin() + 1, a.end()), at::kLong).to(lp.device());
      const at::Tensor picked = lp[static_cast<int64_t>(s)].narrow(0, T - n, n).gather(1, idx.view({-1, 1}));
      out[sel[s]][static_cast<int64_t>(j)] = picked.to(at::kCPU, at::kDouble).sum().item<double>();
    }
  }
  return out;
}

}  // namespace

ScanResult scan(const Model& m, const std::vector<Prompt>& prompts, const ScanOptions& o) {
  const ModelConfig& c = m.config;
  ScanResult r;
  const int64_t P = static_cast<int64_t>(prompts.size());
  const int64_t O = prompts.empty() ? 0 : static_cast<int64_t>(prompts[0].key_pos.size());
  r.scores = at::empty({P, c.n_layer, c.n_head, O}, at::kFloat);
  if (o.logits) {
    r.first_token_lp = at::empty({P, O}, at::kDouble);
    r.seq_lp = at::empty({P, O}, at::kDouble);
  }
  run_batches(m, prompts, o, [&](const std::vector<size_t>& rows, const at::Tensor& q, const at::Tensor& k,
                                 const at::Tensor& logits, const KVCache& cache) {
    const at::Tensor idx = at::tensor(std::vector<int64_t>(rows.begin(), rows.end()), at::kLong);
    r.scores.index_copy_(0, idx, qk_scores(q, k).to(at::kCPU));
    if (!o.logits) return;
    const at::Tensor first = first_token_logprobs(logits, prompts, rows);
    r.first_token_lp.index_copy_(0, idx, first);
    r.seq_lp.index_copy_(0, idx, first + later_token_logprobs(m, cache, prompts, rows, o.pad_id));
  });
  return r;
}

Captured capture_qk(const Model& m, const std::vector<Prompt>& prompts, const ScanOptions& o) {
  const ModelConfig& c = m.config;
  const int64_t P = static_cast<int64_t>(prompts.size());
  const int64_t O = prompts.empty() ? 0 : static_cast<int64_t>(prompts[0].key_pos.size());
  Captured out;
  out.q = at::empty({P, c.n_layer, c.n_head, c.d_head}, at::kFloat);
  out.k = at::empty({P, c.n_layer, O, c.n_head_kv, c.d_head}, at::kFloat);
  ScanOptions so = o;
  so.logits = false;
  run_batches(m, prompts, so, [&](const std::vector<size_t>& rows, const at::Tensor& q, const at::Tensor& k,
                                  const at::Tensor&, const KVCache&) {
    const at::Tensor idx = at::tensor(std::vector<int64_t>(rows.begin(), rows.end()), at::kLong);
    out.q.index_copy_(0, idx, q.to(at::kCPU, at::kFloat));
    out.k.index_copy_(0, idx, k.to(at::kCPU, at::kFloat));
  });
  return out;
}

}  // namespace rs::qk
