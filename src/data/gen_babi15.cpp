// bAbI-15 style deduction (see gen_babi15.h).
#include "data/gen_babi15.h"

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

namespace {

struct Species {
  const char* singular;
  const char* plural;
};
// bAbI-15 uses mice, cats, wolves and sheep; four more make the stories vary.
const std::vector<Species> kSpecies = {{"mouse", "mice"}, {"cat", "cats"},   {"wolf", "wolves"},
                                       {"sheep", "sheep"}, {"dog", "dogs"},  {"lion", "lions"},
                                       {"snake", "snakes"}, {"fox", "foxes"}};
const std::vector<std::string> kBabiNames = {"Gertrude", "Winona", "Jessica", "Emily",  "Lily",
                                         "Bernhard", "Julius", "Greg",    "Brian",  "Jason",
                                         "Sumit",    "Yann",   "Antoine", "Fred",   "Mary"};
constexpr size_t kSpeciesPerStory = 4;
constexpr size_t kPeoplePerStory = 4;

}  // namespace

std::vector<GenRow> make_babi15(uint64_t n, uint64_t seed) {
  if (n == 0) fail("babi15: --n must be at least 1");
  std::vector<GenRow> rows;
  rows.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    GenRng rng = GenRng::stream(seed, i);
    auto species = rng.sample(kSpecies.size(), kSpeciesPerStory);
    // Each species fears another one of the story (never itself): a random derangement made by
    // shifting a shuffled cycle, so every species is also feared by someone.
    std::vector<size_t> fears(kSpeciesPerStory);
    for (size_t k = 0; k < kSpeciesPerStory; ++k) fears[k] = (k + 1) % kSpeciesPerStory;

    std::vector<std::string> sentences;
    for (size_t k = 0; k < kSpeciesPerStory; ++k)
      sentences.push_back(capitalize(kSpecies[species[k]].plural) + std::string(" are afraid of ") +
                          kSpecies[species[fears[k]]].plural + ".");
    rng.shuffle(sentences);

    auto people = rng.sample(kBabiNames.size(), kPeoplePerStory);
    std::vector<size_t> kind_of(kPeoplePerStory);
    std::vector<std::string> facts;
    for (size_t p = 0; p < kPeoplePerStory; ++p) {
      kind_of[p] = rng.below(kSpeciesPerStory);
      const char* s = kSpecies[species[kind_of[p]]].singular;
      facts.push_back(kBabiNames[people[p]] + " is " + indefinite_article(s) + " " + s + ".");
    }
    sentences.insert(sentences.end(), facts.begin(), facts.end());

    const size_t asked = rng.below(kPeoplePerStory);
    const std::string name = kBabiNames[people[asked]];
    const std::string answer = kSpecies[species[fears[kind_of[asked]]]].singular;
    std::vector<std::string> wrong, candidates;
    for (size_t k = 0; k < kSpeciesPerStory; ++k) {
      candidates.push_back(kSpecies[species[k]].singular);
      if (candidates.back() != answer) wrong.push_back(candidates.back());
    }
    rng.shuffle(candidates);

    const std::string context = join(sentences, " ");
    const std::string question = "What is " + name + " afraid of?";
    GenRow row;
    row["id"] = "babi15-s" + std::to_string(seed) + "-" + std::to_string(i);
    row["task"] = "babi15";
    row["context"] = context;
    row["question"] = question;
    row["prompt"] = context + " Question: " + question + " Answer:";
    row["answer"] = answer;
    row["wrong_answers"] = wrong;
    row["candidates"] = candidates;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace rs::data
