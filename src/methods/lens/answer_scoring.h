// Whole-answer probabilities: log p(answer tokens | prompt) summed over every answer token
// (METHODS.md section 4, step 4: the full sequence, not the mean of token probabilities), and
// short greedy continuations, batched. Hooks passed here are active in every forward call.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::lens {

// Prompt text -> ids (BOS as the tokenizer says). Throws for an empty result.
std::vector<int64_t> prompt_ids(const tok::Tokenizer& t, const std::string& prompt,
                                const std::string& where);
// " <answer>" -> ids without BOS. Throws rs::Error naming `where` when it tokenises to nothing.
std::vector<int64_t> answer_ids(const tok::Tokenizer& t, const std::string& answer,
                                const std::string& where);

struct PromptAnswer {
  std::string prompt, answer;  // answer without the leading space (answer_ids adds it)
  std::string where;           // for messages ("file:line field")
};

// log p(answer | prompt) for each pair (natural log, summed over the answer's tokens).
std::vector<double> answer_logprobs(const Model& m, const tok::Tokenizer& t,
                                    const std::vector<PromptAnswer>& items, int64_t batch = 16,
                                    Hooks* hooks = nullptr);

// Greedy continuation (at most max_tokens tokens, cut at the first newline) of each prompt.
std::vector<std::string> greedy_answers(const Model& m, const tok::Tokenizer& t,
                                        const std::vector<std::string>& prompts,
                                        int64_t max_tokens, int64_t batch = 16);

// Greedy text matches an answer: after trimming and lower-casing, the text starts with the
// answer, or with "the " + answer (e.g. " the Netherlands" for "Netherlands").
bool greedy_matches(const std::string& text, const std::string& answer);

}  // namespace rs::lens

namespace rs::lens {
// Index (in prompt_ids(prompt)) of the last token of the first case-insensitive occurrence of
// `subject` in `prompt`: the token count of the prompt cut just after the subject, minus one
// (checked to be a prefix of the whole prompt's tokens; else the last token they share).
// Throws rs::Error naming `where` when the subject does not occur.
int64_t subject_last_token(const tok::Tokenizer& t, const std::string& prompt,
                           const std::string& subject, const std::string& where);
}  // namespace rs::lens
