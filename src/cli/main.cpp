// reasonscope <command> [options]: the program users run. It links no libtorch, whose static
// initialisation costs ~0.5 CPU-s in every process (even `--help`), so the torch-free commands
// (data make/check, models, tokenize, report, audit, whose steps are child processes)
// start at once. Every other command line is handed, unchanged, to reasonscope-engine (installed
// beside it, engine_main.cpp), which runs every command: execv keeps this process, so its pid,
// signals, stdio and exit status are the engine's own. When REASONSCOPE_ENGINE_SOCKET names a
// listening `reasonscope engine-server`, the command runs in a fork of that warm engine instead
// (warm_engine_client.cpp), and this process stands in for it: same stdio, forwarded signals, its
// exit status.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/command.h"
#include "cli/warm_engine_client.h"
#include "core/error.h"

int main(int argc, char** argv) {
  if (rs::cli::runs_here(argc, argv)) return rs::cli::run(argc, argv);
  if (const int status = rs::cli::run_in_warm_engine(argc, argv); status != rs::cli::kNoWarmEngine) return status;
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) {
    std::fprintf(stderr, "error: cannot find this program's path (/proc/self/exe: %s)\n", std::strerror(errno));
    return static_cast<int>(rs::ExitCode::kFailure);
  }
  // "<this program>-engine": a copy renamed reasonscope-abc finds reasonscope-abc-engine.
  const std::string engine = std::string(buf, static_cast<size_t>(n)) + "-engine";
  ::execv(engine.c_str(), argv);
  std::fprintf(stderr, "error: cannot run %s, which runs this command (%s); it is built beside this program\n",
               engine.c_str(), std::strerror(errno));
  return static_cast<int>(rs::ExitCode::kFailure);
}
