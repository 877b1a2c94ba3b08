#include "methods/lens/answer_scoring.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "model/generate.h"
#include "model/score.h"

namespace rs::lens {

std::vector<int64_t> prompt_ids(const tok::Tokenizer& t, const std::string& prompt,
                                const std::string& where) {
  std::vector<int32_t> ids = t.encode(prompt, true, false);
  if (ids.empty()) fail(where, ": prompt '", prompt, "' tokenises to nothing");
  return {ids.begin(), ids.end()};
}

std::vector<int64_t> answer_ids(const tok::Tokenizer& t, const std::string& answer,
                                const std::string& where) {
  std::vector<int32_t> ids;
  if (answer.find_first_not_of(" \t\n") != std::string::npos) ids = t.encode(" " + answer, false, false);
  if (ids.empty()) fail(where, ": answer '", answer, "' tokenises to nothing");
  return {ids.begin(), ids.end()};
}

std::vector<double> answer_logprobs(const Model& m, const tok::Tokenizer& t,
                                    const std::vector<PromptAnswer>& items, int64_t batch,
                                    Hooks* hooks) {
  std::vector<std::vector<int64_t>> prefixes, conts;
  for (const auto& it : items) {
    prefixes.push_back(prompt_ids(t, it.prompt, it.where));
    conts.push_back(answer_ids(t, it.answer, it.where));
  }
  std::vector<double> out;
  if (items.empty()) return out;
  at::NoGradGuard ng;
  for (const auto& s : score_continuations(m, prefixes, conts, batch, hooks)) out.push_back(s.sum_logprob);
  return out;
}

std::vector<std::string> greedy_answers(const Model& m, const tok::Tokenizer& t,
                                        const std::vector<std::string>& prompts,
                                        int64_t max_tokens, int64_t batch) {
  std::vector<std::string> out;
  at::NoGradGuard ng;
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(batch)) {
    std::vector<std::vector<int64_t>> ids;
    for (size_t i = start; i < std::min(prompts.size(), start + static_cast<size_t>(batch)); ++i)
      ids.push_back(prompt_ids(t, prompts[i], "prompt"));
    GenerateOptions o;
    o.max_new_tokens = max_tokens;
    o.stop_strings = {"\n"};
    for (const auto& g : generate(m, &t, ids, o)) out.push_back(g.text);
  }
  return out;
}

bool greedy_matches(const std::string& text, const std::string& answer) {
  auto norm = [](const std::string& s) {
    std::string o;
    for (char ch : s) o += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const size_t b = o.find_first_not_of(" \t\n\"'");
    return b == std::string::npos ? std::string() : o.substr(b);
  };
  const std::string g = norm(text), a = norm(answer);
  if (a.empty()) return false;
  return g.rfind(a, 0) == 0 || g.rfind("the " + a, 0) == 0;
}

}  // namespace rs::lens

#include "methods/lens/twohop_case.h"

namespace rs::lens {
int64_t subject_last_token(const tok::Tokenizer& t, const std::string& prompt,
                           const std::string& subject, const std::string& where) {
  const size_t at = find_nocase(prompt, subject);
  if (at == std::string::npos) fail(where, ": subject '", subject, "' does not occur in '", prompt, "'");
  const std::vector<int64_t> full = prompt_ids(t, prompt, where);
  const std::vector<int64_t> cut = prompt_ids(t, prompt.substr(0, at + subject.size()), where);
  size_t same = 0;
  while (same < cut.size() && same < full.size() && cut[same] == full[same]) ++same;
  return static_cast<int64_t>(same == cut.size() ? cut.size() : std::max<size_t>(same, 1)) - 1;
}
}  // namespace rs::lens
