// Forward-chaining prover for PrOntoQA-style sentences (see prover.h).
#include "data/prover.h"

#include <cctype>
#include <tuple>

namespace rs::data::prover {

bool Literal::operator<(const Literal& o) const {
  return std::tie(subject, atom, positive) < std::tie(o.subject, o.atom, o.positive);
}

namespace {

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Strips the final '.' and surrounding spaces.
std::string_view body_of(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

bool is_universal(const std::string& w) { return w == "Every" || w == "Each" || w == "every" || w == "each"; }
bool is_article(const std::string& w) { return w == "a" || w == "an"; }
bool ends_with(const std::string& s, const char* suffix) {
  std::string_view suf(suffix);
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string join_from(const std::vector<std::string>& w, size_t from) {
  std::string out;
  for (size_t i = from; i < w.size(); ++i) out += (i > from ? " " : "") + w[i];
  return out;
}

}  // namespace

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '.' && (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])))) {
      std::string_view s = text.substr(start, i + 1 - start);
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
      if (!s.empty()) out.emplace_back(s);
      start = i + 1;
    }
  }
  std::string_view rest = body_of(text.substr(start));
  if (!rest.empty()) out.emplace_back(rest);
  return out;
}

std::string singular(const std::string& w) {
  if (ends_with(w, "uses") || ends_with(w, "sses") || ends_with(w, "xes") || ends_with(w, "ches") ||
      ends_with(w, "shes"))
    return w.substr(0, w.size() - 2);
  if (ends_with(w, "ies") && w.size() > 3) return w.substr(0, w.size() - 3) + "y";
  if (ends_with(w, "s") && !ends_with(w, "ss") && w.size() > 1) return w.substr(0, w.size() - 1);
  return w;
}

void Parser::learn(std::string_view sentence) {
  auto w = words_of(body_of(sentence));
  if (w.size() >= 2 && is_universal(w[0])) concepts_.insert(w[1]);
  if (w.size() >= 2 && w[1] == "are") concepts_.insert(singular(lower_first(w[0])));
  for (size_t i = 0; i + 1 < w.size(); ++i)
    if (is_article(w[i])) concepts_.insert(w[i + 1]);
}

std::optional<Sentence> Parser::parse(std::string_view sentence, std::string* error) const {
  auto bad = [&](const std::string& why) -> std::optional<Sentence> {
    if (error) *error = "cannot parse \"" + std::string(sentence) + "\": " + why;
    return std::nullopt;
  };
  auto w = words_of(body_of(sentence));
  if (w.size() < 3) return bad("too short (expected \"X is Y\" or \"Xs are Y\")");

  // The predicate after the copula: "[not] (a|an) noun" or "[not] adjective...".
  auto predicate = [&](size_t at, bool plural_copula, Atom& atom, bool& positive) -> bool {
    positive = true;
    if (at < w.size() && w[at] == "not") positive = false, ++at;
    if (at >= w.size()) return false;
    if (!plural_copula && is_article(w[at])) {
      if (at + 2 != w.size()) return false;
      atom = {w[at + 1], true};
      return true;
    }
    if (plural_copula && at + 1 == w.size()) {
      // "Wumpuses are yumpuses." (concept) or "Wumpuses are bright." (property)
      std::string s = singular(w[at]);
      if (is_concept(s) || ends_with(w[at], "uses")) {
        atom = {s, true};
        return true;
      }
    }
    atom = {join_from(w, at), false};
    return true;
  };

  Sentence out;
  if (is_universal(w[0])) {
    if (w[2] != "is") return bad("expected \"is\" after \"" + w[0] + " " + w[1] + "\"");
    out.is_rule = true;
    out.rule.concept = w[1];
    if (!predicate(3, false, out.rule.head, out.rule.positive)) return bad("no predicate after \"is\"");
    return out;
  }
  if (w[1] == "are") {
    out.is_rule = true;
    out.rule.concept = singular(lower_first(w[0]));
    if (!predicate(2, true, out.rule.head, out.rule.positive)) return bad("no predicate after \"are\"");
    return out;
  }
  if (w[1] == "is") {
    out.fact.subject = w[0];
    if (!predicate(2, false, out.fact.atom, out.fact.positive)) return bad("no predicate after \"is\"");
    return out;
  }
  return bad("expected \"Every/Each X is ...\", \"Xs are ...\" or \"Name is ...\"");
}

