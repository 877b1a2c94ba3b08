#include "methods/lens/twohop_eval.h"

#include <cmath>
#include <limits>
#include <map>

#include "methods/lens/answer_scoring.h"

namespace rs::lens {

namespace {

std::string generalization_key(const TwohopCase& c, const std::string& cloze) {
  const size_t at = find_nocase(cloze, c.composed_subject);
  if (at == std::string::npos) return cloze;
  std::string k = cloze;
  k.replace(at, c.composed_subject.size(), "{x}");
  return k;
}

bool same_nocase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && find_nocase(a, b) == 0;
}

}  // namespace

std::vector<CaseProbes> build_probes(const Model& m, const tok::Tokenizer& t,
                                     const std::vector<TwohopCase>& cases, size_t alternatives,
                                     int64_t batch) {
  const AnswerPools pools = make_answer_pools(cases);
  std::map<std::string, std::vector<std::string>> gen_pool;  // generalization key -> answers
  for (const auto& c : cases)
    for (size_t j = 0; j < c.generalization_clozes.size(); ++j) {
      auto& v = gen_pool[generalization_key(c, c.generalization_clozes[j])];
      bool seen = false;
      for (const auto& a : v) seen = seen || same_nocase(a, c.generalization_answers[j]);
      if (!seen) v.push_back(c.generalization_answers[j]);
    }
  // Candidate wrong answers, scored in one batch with the unedited model.
  struct Pending { Probe* probe; std::vector<std::string> alts; size_t first; };
  std::vector<CaseProbes> out(cases.size());
  std::vector<Pending> pending;
  std::vector<PromptAnswer> items;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TwohopCase& c = cases[i];
    CaseProbes& p = out[i];
    p.correction.push_back({c.composed_cloze, c.answer, c.wrong_answer});
    for (const auto& q : c.composed_questions) p.paraphrase.push_back({qa_prompt(q), c.answer, c.wrong_answer});
    for (size_t j = 0; j < c.generalization_clozes.size(); ++j)
      p.generalization.push_back({c.generalization_clozes[j], c.generalization_answers[j], ""});
    for (size_t j = 0; j < c.irrelevant_clozes.size(); ++j)
      p.irrelevant.push_back({c.irrelevant_clozes[j], c.irrelevant_answers[j], ""});
    auto want = [&](Probe& pr, std::vector<std::string> alts) {
      if (alts.empty()) return;
      Pending pd{&pr, alts, items.size()};
      for (const auto& a : alts) items.push_back({pr.prompt, a, c.where() + ": alternative '" + a + "'"});
      pending.push_back(std::move(pd));
    };
    if (c.wrong_answer.empty()) {
      // one wrong answer for the case, chosen on the composition prompt
      want(p.correction[0], pools.answer_alternatives(c, alternatives));
    }
    for (size_t j = 0; j < p.generalization.size(); ++j) {
      std::vector<std::string> alts;
      for (const auto& a : gen_pool[generalization_key(c, c.generalization_clozes[j])])
        if (!same_nocase(a, p.generalization[j].target) && alts.size() < alternatives) alts.push_back(a);
      want(p.generalization[j], alts);
    }
  }
  const std::vector<double> lp = answer_logprobs(m, t, items, batch);
  for (const auto& pd : pending) {
    size_t best = 0;
    for (size_t j = 1; j < pd.alts.size(); ++j)
      if (lp[pd.first + j] > lp[pd.first + best]) best = j;
    pd.probe->wrong = pd.alts[best];
  }
  for (auto& p : out)
    for (auto& q : p.paraphrase) q.wrong = p.correction[0].wrong;
  return out;
}

CaseScores score_probes(const Model& m, const tok::Tokenizer& t, const CaseProbes& p, int64_t batch) {
  std::vector<PromptAnswer> items;
  std::vector<std::pair<const std::vector<Probe>*, std::vector<ProbeScore>*>> groups;
  CaseScores s;
  groups = {{&p.correction, &s.correction}, {&p.paraphrase, &s.paraphrase},
            {&p.generalization, &s.generalization}, {&p.irrelevant, &s.irrelevant}};
  for (auto& [probes, scores] : groups)
    for (const Probe& pr : *probes) {
      items.push_back({pr.prompt, pr.target, "probe"});
      if (!pr.wrong.empty()) items.push_back({pr.prompt, pr.wrong, "probe"});
    }
  const std::vector<double> lp = answer_logprobs(m, t, items, batch);
  size_t k = 0;
  for (auto& [probes, scores] : groups)
    for (const Probe& pr : *probes) {
      ProbeScore ps;
      ps.lp_target = lp[k++];
      ps.lp_wrong = pr.wrong.empty() ? -std::numeric_limits<double>::infinity() : lp[k++];
      scores->push_back(ps);
    }
  std::vector<std::string> prompts;
  for (const Probe& pr : p.irrelevant) prompts.push_back(pr.prompt);
  if (!prompts.empty()) {
    const auto g = greedy_answers(m, t, prompts, 4, batch);
    for (size_t i = 0; i < g.size(); ++i) s.irrelevant[i].greedy = g[i];
  }
  return s;
}

void accumulate(GroupMetrics& g, const std::vector<ProbeScore>& pre, const std::vector<ProbeScore>& post) {
  for (size_t i = 0; i < pre.size(); ++i) {
    g.n += 1;
    // A probe without a wrong answer (no alternative of its relation in the data) says nothing
    // about target vs wrong: it counts for mean p only.
    if (std::isfinite(pre[i].lp_wrong)) {
      g.n_with_wrong += 1;
      g.share_target_gt_wrong_pre += pre[i].lp_target > pre[i].lp_wrong;
      g.share_target_gt_wrong_post += post[i].lp_target > post[i].lp_wrong;
    }
    g.mean_p_target_pre += std::exp(pre[i].lp_target);
    g.mean_p_target_post += std::exp(post[i].lp_target);
  }
}

void accumulate(SpecificityMetrics& s, const std::vector<ProbeScore>& pre, const std::vector<ProbeScore>& post) {
  for (size_t i = 0; i < pre.size(); ++i) {
    s.n += 1;
    const double d = std::exp(post[i].lp_target) - std::exp(pre[i].lp_target);
    s.mean_abs_delta_p_own_answer += std::abs(d);
    s.mean_delta_p_own_answer += d;
    s.share_answer_unchanged += pre[i].greedy == post[i].greedy;
  }
}

void finish(GroupMetrics& g) {
  if (g.n == 0) return;
  const double nw = g.n_with_wrong > 0 ? g.n_with_wrong : std::nan("");
  g.share_target_gt_wrong_pre /= nw;
  g.share_target_gt_wrong_post /= nw;
  g.mean_p_target_pre /= g.n;
  g.mean_p_target_post /= g.n;
}

void finish(SpecificityMetrics& s) {
  if (s.n == 0) return;
  s.mean_abs_delta_p_own_answer /= s.n;
  s.mean_delta_p_own_answer /= s.n;
  s.share_answer_unchanged /= s.n;
}

}  // namespace rs::lens
