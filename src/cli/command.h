// Subcommands register themselves: a file cmd_<name>.cpp defines
//   rs::cli::Registrar name_command{"name", "one-line help", [](CLI::App& sub) { ... }};
// where the lambda adds options to `sub` and sets sub.callback(...). main.cpp only dispatches.
// The variable is named after the command: a unity build (RS_UNITY) puts several files in one
// translation unit, where names in their anonymous namespaces must differ.
// Commands stay thin: parse options, call library code, write outputs.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace rs::cli {

struct CommandSpec {
  std::string name;
  std::string help;
  std::function<void(CLI::App&)> setup;
};

std::vector<CommandSpec>& command_registry();

// Parses argv (argv[0] = program name), runs the command and returns its exit status; errors are
// printed as "error: ..." on stderr (cli/app.cpp). main() is this. rethrow (an in-process caller,
// the Python module): errors leave as exceptions instead, a parse error as an rs::Error (kUsage).
int run(int argc, char** argv, bool rethrow = false);

// Ends an engine process with `status` once its command returned: flushes stdio and leaves
// without running static destructors, which in libtorch deregister every operator again (~0.1
// CPU-s per process; CI time, issue 21). Every output is complete by then (outputs are written
// atomically inside the command), so nothing is lost.
[[noreturn]] void finish_process(int status);

// Whether argv names a command this program registered, so that run() would run it (main.cpp:
// the torch-free `reasonscope` runs those and hands every other command line to
// reasonscope-engine).
bool runs_here(int argc, char** argv);

struct Registrar {
  Registrar(std::string name, std::string help, std::function<void(CLI::App&)> setup) {
    command_registry().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

// A command nested under a shared parent (`data label`, `verify qk`, ...) registers a placeholder
// named "parent-child" whose setup calls this: it finds or creates `parent` beside the
// placeholder, adds the child through `add` (once), and removes the placeholder.
inline void attach_under(CLI::App& placeholder, const std::string& parent, const std::string& parent_help,
                         const std::string& child, const std::function<void(CLI::App&)>& add) {
  CLI::App* app = placeholder.get_parent();
  auto named = [](const std::string& n) { return [n](CLI::App* a) { return a->get_name() == n; }; };
  auto found = app->get_subcommands(named(parent));
  CLI::App* p = found.empty() ? nullptr : found.back();
  if (!p) {
    p = app->add_subcommand(parent, parent_help);
    p->require_subcommand(1);
  }
  if (p->get_subcommands(named(child)).empty()) add(*p);
  app->remove_subcommand(&placeholder);  // last: this destroys the placeholder
}

// Options every model-using command shares (ARCHITECTURE.md, "Command line").
struct ModelOptions {
  std::string model;          // empty -> rs::default_model_path()
  std::string device = "cpu";
  std::string dtype = "f32";
  std::string weights = "auto";  // auto | dequant | native (model/model.h WeightFormat)
  int threads = 0;            // 0 -> number of cores
  uint64_t seed = 0;
  std::string edit;           // --edit FILE: weight deltas applied after loading (cli/edit_options.h)
};
void add_model_options(CLI::App& sub, ModelOptions& opts);
// The model path to use, with a clear error when the default model was never fetched.
std::string resolve_model_path(const ModelOptions& opts);

}  // namespace rs::cli
