// Shared pieces of the dataset generators (gen_*.cpp): the row type, atomic JSONL output and
// a few English helpers. Rows keep their fields in insertion order (nlohmann::ordered_json) so
// generated files read like the benchmark files they imitate (id first, answer last).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs::data {

using GenRow = nlohmann::ordered_json;

// Writes one JSON object per line through core/atomic_file.h: the file appears whole at `path`
// or not at all (an exception part-way leaves nothing behind).
void write_gen_rows(const std::string& path, const std::vector<GenRow>& rows);
// The exact bytes write_gen_rows would write (tests compare these for determinism).
std::string gen_rows_to_jsonl(const std::vector<GenRow>& rows);

// "a" or "an" for a following word (by its first letter; enough for the made-up and pooled
// words used here, none of which start with a silent consonant or a "you" sound).
const char* indefinite_article(std::string_view word);
std::string capitalize(std::string s);
std::string join(const std::vector<std::string>& parts, const std::string& sep);

}  // namespace rs::data
