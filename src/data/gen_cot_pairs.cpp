// Valid / corrupted chain-of-thought pairs (see gen_cot_pairs.h).
#include "data/gen_cot_pairs.h"

#include <utility>

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

std::string negate_sentence(const std::string& s) {
  const std::pair<const char*, const char*> flips[] = {{" is not ", " is "}, {" are not ", " are "}};
  for (const auto& [negative, positive] : flips) {
    size_t at = s.find(negative);
    if (at != std::string::npos)
      return s.substr(0, at) + positive + s.substr(at + std::string(negative).size());
  }
  for (const char* cop : {" is ", " are "}) {
    size_t at = s.find(cop);
    if (at != std::string::npos) {
      const size_t len = std::string(cop).size();
      return s.substr(0, at + len) + "not " + s.substr(at + len);
    }
  }
  fail("cot-pairs: cannot negate \"", s, "\" (expected \" is \" or \" are \")");
}

std::string cot_text(const std::string& context, const std::string& query,
                     const std::vector<std::string>& chain) {
  return context + "\n" + query + "\n" + join(chain, " ");
}

std::vector<GenRow> make_cot_pairs(const std::vector<nlohmann::json>& src, uint64_t seed) {
  std::vector<GenRow> out;
  out.reserve(2 * src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& r = src[i];
    const std::string id = r.at("id").get<std::string>();
    const std::string context = r.at("context").get<std::string>();
    const std::string query = r.at("query").get<std::string>();
    const auto chain = r.at("chain_of_thought").get<std::vector<std::string>>();
    const int64_t hops = r.at("hops").get<int64_t>();
    if (chain.empty()) fail("cot-pairs: row ", id, ": empty chain_of_thought cannot be corrupted");

    GenRow valid;
    valid["id"] = id + "-valid";
    valid["text"] = cot_text(context, query, chain);
    valid["label"] = 1;
    valid["source_id"] = id;
    valid["hops"] = hops;
    out.push_back(std::move(valid));

    GenRng rng = GenRng::stream(seed, i);
    const size_t n = chain.size();
    const bool shaped = n >= 3 && n % 2 == 1;  // fact, (rule, conclusion)*
    int kind = shaped ? static_cast<int>(rng.below(3)) : 0;
    std::vector<std::string> bad = chain;
    size_t step = 0;
    const char* name = "negated";
    if (kind == 0) {
      step = rng.below(n);
      bad[step] = negate_sentence(chain[step]);
    } else if (kind == 1) {
      name = "swapped";
      const size_t conclusion = 2 * (1 + rng.below((n - 1) / 2));  // 2, 4, ..., n-1
      step = rng.below(conclusion);                                // any earlier step
      std::swap(bad[step], bad[conclusion]);
    } else {
      name = "dropped";
      step = rng.below(n - 1);  // never the last: the remaining chain must lose a premise
      bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(step));
    }
    GenRow corrupt;
    corrupt["id"] = id + "-" + name;
    corrupt["text"] = cot_text(context, query, bad);
    corrupt["label"] = 0;
    corrupt["corruption"] = name;
    corrupt["corrupted_step"] = step;
    corrupt["source_id"] = id;
    corrupt["hops"] = hops;
    out.push_back(std::move(corrupt));
  }
  return out;
}

}  // namespace rs::data
