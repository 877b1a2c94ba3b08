// `instructions`: the synthetic instruction tasks of METHODS.md section 5 (after Wu &
// Varshney, arXiv 2402.12151). T tasks, each a function given by 5 input -> output token
// mappings; the instruction naming a task is drawn from one of M instruction distributions,
// each a template with its own word pools (no filler word is shared between distributions), so
// instructions for one task vary in surface form. Every instruction contains one of the task's
// two keywords, which is what identifies the task.
//
// The tasks themselves (keywords and mappings) depend only on T, not on --seed, so train and
// held-out files made with different seeds share them; --seed picks the instances.
// Fields (the "instructions" schema): id, task ("task3"), distribution (0-based), instruction,
// input, output.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

constexpr int kInstructionMappings = 5;  // input -> output pairs per task

struct InstructionTask {
  std::vector<std::string> keywords;                        // 2 made-up words
  std::vector<std::pair<std::string, std::string>> mapping;  // kInstructionMappings pairs
};

int instruction_max_tasks();
int instruction_max_distributions();
// The T task definitions (deterministic in T alone). Throws rs::Error when T is out of range.
std::vector<InstructionTask> instruction_tasks(int tasks);
// The filler words distribution m may use (tests check the pools are disjoint).
std::vector<std::string> instruction_distribution_words(int m);
// Every word any row can contain (keywords of every task count, inputs, outputs, template words
// and every distribution's pools), sorted, no duplicates: the vocabulary a model trained on
// these tasks needs (methods/cluster builds its tokenizer from it).
std::vector<std::string> instruction_vocabulary();

std::vector<GenRow> make_instructions(uint64_t n, uint64_t seed, int tasks, int distributions);

}  // namespace rs::data
