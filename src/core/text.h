// Small text helpers shared by several layers.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace rs {

// Levenshtein distance; used to suggest the nearest valid name in "unknown name" errors.
size_t edit_distance(const std::string& a, const std::string& b);

// Deepest [ / { nesting outside JSON strings (escapes inside strings skipped). Checked before
// handing untrusted JSON to nlohmann::json, whose parser recurses once per level.
int json_nesting_depth(std::string_view s);

// "a,b,,c" -> {"a", "b", "", "c"}: every comma splits, empty items are kept (callers reject them
// with their own option's name); "" -> {""}. The one comma splitter of the command line.
std::vector<std::string> split_commas(std::string_view s);

}  // namespace rs
