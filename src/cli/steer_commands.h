// `reasonscope steer {train,eval,convert}` (issue 10). cmd_steer.cpp registers `steer` and calls
// these to attach each subcommand; each lives in its own file.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rs::cli {

void setup_steer_train(CLI::App& steer);
void setup_steer_eval(CLI::App& steer);
void setup_steer_convert(CLI::App& steer);

// "all" -> 1..n_layer-1 (layer 0 cannot be stored: llama.cpp rejects direction.0); "A-B", "L" or
// "A,B,C" otherwise, each in 0..n_layer-1. `option` names the flag in messages.
std::vector<int64_t> parse_layer_spec(const std::string& option, const std::string& spec, int64_t n_layer);

// The training summary written beside a vector file: VEC.gguf -> VEC.summary.json.
std::string train_summary_path(const std::string& vector_path);

}  // namespace rs::cli
