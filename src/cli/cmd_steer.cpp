// reasonscope steer: control vectors (METHODS.md section 3). The subcommands live in
// cmd_steer_train.cpp, cmd_steer_eval.cpp and cmd_steer_convert.cpp.
#include "cli/command.h"
#include "cli/steer_commands.h"
#include "core/error.h"
#include "data/gen_common.h"

namespace rs::cli {

std::vector<int64_t> parse_layer_spec(const std::string& option, const std::string& spec, int64_t n_layer) {
  std::vector<int64_t> out;
  if (spec == "all") {
    for (int64_t l = 1; l < n_layer; ++l) out.push_back(l);
    return out;
  }
  for (int l : data::parse_int_list(option, spec)) {
    if (l < 0 || l >= n_layer)
      fail(option, ": layer ", l, " is out of range: the model has ", n_layer, " layers (0..", n_layer - 1, ")");
    out.push_back(l);
  }
  if (out.empty()) fail(option, ": no layers in '", spec, "'");
  return out;
}

std::string train_summary_path(const std::string& vector_path) {
  std::string base = vector_path;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".gguf") == 0) base.resize(base.size() - 5);
  return base + ".summary.json";
}

namespace {
Registrar reg{"steer", "Control vectors: train from pairs, evaluate on a task, convert files",
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
