// Indirect-object identification prompts (see gen_ioi.h).
#include "data/gen_ioi.h"

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

namespace {

// Our own sentence frames in the shape the IOI paper describes: two names introduced, then
// the subject (named again) gives an object to ... the other one. {1} {2} are the names in
// order of introduction, {S} the subject, {P} a place, {O} an object.
const std::vector<std::string> kTemplates = {
    "When {1} and {2} went to the {P}, {S} gave a {O} to",
    "After {1} and {2} went to the {P}, {S} gave a {O} to",
    "While {1} and {2} were working at the {P}, {S} handed a {O} to",
    "Then, {1} and {2} had a long day at the {P}. {S} gave a {O} to",
    "{1} and {2} went to the {P} together. Afterwards, {S} passed a {O} to",
    "When {1} and {2} arrived at the {P}, {S} threw a {O} to",
};
const std::vector<std::string> kIoiNames = {
    "Mary", "John", "Alice", "Bob", "Sarah", "Tom", "Emma", "James", "Anna", "David",
    "Laura", "Paul", "Kate", "Mark", "Lisa", "Peter", "Rachel", "Daniel", "Julia", "Chris"};
const std::vector<std::string> kPlaces = {"store", "park", "restaurant", "school", "garden",
                                          "hospital", "office", "station", "library", "beach"};
// Consonant-initial so "a {O}" is always right.
const std::vector<std::string> kObjects = {"drink", "book", "ball", "gift", "letter", "key",
                                           "ring", "bag", "pen", "cake", "necklace", "basketball"};

std::string replace_all(std::string s, const std::string& key, const std::string& value) {
  for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
    s.replace(at, key.size(), value);
  return s;
}

}  // namespace

std::vector<GenRow> make_ioi(uint64_t n, uint64_t seed) {
  if (n == 0) fail("ioi: --n must be at least 1");
  std::vector<GenRow> rows;
  rows.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    GenRng rng = GenRng::stream(seed, i);
    auto names = rng.sample(kIoiNames.size(), 2);
    const std::string io = kIoiNames[names[0]], subject = kIoiNames[names[1]];
    const size_t t = rng.below(kTemplates.size());
    const bool abb = rng.coin();  // ABB: indirect object named first
    std::string s = kTemplates[t];
    s = replace_all(s, "{1}", abb ? io : subject);
    s = replace_all(s, "{2}", abb ? subject : io);
    s = replace_all(s, "{S}", subject);
    s = replace_all(s, "{P}", rng.pick(kPlaces));
    s = replace_all(s, "{O}", rng.pick(kObjects));
    std::vector<std::string> candidates = {io, subject};
    rng.shuffle(candidates);

    GenRow row;
    row["id"] = "ioi-s" + std::to_string(seed) + "-" + std::to_string(i);
    row["task"] = "ioi";
    row["prompt"] = s;
    row["answer"] = io;
    row["wrong_answers"] = std::vector<std::string>{subject};
    row["candidates"] = candidates;
    row["template"] = static_cast<int>(t);
    row["order"] = abb ? "ABB" : "BAB";
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace rs::data
