// reasonscope data make KIND --n N --seed S [options] --out F.jsonl: write one of the built-in
// datasets (src/data/gen_*.h). Thin: options -> rs::data::MakeOptions -> make_dataset_file.
//
// Registered as the `data` command itself; `data check` (cmd_data_check.cpp) attaches to it
// (the registry sets commands up in name order, so "data" comes before "data-check").
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/log.h"
#include "data/gen_instructions.h"
#include "data/gen_make.h"
#include "data/gen_prontoqa.h"

namespace {

struct MakeCliOptions {
  std::string kind, out, hops, distractors, from;
  int64_t n = 0;
  uint64_t seed = 0;
  int tasks = 8, distributions = 4;
};

std::string kinds_help() {
  std::string out = "Kinds:";
  for (const auto& k : rs::data::dataset_kinds()) out += "\n  " + k.name + ": " + k.summary;
  out += "\nExamples:\n"
         "  reasonscope data make prontoqa --n 600 --seed 1 --hops 1,3,5 --out pq.jsonl\n"
         "  reasonscope data make cot-pairs --from pq.jsonl --seed 1 --out cot.jsonl\n"
         "  reasonscope data make babi15 --n 200 --seed 1 --out babi.jsonl\n"
         "  reasonscope data make pairs --from babi.jsonl --seed 1 --out babi-pairs.jsonl\n"
         "  reasonscope data make instructions --n 5000 --seed 1 --tasks 8 --distributions 4 "
         "--out instr.jsonl";
  return out;
}

void add_make(CLI::App& data) {
  auto o = std::make_shared<MakeCliOptions>();
  CLI::App* make = data.add_subcommand(
      "make",
      "Make a dataset (prontoqa, cot-pairs, twohop, babi15, ioi, instructions, pairs) and write "
      "it as JSONL, atomically: on any error no file is left behind. The same --seed gives the "
      "same bytes.");
  make->footer(kinds_help());
  make->add_option("kind", o->kind, "Dataset kind (see above)")->required();
  auto* n = make->add_option("--n", o->n,
                             "Rows to generate (required for generators); with --from: use the "
                             "first N rows of the file (default: all)");
  make->add_option("--seed", o->seed, "Random seed (same seed -> identical file)")
      ->capture_default_str();
  make->add_option("--out,-o", o->out, "Output JSONL file")->required();
  auto* hops = make->add_option(
      "--hops", o->hops,
      "prontoqa: reasoning depth, 1 to " + std::to_string(rs::data::kProntoqaMaxHops) +
          ": one value (3), a range (1-6) or a list (1,3,5); rows cycle through the list "
          "(default 1-6)");
  auto* distractors = make->add_option(
      "--distractors", o->distractors,
      "prontoqa: on (extra rules, a second membership and the opposite property on an "
      "unreachable concept) or off (only the proof's premises) (default on)");
  auto* from = make->add_option("--from", o->from,
                                "cot-pairs: a prontoqa JSONL file; pairs: an mc (babi15, ioi) or "
                                "prontoqa JSONL file");
  auto* tasks = make->add_option(
      "--tasks", o->tasks,
      "instructions: number of tasks T, 1 to " + std::to_string(rs::data::instruction_max_tasks()) +
          " (default 8)");
  auto* dists = make->add_option("--distributions", o->distributions,
                                 "instructions: instruction distributions M, 1 to " +
                                     std::to_string(rs::data::instruction_max_distributions()) +
                                     " (default 4)");
  make->callback([=] {
    rs::data::MakeOptions m;
    m.kind = o->kind;
    m.seed = o->seed;
    if (n->count()) m.n = o->n;
    if (hops->count()) m.hops = o->hops;
    if (distractors->count()) m.distractors = o->distractors;
    if (from->count()) m.from = o->from;
    if (tasks->count()) m.tasks = o->tasks;
    if (dists->count()) m.distributions = o->distributions;
    size_t rows = rs::data::make_dataset_file(m, o->out);
    rs::log_info("data make " + o->kind + ": wrote " + std::to_string(rows) + " rows to " + o->out);
  });
}

rs::cli::Registrar data_make_command{"data", "Datasets: generate (data make), validate (data check), label (data label)",
                       [](CLI::App& data) {
                         data.require_subcommand(1);
                         add_make(data);
                       }};

}  // namespace
