// Text generation with the KV cache: batched prompts (left padding), greedy or sampled next
// tokens (model/sampling.h), stop on EOS/EOT ids, stop strings or a token budget, streaming of
// decoded text, and hooks/interventions active at every generated position.
//
//   rs::GenerateOptions o;  o.max_new_tokens = 32;  o.sampling.temperature = 0.7;
//   o.on_text = [](int64_t row, const std::string& s) { std::fputs(s.c_str(), stdout); };
//   auto out = rs::generate(model, &tokenizer, {tokenizer.encode("The capital of France is")}, o);
//   out[0].text, out[0].tokens, out[0].stop_reason
//
// This is the one decode loop: `reasonscope generate` calls it, and so should a server or a
// language binding, so that whatever speeds up a step here reaches every front end. Scoring
// (model/score.h) and this loop run the same rs::forward, which routes native weights to
// forward_native. A step costs the forward plus an argmax (greedy) or a partial sort of the
// surviving candidates (model/sampling.h); the KV cache is allocated once for prompt + new tokens.
//
// With use_cache = false every step recomputes the whole sequence (prompt + generated tokens)
// from scratch; it exists to check that the cache changes nothing (issue 3: "interventions give
// the same result with and without the cache"). Position ids are the same in both modes (the
// count of real tokens before each one), so a Positions::all() intervention touches the same
// positions either way.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/sampling.h"

namespace rs {
namespace tok {
class Tokenizer;
}

// Bytes of generated tokens -> text that is safe to show now. Holds back (1) an incomplete
// UTF-8 sequence at the end (a character split across tokens is shown whole, once its last
// byte arrives) and (2) a tail that could be the start of a stop string (so a stop string is
// never shown). Once a stop string appears the text is cut just before it.
class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {});
  std::string push(const std::string& bytes);  // returns the newly safe text (maybe empty)
  std::string finish();                        // everything still held back
  bool stopped() const { return stopped_; }
  const std::string& text() const { return text_; }  // all text so far, cut at a stop string

 private:
  std::vector<std::string> stops_;
  size_t max_stop_ = 0;
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
};

// Length of the longest prefix of s[0, n) that ends on a UTF-8 character boundary, i.e. n minus
// the bytes of a trailing, not yet complete multi-byte sequence (RFC 3629 lead-byte lengths).
size_t utf8_complete_prefix(const std::string& s, size_t n);

struct GenerateOptions {
  int64_t max_new_tokens = 128;
  SamplingOptions sampling;             // default: greedy
  bool stop_at_eos = true;              // the tokenizer's EOS and EOT ids end a sequence
  std::vector<int64_t> stop_ids;        // more ids that end a sequence
  std::vector<std::string> stop_strings;  // needs a tokenizer
  bool use_cache = true;                // false: recompute everything each step (checks)
  Hooks* hooks = nullptr;               // captures + interventions, every forward call
  int64_t pad_id = -1;                  // -1: tokenizer pad, else EOS, else 0
  // Streaming: called with each newly safe piece of text of a row (needs a tokenizer).
  std::function<void(int64_t row, const std::string& text)> on_text;
  // Called after every step with the new token of each still-running row.
  std::function<void(int64_t row, int64_t token)> on_token;
  // Called with the next-token logits [B, V] (before sampling) of every step; finished rows'
  // rows are there too and meaningless. A server reads log-probabilities here.
  std::function<void(const at::Tensor& logits)> on_logits;
  // Asked before every step; true ends every still-running row with stop_reason "cancelled"
  // (a client that went away, a server shutting down).
  std::function<bool()> cancel;
};

struct Generation {
  std::vector<int64_t> prompt;
  std::vector<int64_t> tokens;     // generated tokens, without a final stop id
  std::string text;                // decoded generated text, cut before a stop string
  std::string stop_reason;         // "eos", "stop_id", "stop_string", "max_new_tokens", "context",
                                   // "cancelled"
  int64_t stop_token = -1;         // the id that ended it (eos / stop_id), else -1
};

struct GenerateStats {
  int64_t prompt_tokens = 0;       // real (unpadded) prompt tokens
  int64_t generated_tokens = 0;    // tokens sampled, all rows
  int64_t steps = 0;               // decode forward calls
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;
  // The part of decode_seconds inside the single-token forwards; the rest is the loop's own
  // per-step work (sampling, stop checks, detokenising, streaming, callbacks). Issue 23: the
  // command against the bench's bare loop.
  double forward_seconds = 0.0;
};

// One sequence's end conditions and text in a decode loop, shared by rs::generate and the
// server's batched loop (serve/server.cpp): stop ids (the tokenizer's EOS and EOT when
// opts.stop_at_eos, plus opts.stop_ids), stop strings (TextStream), opts.max_new_tokens and the
// model's context. The caller samples; push() takes each sampled id.
class SequenceTracker {
 public:
  // tokenizer may be null: no text, no stop strings, no EOS/EOT defaults.
  SequenceTracker(const ModelConfig& cfg, const tok::Tokenizer* tokenizer, std::vector<int64_t> prompt,
                  const GenerateOptions& opts);
  struct Pushed {
    bool kept = false;  // the id is part of the output (false: a stop id, or already done)
    std::string text;   // text newly safe to show, with what an ending released
  };
  Pushed push(int64_t id);
  // Ends the sequence now ("cancelled", "max_new_tokens"); returns the text held back until now.
  std::string end(const std::string& reason, int64_t token = -1);
  bool done() const { return !gen_.stop_reason.empty(); }
  const Generation& generation() const { return gen_; }

 private:
  const tok::Tokenizer* tok_;
  std::vector<int64_t> stop_ids_, caller_stop_ids_;
  int64_t max_new_tokens_, n_ctx_;
  TextStream stream_;
  Generation gen_;
};

// prompts: token ids per row (not empty, each shorter than the model's context). tokenizer may
// be null when no text, stop strings or EOS defaults are needed. Throws rs::Error for an empty
// prompt, a prompt longer than the context, stop strings without a tokenizer.
std::vector<Generation> generate(const Model& m, const tok::Tokenizer* tokenizer,
                                 const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerateOptions& opts, GenerateStats* stats = nullptr);

// Checks every generation entry point shares: not empty, fits the context (n_ctx_train, when
// the config knows it). `what` names the input in the message ("prompt 3", "row 12").
void check_prompt_fits(const ModelConfig& cfg, size_t n_tokens, const std::string& what,
                       int64_t extra_tokens = 0);

}  // namespace rs
