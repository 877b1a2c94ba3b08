// Saved QK heads (heads.json) applied to one question given as text, as `reasonscope serve` does
// for "verify": ["qk"]: read the text back into a row of the heads' template, then score it
// exactly as `verify qk --heads` scores that row (the same prompts, scan, batch and judges), so
// the result is that row of its examples.jsonl.
//
//   std::string why;
//   if (auto ex = rs::qk::read_question(text, heads, &why))
//     nlohmann::json row = rs::qk::judge_question(model, tokenizer, heads, *ex);
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "methods/qk/heads_file.h"
#include "methods/qk/qk_data.h"
#include "model/model.h"

namespace rs::tok {
class Tokenizer;
}

namespace rs::qk {

// DIR/heads.json of `verify qk` read and checked (throws rs::Error naming the file).
SavedHeads read_heads_file(const std::string& path);

// The pad token of the scan's left-padded batches: the tokenizer's pad, else its end of
// sequence, else 0 (what verify qk uses).
int64_t scan_pad_id(const tok::Tokenizer& t);

// `text` read as the heads' template (build_prompt's rendering backwards): {options} is exactly
// heads.n_options non-empty lines, each ending in a newline; {context} and {question} take as
// much as they can from left to right, as a greedy regular expression would (every reading
// renders the same text, so the same prompt). prontoqa heads also need the option lines to be
// True and False (either order); the row's options are then ["True", "False"], as verify qk
// reads a prontoqa row. Returns nothing and says why when the text does not fit.
std::optional<Example> read_question(const std::string& text, const SavedHeads& heads, std::string* why);

// The examples.jsonl row `verify qk --heads` writes for `ex` (unlabelled): options, prediction
// (the ensemble's option), and per judge (top1, ensemble, baseline_first_token,
// baseline_sequence) scores in content order under both orders, choice and prediction. Throws
// rs::Error when a prompt does not fit the model's context or cannot be tokenised back.
nlohmann::json judge_question(const Model& m, const tok::Tokenizer& t, const SavedHeads& heads, const Example& ex);

}  // namespace rs::qk
