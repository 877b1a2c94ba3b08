// The client side of a warm engine (README, "A warm engine for many short commands"): hand the
// command line to `reasonscope engine-server`, which forks a child of its already-initialised
// libtorch process for it, instead of exec'ing reasonscope-engine (~0.45 CPU-s of libtorch static
// initialisation per process). The child gets this process's stdio, environment, working
// directory, umask, nice value, ignored/blocked signals and resource limits, so the command
// behaves as the exec'd engine would; signals sent here are forwarded, and this process exits with
// the child's status (or dies of the child's signal).
#include "cli/warm_engine_client.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/warm_engine_wire.h"

extern char** environ;

namespace rs::cli {
namespace {

// The signals a terminal or a supervisor sends to stop or nudge a command; each is forwarded.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};

int g_conn = -1;
volatile sig_atomic_t g_caught = 0;

void forward(int sig) {
  const int saved = errno;
  const unsigned char b = static_cast<unsigned char>(sig);
  (void)!::send(g_conn, &b, 1, MSG_NOSIGNAL);
  g_caught = sig;
  errno = saved;
}

warm::Request describe_this_process(int argc, char** argv) {
  warm::Request r;
  r.argv.assign(argv, argv + argc);
  for (char** e = environ; e && *e; ++e) r.env.emplace_back(*e);
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd)) r.cwd = cwd;
  const mode_t m = ::umask(0);
  ::umask(m);
  r.umask = m;
  errno = 0;
  r.nice = ::getpriority(PRIO_PROCESS, 0);
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, nullptr, &blocked);
  for (int s = 1; s <= 64 && s < NSIG; ++s) {
    struct sigaction sa{};
    if (sigaction(s, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) r.ignored_signals |= 1ull << (s - 1);
    if (sigismember(&blocked, s) == 1) r.blocked_signals |= 1ull << (s - 1);
  }
  r.limits.resize(RLIM_NLIMITS);
  for (int i = 0; i < RLIM_NLIMITS; ++i) getrlimit(static_cast<__rlimit_resource>(i), &r.limits[i]);
  return r;
}

bool send_request(int fd, const std::string& payload) {
  // The header travels with the three descriptors; the payload follows as plain bytes.
  std::string header(warm::kMagic, sizeof warm::kMagic);
  const uint32_t n = static_cast<uint32_t>(payload.size());
  header.append(reinterpret_cast<const char*>(&n), sizeof n);
  iovec iov{header.data(), header.size()};
  int fds[3] = {0, 1, 2};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t k;
  do k = ::sendmsg(fd, &msg, MSG_NOSIGNAL); while (k < 0 && errno == EINTR);
  if (k != static_cast<ssize_t>(header.size())) return false;  // a closed stdio fd (EBADF) lands here
  return warm::write_all(fd, payload.data(), payload.size());
}

// After the command ran: exit as it did, or die of its signal as an exec'd engine would have.
int mirror_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    return 128 + sig;  // a signal that does not end a process by default
  }
  return 1;
}

}  // namespace

int run_in_warm_engine(int argc, char** argv) {
  const char* path = std::getenv(warm::kSocketVariable);
  if (!path || !*path || argc < 2) return kNoWarmEngine;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "engine-server") == 0) return kNoWarmEngine;  // the server itself
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) return kNoWarmEngine;
  std::strcpy(addr.sun_path, path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kNoWarmEngine;
  // No server listening (never started, stopped, idle-exited): run the engine as usual.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      !send_request(fd, warm::encode(describe_this_process(argc, argv)))) {
    ::close(fd);
    return kNoWarmEngine;
  }

  g_conn = fd;
  struct sigaction fwd{}, old[std::size(kForwarded)];
  fwd.sa_handler = forward;
  fwd.sa_flags = SA_RESTART;
  sigemptyset(&fwd.sa_mask);
  for (size_t i = 0; i < std::size(kForwarded); ++i) {
    sigaction(kForwarded[i], nullptr, &old[i]);
    if (old[i].sa_handler != SIG_IGN) sigaction(kForwarded[i], &fwd, nullptr);  // ignored stays ignored
  }
  char tag = 0;
  const bool got = warm::read_all(fd, &tag, 1);
  if (!got || tag == warm::kRefused) {
    // Nothing ran: restore the dispositions, honour a signal that came meanwhile, and let the
    // caller exec the engine.
    if (got && std::getenv("REASONSCOPE_ENGINE_VERBOSE")) {
      uint32_t n = 0;
      std::string why;
      if (warm::read_all(fd, &n, sizeof n) && n < 4096) {
        why.resize(n);
        if (!warm::read_all(fd, why.data(), n)) why.clear();
      }
      std::fprintf(stderr, "note: the warm engine at %s declined (%s); starting reasonscope-engine\n", path, why.c_str());
    }
    for (size_t i = 0; i < std::size(kForwarded); ++i) sigaction(kForwarded[i], &old[i], nullptr);
    ::close(fd);
    if (g_caught) ::raise(g_caught);
    return kNoWarmEngine;
  }
  int status = 0;
  if (tag != warm::kStarted || !warm::read_all(fd, &tag, 1) || tag != warm::kExited ||
      !warm::read_all(fd, &status, sizeof status)) {
    std::fprintf(stderr, "error: the warm engine at %s (REASONSCOPE_ENGINE_SOCKET) stopped before the command "
                         "reported its exit status\n", path);
    return 1;
  }
  ::close(fd);
  return mirror_status(status);
}

}  // namespace rs::cli
