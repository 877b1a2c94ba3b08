// Two-hop questions over the fact tables (see gen_twohop.h).
#include "data/gen_twohop.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "data/facts/facts.h"
#include "data/gen_random.h"

namespace rs::data {

namespace {

namespace F = facts;

// How a first hop is asked. {s} is the subject.
struct FirstHop {
  const char* name;
  const char* bridge_kind;    // "country" or "city"
  const char* question;       // "Which country is {s} located in?"
  const char* composed;       // "the country that {s} is located in"
  const char* cloze;          // "{s} is located in the country of"
};
const FirstHop kFirstHops[] = {
    {"city_country", "country", "Which country is {s} located in?",
     "the country that {s} is located in", "{s} is located in the country of"},
    {"landmark_country", "country", "Which country is {s} located in?",
     "the country where {s} is located", "{s} is located in the country of"},
    {"org_hq_country", "country", "In which country does {s} have its headquarters?",
     "the country where {s} has its headquarters", "{s} has its headquarters in the country of"},
    {"org_hq_city", "city", "In which city does {s} have its headquarters?",
     "the city where {s} has its headquarters", "{s} has its headquarters in the city of"},
};

// How a second hop is asked. {x} is the bridge entity or the composed subject.
struct SecondHop {
  const char* name;
  const char* bridge_kind;
  const char* question;
  const char* cloze;
  const char* paraphrases[3];
};
const SecondHop kSecondHops[] = {
    {"capital", "country", "What is the capital of {x}?", "The capital of {x} is",
     {"What is the capital of {x}?", "Which city is the capital of {x}?",
      "What is the name of the capital city of {x}?"}},
    {"official_language", "country", "What is the official language of {x}?",
     "The official language of {x} is",
     {"What is the official language of {x}?", "Which language is official in {x}?",
      "What language does the government of {x} officially use?"}},
    {"currency", "country", "What is the currency of {x}?", "The currency of {x} is",
     {"What is the currency of {x}?", "Which currency is used in {x}?",
      "What money do people pay with in {x}?"}},
    {"continent", "country", "On which continent is {x}?", "{x} is located on the continent of",
     {"On which continent is {x}?", "Which continent is {x} part of?",
      "{x} lies on which continent?"}},
    {"country", "city", "Which country is {x} located in?", "{x} is located in the country of",
     {"Which country is {x} located in?", "In which country is {x}?",
      "{x} lies in which country?"}},
    {"city_continent", "city", "On which continent is {x}?", "{x} is located on the continent of",
     {"On which continent is {x}?", "Which continent is {x} part of?",
      "{x} lies on which continent?"}},
};

std::string fill_slot(const std::string& tmpl, const char* key, const std::string& value) {
  std::string out = tmpl;
  size_t at = out.find(key);
  while (at != std::string::npos) {
    // A slot at the start of a sentence is capitalised ("The country that ...").
    const bool starts = at == 0;
    out.replace(at, 3, starts ? capitalize(value) : value);
    at = out.find(key, at + value.size());
  }
  return out;
}

const FirstHop& first_hop(const std::string& name) {
  for (const auto& h : kFirstHops)
    if (name == h.name) return h;
  fail("twohop: unknown first relation ", name);
}
const SecondHop& second_hop(const std::string& name) {
  for (const auto& h : kSecondHops)
    if (name == h.name) return h;
  fail("twohop: unknown second relation ", name);
}

std::string organisation_city(const std::string& org) {
  for (const auto& o : F::organisations())
    if (o.name == org) return o.hq_city;
  return {};
}

std::string bridge_subject_of(const std::string& kind, const std::string& bridge) {
  if (kind == "country") {
    const F::Country* c = F::find_country(bridge);
    return c ? c->subject : bridge;
  }
  return bridge;
}

std::string composed_subject(const TwohopQuestion& q) {
  return fill_slot(first_hop(q.first_relation).composed, "{s}", q.subject);
}
std::string composed_cloze(const TwohopQuestion& q, const std::string& second) {
  return fill_slot(second_hop(second).cloze, "{x}", composed_subject(q));
}

}  // namespace

std::string twohop_lookup(const std::string& relation, const std::string& entity) {
  if (relation == "city_country" || relation == "country") {
    const F::City* c = F::find_city(entity);
    return c ? c->country : "";
  }
  if (relation == "landmark_country") {
    for (const auto& l : F::landmarks())
      if (l.name == entity) return l.country;
    return "";
  }
  if (relation == "org_hq_city") return organisation_city(entity);
  if (relation == "org_hq_country") {
    const F::City* c = F::find_city(organisation_city(entity));
    return c ? c->country : "";
  }
  if (relation == "city_continent") {
    const F::City* c = F::find_city(entity);
    return c ? twohop_lookup("continent", c->country) : "";
  }
  const F::Country* c = F::find_country(entity);
  if (!c) return "";
  if (relation == "capital") return c->capital;
  if (relation == "official_language") return c->language;
  if (relation == "currency") return c->currency;
  if (relation == "continent") return c->continent;
  return "";
}

const std::vector<TwohopQuestion>& twohop_questions() {
  static const std::vector<TwohopQuestion> all = [] {
    std::vector<std::pair<std::string, std::string>> firsts;  // (subject, first relation)
    for (const auto& c : F::cities()) firsts.push_back({c.name, "city_country"});
    for (const auto& l : F::landmarks()) firsts.push_back({l.name, "landmark_country"});
    for (const auto& o : F::organisations()) {
      firsts.push_back({o.name, "org_hq_country"});
      firsts.push_back({o.name, "org_hq_city"});
    }
    std::vector<TwohopQuestion> out;
    for (const auto& [subject, rel1] : firsts) {
      const FirstHop& h1 = first_hop(rel1);
      const std::string bridge = twohop_lookup(rel1, subject);
      if (bridge.empty()) fail("twohop: fact tables: no ", rel1, " for ", subject);
      for (const auto& h2 : kSecondHops) {
        if (std::string(h2.bridge_kind) != h1.bridge_kind) continue;
        TwohopQuestion q{subject, rel1, h2.name, bridge, bridge_subject_of(h1.bridge_kind, bridge),
                         twohop_lookup(h2.name, bridge)};
        if (q.answer.empty() || q.answer == subject) continue;
        if (composed_cloze(q, h2.name).find(q.answer) != std::string::npos) continue;
        out.push_back(std::move(q));
      }
    }
    return out;
  }();
  return all;
}

std::vector<GenRow> make_twohop(uint64_t n, uint64_t seed) {
  const auto& all = twohop_questions();
  if (n == 0) fail("twohop: --n must be at least 1");
  if (n > all.size())
    fail("twohop: --n ", n, " is more than the ", all.size(),
         " distinct two-hop questions the fact tables in src/data/facts/ allow");
  GenRng rng(seed);
  std::vector<size_t> order = rng.sample(all.size(), n);

  // Questions grouped by (subject, first relation) and by second relation, for the probes.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> by_subject;
  std::map<std::string, std::vector<size_t>> by_second;
  for (size_t i = 0; i < all.size(); ++i) {
    by_subject[{all[i].subject, all[i].first_relation}].push_back(i);
    by_second[all[i].second_relation].push_back(i);
  }

  std::vector<GenRow> rows;
  rows.reserve(n);
  for (uint64_t k = 0; k < n; ++k) {
    const TwohopQuestion& q = all[order[k]];
    GenRng r = GenRng::stream(seed, k);
    const FirstHop& h1 = first_hop(q.first_relation);
    const SecondHop& h2 = second_hop(q.second_relation);
    const std::string cs = composed_subject(q);

    std::vector<std::string> composed_questions;
    for (const char* p : h2.paraphrases) composed_questions.push_back(fill_slot(p, "{x}", cs));

    // Generalisation: other second hops on the same composed subject (up to 2).
    std::vector<size_t> same = by_subject[{q.subject, q.first_relation}];
    r.shuffle(same);
    std::vector<std::string> gen_clozes, gen_answers;
    for (size_t i : same) {
      if (all[i].second_relation == q.second_relation || gen_clozes.size() == 2) continue;
      gen_clozes.push_back(composed_cloze(all[i], all[i].second_relation));
      gen_answers.push_back(all[i].answer);
    }
    // Specificity: the same second hop over 5 other subjects with another answer.
    std::vector<size_t> others;
    for (size_t i : by_second[q.second_relation])
      if (all[i].subject != q.subject && all[i].answer != q.answer) others.push_back(i);
    std::vector<std::string> irr_clozes, irr_answers;
    for (size_t j : r.sample(others.size(), std::min<size_t>(5, others.size()))) {
      irr_clozes.push_back(composed_cloze(all[others[j]], q.second_relation));
      irr_answers.push_back(all[others[j]].answer);
    }

    GenRow row;
    row["id"] = "twohop-s" + std::to_string(seed) + "-" + std::to_string(k);
    row["first_hop_question"] = fill_slot(h1.question, "{s}", q.subject);
    row["second_hop_question"] = fill_slot(h2.question, "{x}", q.bridge_subject);
    row["composed_questions"] = composed_questions;
    row["bridge_answer"] = q.bridge;
    row["answer"] = q.answer;
    row["composed_cloze"] = composed_cloze(q, q.second_relation);
    row["single_cloze"] = fill_slot(h2.cloze, "{x}", q.bridge_subject);
    row["composed_subject"] = cs;
    row["bridge_subject"] = q.bridge_subject;
    row["generalization_clozes"] = gen_clozes;
    row["generalization_answers"] = gen_answers;
    row["irrelevant_clozes"] = irr_clozes;
    row["irrelevant_answers"] = irr_answers;
    row["subject"] = q.subject;
    row["first_relation"] = q.first_relation;
    row["second_relation"] = q.second_relation;
    row["first_hop_cloze"] = fill_slot(h1.cloze, "{s}", q.subject);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace rs::data
