// `twohop`: two-hop fact questions over the tables in data/facts/ (METHODS.md section 4), with
// the fields of ../shared/benchmarks/mquake-2hop/dev.jsonl:
//   first_hop_question, second_hop_question, composed_questions (3 paraphrases), bridge_answer,
//   answer, composed_cloze, single_cloze, composed_subject, bridge_subject,
//   generalization_clozes/answers (other second hops on the same composed subject),
//   irrelevant_clozes/answers (the same second hop over 5 other subjects), id;
// plus subject, first_relation, second_relation and first_hop_cloze (the first hop as a cloze,
// answered by bridge_answer) so every answer can be checked against the tables.
//
// First hops: city -> country, landmark -> country, organisation -> headquarters country,
// organisation -> headquarters city. Second hops: country -> capital / official language /
// currency / continent; city -> country / continent. A question is skipped when its answer is
// the subject itself or appears inside the cloze (e.g. "the European Central Bank" -> Europe).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

struct TwohopQuestion {
  std::string subject;          // "Lyon"
  std::string first_relation;   // "city_country"
  std::string second_relation;  // "capital"
  std::string bridge;           // "France" (bare name)
  std::string bridge_subject;   // "France" / "the Netherlands"
  std::string answer;           // "Paris"
};

// Every question the tables allow, in a fixed order.
const std::vector<TwohopQuestion>& twohop_questions();
// The answer of one relation applied to one entity by direct table lookup ("" if none):
// used by the tests to check rows independently of the composition code.
std::string twohop_lookup(const std::string& relation, const std::string& entity);

// n distinct questions drawn by the seed; throws rs::Error when n is 0 or larger than the
// number of questions the tables allow.
std::vector<GenRow> make_twohop(uint64_t n, uint64_t seed);

}  // namespace rs::data
