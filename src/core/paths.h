// Where things live when the user did not say: the models scripts/setup.sh installs, by name.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace rs {

// A model scripts/setup.sh can install. The name, file, size and sha256 are those of setup.sh's
// MODELS table (tests/cli/test_models.sh checks that the two agree); the rest is what
// `reasonscope models` shows, measured on the file itself.
struct KnownModel {
  const char* name;          // `--model NAME`, `scripts/setup.sh --with NAME`
  const char* file;          // under cache_dir()/models/
  uint64_t bytes;
  const char* sha256;
  const char* family;        // the published model it is a quantisation of
  const char* architecture;  // GGUF general.architecture
  uint64_t params;           // elements of every tensor in the file (the Qwen files carry an
                             // untied output.weight: 0.63B and 1.78B, not the 0.49B and 1.54B
                             // the models are named for)
  const char* quant;         // GGUF file type
  const char* env;           // environment variable that overrides the path, or nullptr
};

// The first is the default model, which plain scripts/setup.sh installs.
inline constexpr KnownModel kKnownModels[] = {
    {"smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf", 98362432ULL,
     "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "SmolLM2-135M-Instruct",
     "llama", 134515008ULL, "Q4_1", "REASONSCOPE_MODEL"},
    {"gemma3", "gemma-3-270m-q4_k_m.gguf", 253113024ULL,
     "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", "Gemma 3 270M (base)",
     "gemma3", 268098176ULL, "Q4_K_M", "REASONSCOPE_GEMMA3"},
    {"qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491400064ULL,
     "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
     "Qwen2.5-Coder-0.5B-Instruct", "qwen2", 630167424ULL, "Q4_K_M", nullptr},
    {"qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1117320768ULL,
     "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
     "Qwen2.5-Coder-1.5B-Instruct", "qwen2", 1777088000ULL, "Q4_K_M", nullptr},
};

inline constexpr const char* kDefaultModelFile = kKnownModels[0].file;
inline constexpr const char* kDefaultModelSha256 = kKnownModels[0].sha256;
// Installed on request by `scripts/setup.sh --with gemma3` (the tests that need it skip when it is
// absent; the README's test command installs it).
inline constexpr const char* kGemma3ModelFile = kKnownModels[1].file;
inline constexpr const char* kGemma3ModelSha256 = kKnownModels[1].sha256;

// The entry called `name`, or nullptr.
const KnownModel* find_known_model(std::string_view name);
// "a, b, c": every known name, for messages.
std::string known_model_names();
// $<env> if the entry has one and it is set, else cache_dir()/models/<file>.
std::string known_model_path(const KnownModel& m);
// The command that installs it: "scripts/setup.sh" or "scripts/setup.sh --with NAME".
std::string install_command(const KnownModel& m);
// What --model means: empty -> the default model; a readable path -> itself; a known name -> its
// installed file. Otherwise throws rs::Error (ExitCode::kModel): a known name that is not
// installed names the setup.sh command, an unknown one lists the known names.
std::string resolve_model(const std::string& name_or_path);

// $REASONSCOPE_GEMMA3 if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope/models/<file>.
std::string gemma3_model_path();
// $REASONSCOPE_MODEL if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope/models/<file>.
std::string default_model_path();
// $REASONSCOPE_CACHE if set, else $XDG_CACHE_HOME (or ~/.cache)/reasonscope.
std::string cache_dir();

}  // namespace rs
