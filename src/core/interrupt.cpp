#include "core/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <cstdlib>
#include <cstring>

namespace rs {
namespace {

volatile sig_atomic_t g_signal = 0;
std::atomic<bool> g_installed{false};

constexpr int kSlots = 64;
std::atomic<char*> g_temp[kSlots];

void on_signal(int sig) {
  if (g_signal != 0) {  // the second signal: stop now, leaving no temporary file behind
    for (auto& slot : g_temp)
      if (char* p = slot.load()) ::unlink(p);
    ::_exit(128 + g_signal);
  }
  g_signal = sig;
}

}  // namespace

void install_interrupt_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in progress complete instead of failing with EINTR
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old;
    std::memset(&old, 0, sizeof old);
    ::sigaction(sig, nullptr, &old);
    // A shell starts `cmd &` with SIGINT ignored so that Ctrl-C meant for the foreground job
    // leaves it alone: keep it that way.
    if (sig == SIGINT && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

bool interrupt_handlers_installed() { return g_installed.load(); }

int interrupt_signal() { return g_signal; }

ExitCode interrupt_exit_code(int sig) {
  return sig == SIGTERM ? ExitCode::kTerminated : ExitCode::kInterrupted;
}

void throw_interrupted(const std::string& what, const std::string& how_to_resume) {
  const int sig = interrupt_signal();
  throw Error(str(what, " interrupted (", sig == SIGTERM ? "SIGTERM" : "SIGINT", "); ", how_to_resume),
              interrupt_exit_code(sig));
}

void register_temp_file(const std::string& path) {
  char* copy = ::strdup(path.c_str());
  if (!copy) return;
  for (auto& slot : g_temp) {
    char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, copy)) return;
  }
  std::free(copy);
}

// A handler running on another thread may still read a path just unregistered, so paths are
// never freed; they stay reachable from this list (leak checkers then stay quiet) until exit.
struct RetiredPath {
  RetiredPath* next;
  char* path;
};
std::atomic<RetiredPath*> g_retired{nullptr};

void unregister_temp_file(const std::string& path) {
  for (auto& slot : g_temp) {
    char* p = slot.load();
    if (p && path == p && slot.compare_exchange_strong(p, nullptr)) {
      auto* r = new (std::nothrow) RetiredPath{g_retired.load(), p};
      if (r) while (!g_retired.compare_exchange_weak(r->next, r)) {}
      return;
    }
  }
}

}  // namespace rs
