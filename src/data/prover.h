// A small forward-chaining prover for PrOntoQA-style text: the independent check of the
// prontoqa and cot-pairs generators (and of the benchmark file they imitate).
//
// It reads English sentences of the fixed shapes PrOntoQA uses (Saparov & He, "Language Models
// Are Greedy Reasoners", ICLR 2023, section 3):
//   rules  "Every wumpus is a yumpus."  "Each wumpus is not bright."  "Wumpuses are (not) yumpuses."
//   facts  "Alex is a wumpus."  "Alex is not bright."
// and derives the closure of the facts under the rules by modus ponens (the only deduction
// rule the generators use). It knows nothing about how the generators build their text: it
// only parses what is written, so agreement is evidence that the generated answers are right.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rs::data::prover {

// Something said of an individual: membership of a concept ("wumpus") or a property ("bright").
struct Atom {
  std::string predicate;  // concept noun in the singular, or the adjective (phrase)
  bool concept = false;
  bool operator<(const Atom& o) const {
    return concept != o.concept ? concept < o.concept : predicate < o.predicate;
  }
  bool operator==(const Atom& o) const { return concept == o.concept && predicate == o.predicate; }
};

struct Literal {  // "<subject> is [not] <atom>"
  std::string subject;
  Atom atom;
  bool positive = true;
  bool operator<(const Literal& o) const;
  bool operator==(const Literal& o) const {
    return subject == o.subject && atom == o.atom && positive == o.positive;
  }
  Literal negated() const { return {subject, atom, !positive}; }
};

struct Rule {  // "every <concept> is [not] <head>"
  std::string concept;
  Atom head;
  bool positive = true;
  bool operator==(const Rule& o) const {
    return concept == o.concept && head == o.head && positive == o.positive;
  }
};

struct Sentence {
  bool is_rule = false;
  Literal fact;  // when !is_rule
  Rule rule;     // when is_rule
};

// "A. B. C." -> {"A.", "B.", "C."} (splits after every '.' followed by a space or the end).
std::vector<std::string> split_sentences(std::string_view text);
// "wumpuses" -> "wumpus", "bunnies" -> "bunny", "cats" -> "cat".
std::string singular(const std::string& plural);

class Parser {
 public:
  // Learns which words are concept nouns (used after "a"/"an", after "Every"/"Each", or as the
  // plural subject of "... are ..."), so that "Wumpuses are yumpuses." and "Wumpuses are
  // bright." can be told apart. Call on every sentence before parsing.
  void learn(std::string_view sentence);
  // Parses one sentence; on failure returns nullopt and sets *error (if given).
  std::optional<Sentence> parse(std::string_view sentence, std::string* error = nullptr) const;
  bool is_concept(const std::string& singular_noun) const { return concepts_.count(singular_noun) > 0; }

 private:
  std::set<std::string> concepts_;
};

class Theory {
 public:
  void add(const Sentence& s);
  bool has_rule(const Rule& r) const;
  bool has_fact(const Literal& f) const { return facts_.count(f) > 0; }
  // All literals derivable from the facts by repeated modus ponens with the rules.
  std::set<Literal> closure() const;

 private:
  std::set<Literal> facts_;
  std::map<std::string, std::vector<Rule>> rules_by_concept_;
};

// Verdict on one PrOntoQA problem: is the answer derivable from the context, and does every
// step of the chain of thought follow?
struct ProntoqaCheck {
  std::string problem;          // non-empty: the context or query could not be parsed
  bool query_derivable = false;     // the query literal is in the closure
  bool negation_derivable = false;  // its negation is
  bool answer_confirmed = false;    // "True" and only the query derivable, or "False" and only
                                    // its negation
  // Chain of thought, checked strictly in order: a step is valid when it restates a rule or
  // fact of the context, or follows by one modus ponens from a rule step and a fact step that
  // both came EARLIER in the chain. bad_step is the first step that is not, -1 if none.
  int bad_step = -1;
  std::string step_problem;
  bool reaches_query = false;  // the last step speaks about the query's subject and atom
  bool chain_valid() const { return problem.empty() && bad_step < 0 && reaches_query; }
};

ProntoqaCheck check_prontoqa(const std::string& context, const std::string& query,
                             const std::vector<std::string>& chain, const std::string& answer);

}  // namespace rs::data::prover
