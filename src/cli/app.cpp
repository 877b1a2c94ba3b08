// The command line: the registry, the options every model command shares, and the dispatch that
// main.cpp and the Python module (python/src/bindings.cpp, in-process analyses) both call.
#include <algorithm>
#include <string>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/paths.h"

namespace rs::cli {

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

void add_model_options(CLI::App& sub, ModelOptions& o) {
  sub.add_option("--model,-m", o.model,
                 "Model: a .gguf file, a directory with config.json, *.safetensors and "
                 "tokenizer.json, or an installed model's name (`reasonscope models`; default: "
                 "smollm2-135m, fetched by scripts/setup.sh)");
  sub.add_option("--device", o.device, "cpu or cuda[:N]")->capture_default_str();
  sub.add_option("--dtype", o.dtype, "Weight/compute dtype: f32, bf16 or f16")
      ->check(CLI::IsMember({"f32", "bf16", "f16"}))
      ->capture_default_str();
  sub.add_option("--weights", o.weights,
                 "GGUF matrices: dequant (to --dtype, exact activations), native (kept quantised, "
                 "our SIMD kernels, 8-bit activations: fast decoding, CPU), auto (native for "
                 "generate, dequant for analyses)")
      ->check(CLI::IsMember({"auto", "dequant", "native"}))
      ->capture_default_str();
  sub.add_option("--threads", o.threads, "CPU threads (default: OMP_NUM_THREADS if set, else all cores)");
  sub.add_option("--seed", o.seed, "Random seed")->capture_default_str();
  sub.add_option("--edit", o.edit,
                 "Apply a weight edit (safetensors of weight deltas, e.g. from `edit creme`) after loading");
}

std::string resolve_model_path(const ModelOptions& o) { return resolve_model(o.model); }

}  // namespace rs::cli

namespace {

// The top-level options and every command this program registered: run() and runs_here() see
// the same tree.
void build_app(CLI::App& app, int& verbose, bool& quiet) {
  app.require_subcommand(1);
  app.add_flag("-v,--verbose", verbose, "More messages on stderr (repeatable)");
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  auto& registry = rs::cli::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    spec.setup(*sub);
  }
}

CLI::App* child_named(CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](CLI::App* a) { return a->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

}  // namespace

void rs::cli::finish_process(int status) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit(status);
}

bool rs::cli::runs_here(int argc, char** argv) {
  CLI::App app;
  int verbose = 0;
  bool quiet = false;
  build_app(app, verbose, quiet);
  int i = 1;
  // Only -v/-q may come before the command; anything else there (--help, a typo) goes to the
  // full program, whose answer then lists every command.
  auto global_flag = [](const std::string& a) {
    return a == "--verbose" || a == "--quiet" ||
           (a.size() > 1 && a[0] == '-' && a.find_first_not_of("vq", 1) == std::string::npos);
  };
  while (i < argc && global_flag(argv[i])) ++i;
  if (i >= argc) return false;
  CLI::App* sub = child_named(app, argv[i]);
  if (!sub) return false;
  // A parent (data, report) is here only with one of its children that is here: `data make` is,
  // `data label` and `data --help` (which lists label too) are not.
  if (sub->get_subcommands([](CLI::App*) { return true; }).empty()) return true;
  return i + 1 < argc && child_named(*sub, argv[i + 1]) != nullptr;
}

int rs::cli::run(int argc, char** argv, bool rethrow) {
  CLI::App app{
      "reasonscope: look inside transformer language models while they reason.\n"
      "Loads GGUF and Hugging Face safetensors models and runs them through libtorch."};
  int verbose = 0;
  bool quiet = false;
  build_app(app, verbose, quiet);
  app.parse_complete_callback([&] { rs::set_verbosity(quiet ? 0 : 1 + verbose); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (rethrow) throw rs::Error(e.what(), rs::ExitCode::kUsage);
    // --help and --version are "errors" with status 0; every real parse error is a usage error.
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(rs::ExitCode::kUsage);
  } catch (const rs::Error& e) {
    if (rethrow) throw;
    const int code = static_cast<int>(e.code());
    const bool stopped = e.code() == rs::ExitCode::kInterrupted || e.code() == rs::ExitCode::kTerminated;
    std::fprintf(stderr, stopped ? "%s\n" : "error: %s\n", e.what());  // stopped: the line says how to resume
    return code;
  } catch (const std::exception& e) {
    if (rethrow) throw;
    // libtorch's messages carry a C++ backtrace after the first line: keep the sentence only.
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    return 1;
  }
  return 0;
}
