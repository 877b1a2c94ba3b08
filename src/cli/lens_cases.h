// Shared by patch / edit: pick the two-hop cases a command works on (by label category). Thin
// glue only.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "methods/lens/twohop_case.h"

namespace rs::cli {

// category "" -> "hops_right_comp_wrong" when the rows are labelled, else every row;
// "all" -> every row; otherwise rows of that category (an error if none).
inline std::vector<lens::TwohopCase> select_cases(const std::vector<lens::TwohopCase>& all,
                                                  const std::string& category, const std::string& file) {
  bool labelled = false;
  for (const auto& c : all) labelled = labelled || !c.category.empty();
  std::string want = category;
  if (want.empty()) want = labelled ? "hops_right_comp_wrong" : "all";
  if (want != "all" && !labelled)
    fail(file, ": --category ", want, " needs labelled rows (run `reasonscope data label twohop` first)");
  std::vector<lens::TwohopCase> out;
  for (const auto& c : all)
    if (want == "all" || c.category == want) out.push_back(c);
  if (out.empty()) fail(file, ": no cases with category '", want, "'");
  log_info(str(out.size(), " case(s) of category '", want, "' from ", file));
  return out;
}

}  // namespace rs::cli
