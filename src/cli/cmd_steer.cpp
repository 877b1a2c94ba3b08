// reasonscope steer: control vectors (METHODS.md section 3). The subcommands live in
// cmd_steer_train.cpp, cmd_steer_eval.cpp and cmd_steer_convert.cpp.
#include "cli/command.h"
#include "cli/steer_commands.h"
#include "core/error.h"
#include "core/layers.h"
#include "core/log.h"
#include "core/text.h"

namespace rs::cli {

std::vector<int64_t> parse_steer_layers(const std::string& option, const std::string& spec, int64_t n_layer) {
  const int L = static_cast<int>(n_layer);
  for (const std::string& item : split_commas(spec))
    if (item != "all" && parse_layers(option, item, L).front() == 0)
      fail_as(ExitCode::kUsage, option, ": layer 0 cannot be exported: llama.cpp rejects direction.0 (it never "
              "steers the output of block 0); use blocks 1..", L - 1);
  std::vector<int> ls = parse_layers(option, spec, L);
  if (ls.front() == 0) {
    log_info(str(option, " ", spec, ": block 0 left out (llama.cpp's control vectors have no direction.0)"));
    ls.erase(ls.begin());
  }
  if (ls.empty())
    fail_as(ExitCode::kUsage, option, " ", spec, ": no block to steer: this model has only block 0, and llama.cpp's "
            "control vectors have no direction.0");
  return {ls.begin(), ls.end()};
}

std::string train_summary_path(const std::string& vector_path) {
  std::string base = vector_path;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".gguf") == 0) base.resize(base.size() - 5);
  return base + ".summary.json";
}

namespace {
Registrar steer_command{"steer", "Control vectors: train from pairs, evaluate on a task, convert files",
              [](CLI::App& sub) {
                sub.require_subcommand(1);
                setup_steer_train(sub);
                setup_steer_eval(sub);
                setup_steer_convert(sub);
                sub.footer(
                    "Files use llama.cpp's control-vector GGUF layout (direction.N is added to the output "
                    "of block N), so `llama-cli --control-vector VEC.gguf` reads them as they are.");
              }};
}  // namespace

}  // namespace rs::cli
