// The audit runs each analysis as the command itself: this same binary, started as a child
// process with the command's own arguments (`verify spectral --data ... --out DIR/spectral`), so
// every section folder is exactly what that command writes and no method is reimplemented.
// A child per command also frees each analysis's memory before the next one starts.
//
// Interrupts (SIGINT, SIGTERM): the audit's handler only records the signal and passes it on to
// the running child. The child dies with its temporary files (AtomicFile's "<path>.tmp.<pid>")
// still on disk; once waitpid() returns, the audit removes them and cuts a torn last line off
// any .jsonl checkpoint (verify spectral appends one row per line), so an interrupted audit
// leaves only whole files behind, and a rerun resumes from them.
#pragma once
#include <string>
#include <vector>

namespace rs::cli::audit {

struct StepResult {
  int exit_code = 0;       // the child's exit status; 128 + signal when a signal ended it
  bool interrupted = false;
  std::string out;         // the child's stdout
  std::string err_tail;    // the last non-empty line of its stderr (its error message)
  std::string err;         // all of its stderr
  double seconds = 0;
  double cpu_seconds = 0;  // the child's user + system CPU time (wait4)
};

// Installs the SIGINT/SIGTERM handler (idempotent).
void install_interrupt_handler();
bool interrupted();
// The audit's own exit status once it stops: 128 + the signal it got (130, 143), else 130 (a
// child stopped by a signal sent to it alone).
int stop_status();

// Runs `<this binary> args...`, waits for it, cleans up after an interrupt under `clean_dir`.
StepResult run_self(const std::vector<std::string>& args, const std::string& clean_dir);

// After an interrupted child: remove "*.tmp.<digits>" files and cut torn last lines of *.jsonl
// files under dir (recursively). Returns how many files it touched.
int clean_partial_files(const std::string& dir);

}  // namespace rs::cli::audit
