#include "methods/lens/twohop_label.h"

#include <tuple>

#include "core/log.h"
#include "methods/lens/answer_scoring.h"

namespace rs::lens {

namespace {
// The first phrase of a greedy continuation: up to the first . , ; or newline, trimmed.
std::string short_answer(const std::string& g) {
  std::string s = g.substr(0, g.find_first_of(".,;\n"));
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
}  // namespace

const std::vector<std::string>& category_names() {
  static const std::vector<std::string> n = {"all_right", "hops_right_comp_wrong",
                                             "comp_right_hop_wrong", "hop_wrong"};
  return n;
}

std::string categorize(bool first, bool second, bool composed) {
  const bool hops = first && second;
  if (hops) return composed ? "all_right" : "hops_right_comp_wrong";
  return composed ? "comp_right_hop_wrong" : "hop_wrong";
}

std::vector<CaseLabel> label_cases(const Model& m, const tok::Tokenizer& t,
                                   const std::vector<TwohopCase>& cases, const AnswerPools& pools,
                                   const LabelOptions& opts) {
  std::vector<CaseLabel> out(cases.size());
  // Collect every prompt and every (prompt, answer) pair first, so both run in large batches.
  std::vector<std::string> prompts;
  std::vector<PromptAnswer> items;
  struct Slot { HopVerdict* v; size_t target; std::vector<std::string> alts; size_t first_alt; };
  std::vector<Slot> slots;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TwohopCase& c = cases[i];
    CaseLabel& lab = out[i];
    lab.first.prompt = c.first_hop_prompt();
    lab.first.target = c.bridge_answer;
    lab.second.prompt = c.single_cloze;
    lab.second.target = c.answer;
    lab.composed.prompt = c.composed_cloze;
    lab.composed.target = c.answer;
    const std::vector<std::string> balts = pools.bridge_alternatives(c, opts.alternatives);
    const std::vector<std::string> aalts = pools.answer_alternatives(c, opts.alternatives);
    for (auto [v, alts, field] : {std::tuple{&lab.first, balts, "bridge_answer"},
                                  std::tuple{&lab.second, aalts, "answer"},
                                  std::tuple{&lab.composed, aalts, "answer"}}) {
      prompts.push_back(v->prompt);
      Slot s{v, items.size(), alts, 0};
      items.push_back({v->prompt, v->target, c.where() + ": field '" + field + "'"});
      s.first_alt = items.size();
      for (const auto& a : alts) items.push_back({v->prompt, a, c.where() + ": alternative '" + a + "'"});
      slots.push_back(std::move(s));
    }
  }
  log_info("label: " + std::to_string(prompts.size()) + " greedy answers, " +
           std::to_string(items.size()) + " answer probabilities");
  const std::vector<std::string> greedy = greedy_answers(m, t, prompts, opts.max_new_tokens, opts.batch);
  const std::vector<double> lp = answer_logprobs(m, t, items, opts.batch);
  for (size_t s = 0; s < slots.size(); ++s) {
    HopVerdict& v = *slots[s].v;
    v.greedy = greedy[s];
    v.greedy_ok = greedy_matches(v.greedy, v.target);
    v.logp_target = lp[slots[s].target];
    v.prob_ok = true;
    for (size_t j = 0; j < slots[s].alts.size(); ++j) {
      const double a = lp[slots[s].first_alt + j];
      if (v.best_alternative.empty() || a > v.logp_best_alternative) {
        v.best_alternative = slots[s].alts[j];
        v.logp_best_alternative = a;
      }
      if (a >= v.logp_target) v.prob_ok = false;
    }
  }
  for (CaseLabel& lab : out) {
    lab.category = categorize(lab.first.ok(), lab.second.ok(), lab.composed.ok());
    if (!lab.composed.ok())
      lab.wrong_answer = !lab.composed.prob_ok ? lab.composed.best_alternative : short_answer(lab.composed.greedy);
    if (lab.wrong_answer.empty()) lab.wrong_answer = lab.composed.best_alternative;
  }
  return out;
}

}  // namespace rs::lens
