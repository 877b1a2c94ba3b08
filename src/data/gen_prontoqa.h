// `prontoqa`: fictional-ontology deduction problems in the style of PrOntoQA / PrOntoQA-OOD
// (Saparov & He, ICLR 2023; Saparov et al., NeurIPS 2023), written from the papers'
// description, not their code. Same fields as ../shared/benchmarks/prontoqa/dev.jsonl:
//   id, hops, context, query ("True or false: ..."), chain_of_thought (sentences), answer.
//
// One problem: an individual is a member of concept c0; rules c0 -> c1 -> ... -> c(h-1) and a
// property rule on c(h-1) ("Every c(h-1) is [not] P") make "Name is [not] P" follow in h hops.
// The query asks P with a random polarity, so the answer is True or False with equal odds.
// The gold chain of thought has 2h+1 sentences: the fact, then (rule, conclusion) per hop.
// With distractors: further properties and side branches on the chain, a second membership
// of the individual in an unrelated branch, and an unreachable concept with the opposite of P.
// Each property family (colour, size, ...) is used at most once per problem (except the
// deliberate opposite-P distractor), so every problem is consistent by construction.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/gen_common.h"
#include "data/gen_random.h"

namespace rs::data {

constexpr int kProntoqaMaxHops = 6;

struct ProntoqaOptions {
  std::vector<int> hops = {1, 2, 3, 4, 5, 6};  // row i gets hops[i % size]
  bool distractors = true;
};

// Throws rs::Error for n == 0 or any hop count outside 1..kProntoqaMaxHops.
std::vector<GenRow> make_prontoqa(uint64_t n, uint64_t seed, const ProntoqaOptions& opts);
GenRow make_prontoqa_row(GenRng& rng, int hops, bool distractors, const std::string& id);

}  // namespace rs::data
