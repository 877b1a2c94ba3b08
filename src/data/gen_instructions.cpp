// Synthetic instruction tasks (see gen_instructions.h).
#include "data/gen_instructions.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

namespace {

// Made-up task keywords: they carry no meaning a pretrained model could exploit.
const std::vector<std::string> kKeywords = {
    "blick", "dax",  "fep",  "glorp", "jubo", "kiki", "lorb", "mip",  "nurf", "plonk",
    "quaz",  "rindle", "snib", "tove", "vorp", "wug",  "yext", "zib",  "bazz", "crim",
    "dof",   "gleb", "hux",  "jev",  "kron", "lumo", "mazz", "nix",  "opp",  "prav",
    "quil",  "rask", "sorb", "tiv",  "ulk",  "vex",  "wix",  "yorb", "zank", "fizzle"};
const std::vector<std::string> kInputs = {"cat", "dog",  "sun",  "tree", "car", "fish",
                                          "book", "hat", "cup", "lamp", "door", "ship"};
const std::vector<std::string> kOutputs = {
    "red",   "blue",  "green", "one",   "two",   "three", "four",  "five", "six",   "seven",
    "eight", "nine",  "ten",   "north", "south", "east",  "west",  "up",   "down",  "left",
    "right", "hot",   "cold",  "big",   "small", "old",   "yes",   "no",   "alpha", "beta",
    "gamma", "delta", "zero",  "high",  "low",   "fast",  "slow",  "dark", "pink",  "gold"};

// One instruction distribution: a template with slots {K} (task keyword) and {0} {1} {2},
// each filled from its own pool.
struct Distribution {
  const char* tmpl;
  std::vector<std::string> pools[3];
};
const std::vector<Distribution> kDistributions = {
    {"{0} {1} the {2} with {K}",
     {{"please", "kindly", "now"}, {"map", "turn", "convert", "change"},
      {"word", "token", "item", "symbol"}}},
    {"{K} : {0} {1} this {2}",
     {{"quickly", "carefully", "simply", "just"}, {"rewrite", "transform", "translate", "recode"},
      {"entry", "term", "element", "unit"}}},
    {"use {K} rules to {0} {1} {2}",
     {{"rename", "swap", "replace", "encode"}, {"each", "every", "any", "some"},
      {"input", "piece", "value", "name"}}},
    {"i need {0} {1} done by {K} {2}",
     {{"this", "that", "my", "our"}, {"thing", "object", "label", "tag"},
      {"today", "again", "soon", "first"}}},
    {"{0} {K} and {1} the {2}",
     {{"apply", "follow", "obey", "run"}, {"give", "return", "output", "produce"},
      {"answer", "result", "reply", "outcome"}}},
    {"{K} mode {0} , {1} {2}",
     {{"on", "active", "engaged", "set"}, {"respond", "react", "continue", "proceed"},
      {"below", "next", "here", "later"}}},
};

constexpr uint64_t kTaskSeed = 0x7A5C5EEDull;  // tasks depend on T only (see header)

std::string fill_slot(std::string s, const std::string& key, const std::string& value) {
  size_t at = s.find(key);
  if (at != std::string::npos) s.replace(at, key.size(), value);
  return s;
}

}  // namespace

int instruction_max_tasks() { return static_cast<int>(kKeywords.size() / 2); }
int instruction_max_distributions() { return static_cast<int>(kDistributions.size()); }

std::vector<std::string> instruction_distribution_words(int m) {
  std::vector<std::string> out;
  for (const auto& pool : kDistributions.at(static_cast<size_t>(m)).pools)
    out.insert(out.end(), pool.begin(), pool.end());
  return out;
}

std::vector<std::string> instruction_vocabulary() {
  std::vector<std::string> out(kKeywords.begin(), kKeywords.end());
  out.insert(out.end(), kInputs.begin(), kInputs.end());
  out.insert(out.end(), kOutputs.begin(), kOutputs.end());
  for (const Distribution& d : kDistributions) {
    std::istringstream words(d.tmpl);
    for (std::string w; words >> w;)
      if (w.front() != '{') out.push_back(w);  // template literals; slots are filled from pools
    for (const auto& pool : d.pools) out.insert(out.end(), pool.begin(), pool.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<InstructionTask> instruction_tasks(int tasks) {
  if (tasks < 1 || tasks > instruction_max_tasks())
    fail("instructions: --tasks ", tasks, " is impossible: between 1 and ",
         instruction_max_tasks(), " tasks (two keywords each from a pool of ", kKeywords.size(),
         ")");
  GenRng rng = GenRng::stream(kTaskSeed, static_cast<uint64_t>(tasks));
  auto keywords = rng.sample(kKeywords.size(), 2 * static_cast<size_t>(tasks));
  std::vector<InstructionTask> out(static_cast<size_t>(tasks));
  for (size_t t = 0; t < out.size(); ++t) {
    out[t].keywords = {kKeywords[keywords[2 * t]], kKeywords[keywords[2 * t + 1]]};
    auto in = rng.sample(kInputs.size(), kInstructionMappings);
    auto outp = rng.sample(kOutputs.size(), kInstructionMappings);
    for (int k = 0; k < kInstructionMappings; ++k)
      out[t].mapping.push_back({kInputs[in[k]], kOutputs[outp[k]]});
  }
  return out;
}

std::vector<GenRow> make_instructions(uint64_t n, uint64_t seed, int tasks, int distributions) {
  if (n == 0) fail("instructions: --n must be at least 1");
  if (distributions < 1 || distributions > instruction_max_distributions())
    fail("instructions: --distributions ", distributions, " is impossible: between 1 and ",
         instruction_max_distributions(), " instruction distributions are defined");
  const auto defs = instruction_tasks(tasks);
  std::vector<GenRow> rows;
  rows.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    GenRng rng = GenRng::stream(seed, i);
    const size_t t = rng.below(defs.size());
    const size_t m = rng.below(static_cast<uint64_t>(distributions));
    const auto& pair = defs[t].mapping[rng.below(kInstructionMappings)];
    const Distribution& d = kDistributions[m];
    std::string text = fill_slot(d.tmpl, "{K}", rng.pick(defs[t].keywords));
    for (int s = 0; s < 3; ++s)
      text = fill_slot(text, "{" + std::to_string(s) + "}", rng.pick(d.pools[s]));

    GenRow row;
    row["id"] = "instr-s" + std::to_string(seed) + "-" + std::to_string(i);
    row["task"] = "task" + std::to_string(t);
    row["distribution"] = static_cast<int>(m);
    row["instruction"] = text;
    row["input"] = pair.first;
    row["output"] = pair.second;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace rs::data
