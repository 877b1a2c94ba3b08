// `reasonscope data make KIND ...` as a library call: checks the options of one generator,
// makes the rows and writes them atomically. The CLI (cli/cmd_data_make.cpp) only parses.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

struct MakeOptions {
  std::string kind;                    // see dataset_kinds()
  std::optional<int64_t> n;            // rows (generators) or source rows to use (--from kinds)
  uint64_t seed = 0;
  std::optional<std::string> hops;     // prontoqa: "3", "1-6", "1,3,5" (default "1-6")
  std::optional<std::string> distractors;  // prontoqa: "on" / "off" (default "on")
  std::optional<std::string> from;     // cot-pairs, pairs: input JSONL
  std::optional<int> tasks;            // instructions (default 8)
  std::optional<int> distributions;    // instructions (default 4)
};

struct DatasetKind {
  std::string name;
  std::string summary;  // one line for --help
  bool needs_from;      // reads --from instead of generating from --n
};
const std::vector<DatasetKind>& dataset_kinds();

// Validates the options (one rs::Error naming the option and what was expected) and makes the
// rows. Nothing is written.
std::vector<GenRow> make_dataset(const MakeOptions& opts);
// make_dataset, then write_gen_rows(out): on any error no file appears at `out`.
// Returns the number of rows written.
size_t make_dataset_file(const MakeOptions& opts, const std::string& out);

}  // namespace rs::data
