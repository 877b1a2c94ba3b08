// Generation loop: prefill the (left-padded) batch once, then one token per row per step with
// the KV cache (or a full recompute when use_cache is off).
#include "model/generate.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace rs {

// ---------------------------------------------------------------- text streaming

size_t utf8_complete_prefix(const std::string& s, size_t n) {
  // Look back at most 3 bytes for the lead byte of the last character (RFC 3629 section 3:
  // 0xxxxxxx = 1 byte, 110xxxxx = 2, 1110xxxx = 3, 11110xxx = 4; 10xxxxxx = continuation).
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 1;
    if ((c & 0xE0) == 0xC0) need = 2;
    else if ((c & 0xF0) == 0xE0) need = 3;
    else if ((c & 0xF8) == 0xF0) need = 4;
    return back < need ? n - back : n;  // lead byte with too few continuations: hold it back
  }
  return n;  // only stray continuation bytes: invalid UTF-8, nothing to wait for
}

TextStream::TextStream(std::vector<std::string> stop_strings) : stops_(std::move(stop_strings)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
  for (const auto& s : stops_) max_stop_ = std::max(max_stop_, s.size());
}

std::string TextStream::push(const std::string& bytes) {
  if (stopped_) return {};
  text_ += bytes;
  // A stop string can only start in the held-back tail or the new bytes.
  const size_t from = emitted_;
  size_t cut = std::string::npos;
  for (const auto& s : stops_) {
    const size_t at = text_.find(s, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    text_.resize(cut);
    stopped_ = true;
    std::string out = text_.substr(emitted_);
    emitted_ = text_.size();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, text_.size() - emitted_); len > hold; --len) {
      if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  size_t safe = utf8_complete_prefix(text_, text_.size() - hold);
  if (safe <= emitted_) return {};
  std::string out = text_.substr(emitted_, safe - emitted_);
  emitted_ = safe;
  return out;
}

std::string TextStream::finish() {
  std::string out = text_.substr(emitted_);
  emitted_ = text_.size();
  return out;
}

// ---------------------------------------------------------------- checks

void check_prompt_fits(const ModelConfig& cfg, size_t n_tokens, const std::string& what,
                       int64_t extra_tokens) {
  if (n_tokens == 0)
    fail(what, ": empty prompt (0 tokens); give at least one token of text");
  const int64_t need = static_cast<int64_t>(n_tokens) + extra_tokens;
  if (cfg.n_ctx_train > 0 && need > cfg.n_ctx_train)
    fail_as(ExitCode::kTooLong, what, ": ", n_tokens, " tokens", extra_tokens ? str(" + ", extra_tokens, " more") : "",
         " exceed the model's context of ", cfg.n_ctx_train, " tokens (", cfg.source, ")");
}

// ---------------------------------------------------------------- one sequence

SequenceTracker::SequenceTracker(const ModelConfig& cfg, const tok::Tokenizer* tokenizer,
                                 std::vector<int64_t> prompt, const GenerateOptions& opts)
    : tok_(tokenizer),
      stop_ids_(opts.stop_ids),
      caller_stop_ids_(opts.stop_ids),
      max_new_tokens_(opts.max_new_tokens),
      n_ctx_(cfg.n_ctx_train),
      stream_(opts.stop_strings) {
  if (opts.stop_at_eos && tokenizer) {
    if (tokenizer->eos_id() >= 0) stop_ids_.push_back(tokenizer->eos_id());
    if (tokenizer->eot_id() >= 0) stop_ids_.push_back(tokenizer->eot_id());
  }
  gen_.prompt = std::move(prompt);
  if (max_new_tokens_ <= 0) end("max_new_tokens");
}

std::string SequenceTracker::end(const std::string& reason, int64_t token) {
  if (done()) return {};
  gen_.stop_reason = reason;
  gen_.stop_token = token;
  if (!tok_) return {};
  std::string rest = stream_.finish();
  gen_.text = stream_.text();
  return rest;
}

SequenceTracker::Pushed SequenceTracker::push(int64_t id) {
  Pushed out;
  if (done()) return out;
  auto has = [](const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  if (has(stop_ids_, id)) {
    const bool is_eos = tok_ && (id == tok_->eos_id() || id == tok_->eot_id()) && !has(caller_stop_ids_, id);
    out.text = end(is_eos ? "eos" : "stop_id", id);
    return out;
  }
  out.kept = true;
  gen_.tokens.push_back(id);
  if (tok_) {
    out.text = stream_.push(tok_->token_text(static_cast<int32_t>(id)));
    if (stream_.stopped()) {
      out.text += end("stop_string");
      return out;
    }
  }
  if (static_cast<int64_t>(gen_.tokens.size()) >= max_new_tokens_)
    out.text += end("max_new_tokens");
  else if (n_ctx_ > 0 && static_cast<int64_t>(gen_.prompt.size() + gen_.tokens.size()) >= n_ctx_)
    out.text += end("context");
  return out;
}

// ---------------------------------------------------------------- generation

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Last-position logits [B, V] for the full sequences (no cache): rebuilds the padded batch.
at::Tensor recompute_last(const Model& m, const std::vector<std::vector<int64_t>>& seqs,
                          int64_t pad_id, Hooks* hooks) {
  Batch b = make_batch(seqs, pad_id, m.device());
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  fo.hooks = hooks;
  return forward(m, b.tokens, b.mask, fo).select(1, 0);
}

}  // namespace

std::vector<Generation> generate(const Model& m, const tok::Tokenizer* tokenizer,
                                 const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerateOptions& opts, GenerateStats* stats) {
  const ModelConfig& cfg = m.config;
  if (prompts.empty()) fail("generate: no prompts given");
  if (opts.max_new_tokens < 0) fail("generate: max_new_tokens must be >= 0, got ", opts.max_new_tokens);
  if (!tokenizer && (!opts.stop_strings.empty() || opts.on_text))
    fail("generate: stop strings and text streaming need a tokenizer");
  opts.sampling.validate();
  for (size_t r = 0; r < prompts.size(); ++r) {
    const std::string what = prompts.size() == 1 ? std::string("prompt") : str("prompt ", r);
    check_prompt_fits(cfg, prompts[r].size(), what);
    for (int64_t id : prompts[r])
      if (id < 0 || id >= cfg.n_vocab)
        fail(what, ": token id ", id, " is outside the vocabulary [0, ", cfg.n_vocab, ")");
  }

  int64_t pad_id = opts.pad_id;
  if (pad_id < 0 && tokenizer) pad_id = tokenizer->pad_id() >= 0 ? tokenizer->pad_id() : tokenizer->eos_id();
  if (pad_id < 0) pad_id = 0;

  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<SequenceTracker> rows;
  rows.reserve(static_cast<size_t>(B));
  for (int64_t r = 0; r < B; ++r) rows.emplace_back(cfg, tokenizer, prompts[r], opts);
  auto n_done = [&] {
    return static_cast<int64_t>(std::count_if(rows.begin(), rows.end(), [](const SequenceTracker& t) { return t.done(); }));
  };
  auto emit = [&](int64_t r, const std::string& text) {
    if (opts.on_text && !text.empty()) opts.on_text(r, text);
  };

  GenerateStats st;
  for (const auto& p : prompts) st.prompt_tokens += static_cast<int64_t>(p.size());
  at::NoGradGuard no_grad;
  Sampler sampler(opts.sampling);

  // Full sequences (prompt + generated) for the no-cache mode and the context check.
  std::vector<std::vector<int64_t>> seqs = prompts;
  KVCache cache;
  // Allocate the cache once for the whole generation (prompt + new tokens, within the context).
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  cache.reserve = static_cast<int64_t>(longest) + opts.max_new_tokens;
  if (cfg.n_ctx_train > 0) cache.reserve = std::min(cache.reserve, cfg.n_ctx_train);
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  fo.hooks = opts.hooks;
  if (opts.use_cache) fo.cache = &cache;

  at::Tensor logits;  // [B, V] for the next token
  if (n_done() < B) {
    const auto t0 = Clock::now();
    if (opts.use_cache) {
      Batch b = make_batch(prompts, pad_id, m.device());
      logits = forward(m, b.tokens, b.mask, fo).select(1, 0);
    } else {
      logits = recompute_last(m, seqs, pad_id, opts.hooks);
    }
    st.prefill_seconds = seconds_since(t0);
  }

  const auto t_decode = Clock::now();
  for (int64_t step = 0; n_done() < B; ++step) {
    if (opts.cancel && opts.cancel()) {
      for (int64_t r = 0; r < B; ++r) emit(r, rows[r].end("cancelled"));
      break;
    }
    if (opts.on_logits) opts.on_logits(logits);
    at::Tensor next = sampler.sample(logits);  // [B] int64 CPU
    const int64_t* nx = next.data_ptr<int64_t>();
    for (int64_t r = 0; r < B; ++r) {
      if (rows[r].done()) continue;
      const int64_t id = nx[r];
      ++st.generated_tokens;
      const SequenceTracker::Pushed p = rows[r].push(id);
      if (p.kept) {
        seqs[r].push_back(id);
        if (opts.on_token) opts.on_token(r, id);
      }
      emit(r, p.text);
    }
    if (n_done() == B) break;
    // Finished rows keep stepping with a pad token (their outputs are ignored) so the batch,
    // the cache and any per-row intervention tensors keep their shapes.
    std::vector<int64_t> feed(B);
    for (int64_t r = 0; r < B; ++r) feed[r] = rows[r].done() ? pad_id : nx[r];
    const auto t_step = Clock::now();
    if (opts.use_cache) {
      at::Tensor step_tokens = at::tensor(feed, at::kLong).view({B, 1}).to(m.device());
      logits = forward(m, step_tokens, at::Tensor(), fo).select(1, 0);
    } else {
      // Finished rows are recomputed unchanged (left padding absorbs the length difference).
      logits = recompute_last(m, seqs, pad_id, opts.hooks);
    }
    st.forward_seconds += seconds_since(t_step);
    ++st.steps;
  }
  st.decode_seconds = seconds_since(t_decode);
  if (stats) *stats = st;
  std::vector<Generation> out;
  for (const SequenceTracker& t : rows) out.push_back(t.generation());
  return out;
}

}  // namespace rs
