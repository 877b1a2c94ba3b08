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

// A layer list (core/layers.h) for steering. llama.cpp's control vectors have no direction.0
// (its loader rejects the name and llama_control_vector_apply starts at block 1), so block 0 is
// left out of `all` (said in the log and in --help) and refused where named. `option` names the
// flag in messages.
std::vector<int64_t> parse_steer_layers(const std::string& option, const std::string& spec, int64_t n_layer);

// The --help text of every steer --layers option.
inline constexpr const char* kSteerLayersHelp =
    "Blocks (README, \"Layer convention\"): all, A-B or A,B,C; block 0 is left out of all, since llama.cpp's "
    "control vectors have no direction.0";

// The training summary written beside a vector file: VEC.gguf -> VEC.summary.json.
std::string train_summary_path(const std::string& vector_path);

}  // namespace rs::cli
