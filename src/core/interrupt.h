// SIGINT / SIGTERM for the commands that run over a dataset (README, "Interrupts and --resume").
//
// The handler only records the signal: the command looks at interrupted() between two items,
// finishes or drops the item in hand, leaves its outputs whole (finished rows in its checkpoint,
// no "<path>.tmp.<pid>" file) and throws interrupted_error(), which main() turns into exit
// status 130 (SIGINT) or 143 (SIGTERM). A second signal means "stop now": the handler unlinks
// the temporary files registered below (AtomicFile registers its own) and calls _exit(130/143)
// at once, so even a stuck item never leaves a temporary file behind.
//
// Commands that never look at the flag do not install the handler, so Ctrl-C still ends them
// at once with the default action.
#pragma once
#include <string>

#include "core/error.h"

namespace rs {

// Installs the handlers (idempotent). Called by every command that checks interrupted(). A
// SIGINT that was ignored when the process started (a shell's background job) stays ignored.
void install_interrupt_handlers();
bool interrupt_handlers_installed();

// 0 while no signal came; SIGINT or SIGTERM once one did.
int interrupt_signal();
inline bool interrupted() { return interrupt_signal() != 0; }

// 130 for SIGINT, 143 for SIGTERM (128 + the signal number, as a shell reports it).
ExitCode interrupt_exit_code(int sig);

// The error a command throws once it has stopped cleanly: "<what> interrupted (SIGINT) ...;
// <how_to_resume>", with exit status 130 or 143.
[[noreturn]] void throw_interrupted(const std::string& what, const std::string& how_to_resume);

// Temporary files to unlink if a second signal ends the process at once. The registry holds a
// fixed number of paths (64); beyond that a file is simply not registered (its owner still
// removes it on every orderly exit). Thread-safe and async-signal-safe on the handler's side.
void register_temp_file(const std::string& path);
void unregister_temp_file(const std::string& path);

}  // namespace rs