void Theory::add(const Sentence& s) {
  if (s.is_rule)
    rules_by_concept_[s.rule.concept].push_back(s.rule);
  else
    facts_.insert(s.fact);
}

bool Theory::has_rule(const Rule& r) const {
  auto it = rules_by_concept_.find(r.concept);
  if (it == rules_by_concept_.end()) return false;
  for (const auto& x : it->second)
    if (x == r) return true;
  return false;
}

std::set<Literal> Theory::closure() const {
  std::set<Literal> known = facts_;
  std::vector<Literal> work(facts_.begin(), facts_.end());
  while (!work.empty()) {
    Literal f = std::move(work.back());
    work.pop_back();
    if (!f.positive || !f.atom.concept) continue;  // only "x is a C" triggers rules about C
    auto it = rules_by_concept_.find(f.atom.predicate);
    if (it == rules_by_concept_.end()) continue;
    for (const auto& r : it->second) {
      Literal derived{f.subject, r.head, r.positive};
      if (known.insert(derived).second) work.push_back(derived);
    }
  }
  return known;
}

ProntoqaCheck check_prontoqa(const std::string& context, const std::string& query,
                             const std::vector<std::string>& chain, const std::string& answer) {
  ProntoqaCheck out;
  auto ctx = split_sentences(context);
  Parser parser;
  for (const auto& s : ctx) parser.learn(s);
  for (const auto& s : chain) parser.learn(s);

  Theory theory;
  for (const auto& s : ctx) {
    std::string err;
    auto parsed = parser.parse(s, &err);
    if (!parsed) {
      out.problem = "context: " + err;
      return out;
    }
    theory.add(*parsed);
  }

  // "True or false: Alex is not bright."
  std::string_view q = query;
  const std::string_view prefix = "True or false:";
  if (q.substr(0, prefix.size()) == prefix) q.remove_prefix(prefix.size());
  std::string err;
  auto qs = parser.parse(q, &err);
  if (!qs || qs->is_rule) {
    out.problem = qs ? "query: expected a statement about an individual, found a rule" : "query: " + err;
    return out;
  }
  const Literal goal = qs->fact;
  auto closed = theory.closure();
  out.query_derivable = closed.count(goal) > 0;
  out.negation_derivable = closed.count(goal.negated()) > 0;
  if (answer == "True") out.answer_confirmed = out.query_derivable && !out.negation_derivable;
  if (answer == "False") out.answer_confirmed = out.negation_derivable && !out.query_derivable;

  // The chain, step by step; premises of a derived step must be earlier steps.
  std::vector<Sentence> earlier;
  for (size_t k = 0; k < chain.size(); ++k) {
    auto step = parser.parse(chain[k], &err);
    auto reject = [&](const std::string& why) {
      out.bad_step = static_cast<int>(k);
      out.step_problem = "step " + std::to_string(k) + " \"" + chain[k] + "\": " + why;
    };
    if (!step) {
      reject(err);
      break;
    }
    bool ok = false;
    if (step->is_rule) {
      ok = theory.has_rule(step->rule);
      if (!ok) {
        reject("a rule that is not in the context");
        break;
      }
    } else if (theory.has_fact(step->fact)) {
      ok = true;
    } else {
      const Literal& f = step->fact;
      for (const auto& r : earlier) {
        if (!r.is_rule || !(r.rule.head == f.atom) || r.rule.positive != f.positive) continue;
        Literal premise{f.subject, Atom{r.rule.concept, true}, true};
        for (const auto& p : earlier)
          if (!p.is_rule && p.fact == premise) ok = true;
        if (ok) break;
      }
      if (!ok) {
        reject("does not follow from a rule and a fact stated in earlier steps");
        break;
      }
    }
    earlier.push_back(*step);
  }
  if (!earlier.empty() && out.bad_step < 0) {
    const Sentence& last = earlier.back();
    out.reaches_query = !last.is_rule && last.fact.subject == goal.subject && last.fact.atom == goal.atom;
  }
  return out;
}

}  // namespace rs::data::prover
