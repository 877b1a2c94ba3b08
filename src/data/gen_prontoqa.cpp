// ProntoQA-style generator (see gen_prontoqa.h).
#include "data/gen_prontoqa.h"

#include <algorithm>

#include "core/error.h"

namespace rs::data {

namespace {

// Made-up concept nouns ending in "-pus" (plural "-puses"), after the PrOntoQA papers' style.
const std::vector<std::string> kConcepts = {
    "wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus",
    "impus",  "jompus", "gorpus", "shumpus", "lempus", "sterpus", "grimpus", "lorpus",
    "brimpus", "felpus", "scrompus", "twimpus", "quimpus", "bompus", "frompus", "hilpus",
    "kerpus", "dorpus", "yompus", "snorpus", "welpus", "zelpus"};

// Property families: a problem uses at most one adjective per family, so it never says an
// individual is both "large" and "small".
const std::vector<std::vector<std::string>> kPropertyFamilies = {
    {"blue", "red", "brown", "orange", "green"}, {"large", "small"},
    {"hot", "cold", "temperate"},                {"sweet", "sour", "bitter", "spicy", "salty"},
    {"fruity", "floral"},                        {"metallic", "wooden"},
    {"transparent", "opaque"},                   {"happy", "sad", "angry"},
    {"shy", "bold"},                             {"nervous", "calm"},
    {"fast", "slow"},                            {"bright", "dull"},
    {"muffled", "loud"},                         {"rainy", "windy", "overcast", "sunny"},
    {"kind", "mean"},                            {"heavy", "light"},
    {"wet", "dry"},                              {"old", "young"},
    {"hard", "soft"},                            {"feisty", "amenable"},
    {"earthy", "smoky"},                         {"liquid", "solid"}};

const std::vector<std::string> kProntoqaNames = {"Alex", "Sam",   "Max",  "Wren", "Fae",   "Polly",
                                         "Stella", "Sally", "Rex", "Nora", "Leo",  "Ivy",
                                         "Hugo",  "Clara", "Owen", "Mia"};

std::string plural(const std::string& noun) { return noun + "es"; }  // every concept ends in -us

// "Every wumpus is a yumpus." / "Each wumpus is a yumpus." / "Wumpuses are yumpuses."
std::string subtype_sentence(GenRng& rng, const std::string& a, const std::string& b) {
  switch (rng.below(3)) {
    case 0: return "Every " + a + " is " + indefinite_article(b) + " " + b + ".";
    case 1: return "Each " + a + " is " + indefinite_article(b) + " " + b + ".";
    default: return capitalize(plural(a)) + " are " + plural(b) + ".";
  }
}

// "Every wumpus is (not) bright." / "Each ..." / "Wumpuses are (not) bright."
std::string property_sentence(GenRng& rng, const std::string& a, const std::string& p, bool positive) {
  const std::string neg = positive ? "" : "not ";
  switch (rng.below(3)) {
    case 0: return "Every " + a + " is " + neg + p + ".";
    case 1: return "Each " + a + " is " + neg + p + ".";
    default: return capitalize(plural(a)) + " are " + neg + p + ".";
  }
}

std::string member_sentence(const std::string& name, const std::string& c) {
  return name + " is " + indefinite_article(c) + " " + c + ".";
}

std::string has_sentence(const std::string& name, const std::string& p, bool positive) {
  return name + " is " + (positive ? "" : "not ") + p + ".";
}

}  // namespace

GenRow make_prontoqa_row(GenRng& rng, int hops, bool distractors, const std::string& id) {
  if (hops < 1 || hops > kProntoqaMaxHops)
    fail("prontoqa: --hops ", hops, " is impossible: this ontology supports 1 to ",
         kProntoqaMaxHops, " hops");
  // Enough concepts and families for the largest problem: checked here so a pool edit that
  // breaks the bound fails loudly instead of repeating a word.
  static_assert(kProntoqaMaxHops >= 1, "");
  const size_t need_concepts = 2 * kProntoqaMaxHops + 4, need_families = 2 * kProntoqaMaxHops + 4;
  if (kConcepts.size() < need_concepts || kPropertyFamilies.size() < need_families)
    fail("prontoqa: internal word pools too small for ", kProntoqaMaxHops, " hops");

  auto concept_idx = rng.sample(kConcepts.size(), need_concepts);
  size_t next_concept = 0;
  auto new_concept = [&] { return kConcepts[concept_idx[next_concept++]]; };
  auto family_idx = rng.sample(kPropertyFamilies.size(), need_families);
  size_t next_family = 0;
  auto new_property = [&] {
    const auto& fam = kPropertyFamilies[family_idx[next_family++]];
    return rng.pick(fam);
  };
  const std::string name = rng.pick(kProntoqaNames);

  std::vector<std::string> chain_concepts;
  for (int i = 0; i < hops; ++i) chain_concepts.push_back(new_concept());
  const std::string prop = new_property();
  const bool prop_positive = rng.coin();

  std::vector<std::string> rules, facts, cot;
  // The gold proof: fact, then (rule, conclusion) per hop.
  facts.push_back(member_sentence(name, chain_concepts[0]));
  cot.push_back(facts.back());
  for (int i = 0; i + 1 < hops; ++i) {
    rules.push_back(subtype_sentence(rng, chain_concepts[i], chain_concepts[i + 1]));
    cot.push_back(rules.back());
    cot.push_back(member_sentence(name, chain_concepts[i + 1]));
  }
  rules.push_back(property_sentence(rng, chain_concepts[hops - 1], prop, prop_positive));
  cot.push_back(rules.back());
  cot.push_back(has_sentence(name, prop, prop_positive));

  if (distractors) {
    // Other properties and side branches hanging off the proof's concepts.
    for (const auto& c : chain_concepts) {
      if (rng.coin()) rules.push_back(property_sentence(rng, c, new_property(), rng.coin()));
      if (rng.coin()) {
        std::string side = new_concept();
        rules.push_back(subtype_sentence(rng, c, side));
        rules.push_back(property_sentence(rng, side, new_property(), rng.coin()));
      }
    }
    // A second membership of the individual, in an unrelated two-concept branch.
    std::string d0 = new_concept(), d1 = new_concept();
    facts.push_back(member_sentence(name, d0));
    rules.push_back(subtype_sentence(rng, d0, d1));
    rules.push_back(property_sentence(rng, d0, new_property(), rng.coin()));
    rules.push_back(property_sentence(rng, d1, new_property(), rng.coin()));
    // The opposite of the queried property on a concept nobody reaches (the PrOntoQA-OOD
    // distractor: the answer's words appear in the context with the wrong polarity).
    rules.push_back(property_sentence(rng, new_concept(), prop, !prop_positive));
    rng.shuffle(facts);
  }
  rng.shuffle(rules);

  std::vector<std::string> context = rules;
  context.insert(context.end(), facts.begin(), facts.end());
  const bool query_positive = rng.coin();

  GenRow row;
  row["id"] = id;
  row["hops"] = hops;
  row["context"] = join(context, " ");
  row["query"] = "True or false: " + has_sentence(name, prop, query_positive);
  row["chain_of_thought"] = cot;
  row["answer"] = query_positive == prop_positive ? "True" : "False";
  return row;
}

std::vector<GenRow> make_prontoqa(uint64_t n, uint64_t seed, const ProntoqaOptions& opts) {
  if (n == 0) fail("prontoqa: --n must be at least 1");
  if (opts.hops.empty()) fail("prontoqa: --hops lists no hop count");
  for (int h : opts.hops)
    if (h < 1 || h > kProntoqaMaxHops)
      fail("prontoqa: --hops ", h, " is impossible: this ontology supports 1 to ",
           kProntoqaMaxHops, " hops");
  std::vector<GenRow> rows;
  rows.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    int h = opts.hops[i % opts.hops.size()];
    GenRng rng = GenRng::stream(seed, i);
    rows.push_back(make_prontoqa_row(rng, h, opts.distractors,
                                     "pq-s" + std::to_string(seed) + "-" + std::to_string(h) +
                                         "hop-" + std::to_string(i)));
  }
  return rows;
}

}  // namespace rs::data
