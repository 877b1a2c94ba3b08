// Shared by patch / edit: pick the two-hop cases a command works on (by label category) and
// parse --layers. Thin glue only.
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

// "A-B", "A,B,C" or "A" -> layers, each checked against [0, n_layer).
inline std::vector<int> parse_layers(const std::string& spec, int n_layer) {
  std::vector<int> out;
  auto num = [&](const std::string& s) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size()) fail("--layers: expected A-B, A,B,... or auto, got '", spec, "'");
    if (v < 0 || v >= n_layer)
      fail("--layers: layer ", v, " is out of range (the model has layers 0-", n_layer - 1, ")");
    return v;
  };
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t dash = item.find('-', 1);
    if (dash != std::string::npos) {
      const int a = num(item.substr(0, dash)), b = num(item.substr(dash + 1));
      if (b < a) fail("--layers: range ", item, " runs backwards");
      for (int l = a; l <= b; ++l) out.push_back(l);
    } else {
      out.push_back(num(item));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace rs::cli
