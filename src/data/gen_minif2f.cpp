// The miniF2F sample of gen_minif2f.h.
#include "data/gen_minif2f.h"

#include <algorithm>

#include "core/error.h"
#include "data/gen_random.h"

namespace rs::data {

std::vector<GenRow> make_minif2f(uint64_t n, uint64_t seed) {
  std::vector<GenRow> rows;
  const std::string_view text = minif2f_dev_jsonl();
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    if (end > pos) rows.push_back(GenRow::parse(text.substr(pos, end - pos)));
    pos = end + 1;
  }
  std::vector<size_t> valid, invalid;
  for (size_t i = 0; i < rows.size(); ++i) (rows[i].at("label").get<int>() == 1 ? valid : invalid).push_back(i);
  const uint64_t want_valid = n / 2, want_invalid = n - n / 2;
  if (want_valid > valid.size() || want_invalid > invalid.size())
    fail("data make minif2f: --n ", n, " needs ", want_valid, " valid and ", want_invalid, " invalid proofs; the built-in "
         "miniF2F dev split has ", valid.size(), " valid and ", invalid.size(), " invalid (--n at most ", 2 * valid.size(), ")");
  GenRng rng(seed);
  rng.shuffle(valid);
  rng.shuffle(invalid);
  std::vector<size_t> keep(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(want_valid));
  keep.insert(keep.end(), invalid.begin(), invalid.begin() + static_cast<std::ptrdiff_t>(want_invalid));
  std::sort(keep.begin(), keep.end());
  std::vector<GenRow> out;
  for (size_t i : keep) out.push_back(std::move(rows[i]));
  return out;
}

}  // namespace rs::data
