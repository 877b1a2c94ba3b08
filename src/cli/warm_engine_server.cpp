// reasonscope engine-server: one engine that has paid libtorch's static initialisation once
// (~0.45 CPU-s: the dispatcher registers every operator) and runs each command handed to it by
// `reasonscope` (warm_engine_client.cpp) in a fork of itself. For scripts and test suites that run
// many short commands; README, "A warm engine for many short commands".
//
// Per connection the server forks a handler, which checks the request and forks the worker that
// runs the command. The handler stays between client and worker: it forwards the client's
// signals, kills the worker when the client goes away (SIGKILL, a ctest timeout), and sends back
// the worker's wait status. Forking is safe because nothing has started a thread yet (libgomp and
// OpenBLAS-openmp create theirs at the first parallel region): the server checks it at start.
//
// Linked into reasonscope-engine only: the Python module runs commands in-process, where a fork
// server makes no sense.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/preloaded_model.h"
#include "cli/warm_engine_wire.h"
#include "core/error.h"
#include "core/paths.h"
#include "core/text.h"
#include "model/model.h"

extern char** environ;

namespace rs::cli {
namespace {

constexpr char kStopMagic[8] = {'R', 'S', 'W', 'S', 'T', 'O', 'P', '1'};

struct ServerOptions {
  std::string socket;
  bool detach = false;
  bool stop = false;
  int idle_exit = 1800;
  std::string log;
  std::string preload;
};

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

// Variables read once, while the libraries load (libgomp, OpenBLAS, the C library's allocator,
// the dynamic loader, libtorch's own, our OpenBLAS kernel check): a fork inherits the server's values, so a client whose
// values differ is declined and execs its own engine. OMP_NUM_THREADS is not among them: the
// worker applies it (rs::set_threads), as every model command does anyway.
bool read_at_load(const std::string& entry) {
  static const char* const kPrefixes[] = {"LD_", "OMP_", "GOMP_", "KMP_", "OPENBLAS_", "GOTO", "MKL_", "DNNL_",
                                          "ONEDNN_", "MALLOC_", "GLIBC_TUNABLES=", "TORCH_", "PYTORCH_", "CUDA_",
                                          "RS_BLAS_SIMULATE_CORE="};  // read before main (core/blas_kernel.h)
  if (entry.rfind("OMP_NUM_THREADS=", 0) == 0) return false;
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](const char* p) { return entry.rfind(p, 0) == 0; });
}
std::vector<std::string> load_time_env(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  std::copy_if(env.begin(), env.end(), std::back_inserter(out), read_at_load);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> environment() {
  std::vector<std::string> v;
  for (char** e = environ; e && *e; ++e) v.emplace_back(*e);
  return v;
}

int threads_of_this_process() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

// Closes every descriptor from `first` on, except `keep` (-1: none).
void close_from(int first, int keep = -1) {
  auto close_range = [](int lo, int hi) {
    if (lo > hi) return;
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, lo, static_cast<unsigned>(hi), 0) == 0) return;
#endif
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    const long top = std::min<long>(hi, std::min<rlim_t>(l.rlim_cur, 1 << 16));
    for (long fd = lo; fd <= top; ++fd) ::close(static_cast<int>(fd));
  };
  if (keep < first) return close_range(first, INT32_MAX);
  close_range(first, keep - 1);
  close_range(keep + 1, INT32_MAX);
}

// ------------------------------------------------------------------------------------ worker
std::string env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string("=") + v : std::string();  // "" when unset, "=" when set empty
}

[[noreturn]] void run_worker(const warm::Request& r, const int fds[3], pid_t handler) {
  const std::string omp_num_threads = env_value("OMP_NUM_THREADS");  // the server's
  // Dies with its handler, which dies with the client's connection.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != handler) ::_exit(1);
  ::setsid();  // its own session: no signal meant for the server's terminal or group reaches it
  for (int i = 0; i < 3; ++i) ::dup2(fds[i], i);
  close_from(3);
  if (::chdir(r.cwd.c_str()) != 0) {
    std::fprintf(stderr, "error: the warm engine cannot enter the working directory %s: %s\n", r.cwd.c_str(),
                 std::strerror(errno));
    ::_exit(1);
  }
  ::umask(r.umask);
  ::clearenv();
  for (const std::string& e : r.env) ::putenv(::strdup(e.c_str()));
  for (int s = 1; s < NSIG && s <= 64; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    ::signal(s, (r.ignored_signals >> (s - 1)) & 1 ? SIG_IGN : SIG_DFL);  // fails harmlessly on libc's own
  }
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int s = 1; s < NSIG && s <= 64; ++s)
    if ((r.blocked_signals >> (s - 1)) & 1) sigaddset(&blocked, s);
  sigprocmask(SIG_SETMASK, &blocked, nullptr);
  // libgomp read the server's OMP_NUM_THREADS at load, and a preload ran at one thread; this
  // command's count applies. (Only then: at::set_num_threads also starts a thread pool, which a
  // command that sets its own count, or needs none, would not have started.)
  if (any_model_preloaded() || omp_num_threads != env_value("OMP_NUM_THREADS")) rs::set_threads(0);
  std::vector<char*> argv;
  for (const std::string& a : r.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  finish_process(run(static_cast<int>(r.argv.size()), argv.data()));
}

// ------------------------------------------------------------------------------------ handler
[[noreturn]] void refuse(int conn, const std::string& why) {
  const char tag = warm::kRefused;
  const uint32_t n = static_cast<uint32_t>(why.size());
  warm::write_all(conn, &tag, 1) && warm::write_all(conn, &n, sizeof n) && warm::write_all(conn, why.data(), n);
  ::_exit(0);
}

// Receives the header with its descriptors; false for anything but a request.
bool receive_header(int conn, char magic[8], uint32_t& payload, int fds[3], int& n_fds) {
  char header[sizeof warm::kMagic + sizeof(uint32_t)];
  iovec iov{header, sizeof header};
  alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t k;
  do k = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC); while (k < 0 && errno == EINTR);
  if (k <= 0) return false;
  n_fds = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (n_fds < 3) fds[n_fds++] = fd; else ::close(fd);
    }
  }
  if (static_cast<size_t>(k) < sizeof header && !warm::read_all(conn, header + k, sizeof header - static_cast<size_t>(k)))
    return false;
  std::memcpy(magic, header, sizeof warm::kMagic);
  std::memcpy(&payload, header + sizeof warm::kMagic, sizeof payload);
  return true;
}

// The process between one client and its worker.
[[noreturn]] void handle(int conn, const std::vector<std::string>& server_env) {
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::getuid()) ::_exit(1);
  char magic[8];
  uint32_t size = 0;
  int fds[3], n_fds = 0;
  if (!receive_header(conn, magic, size, fds, n_fds)) ::_exit(1);
  if (std::memcmp(magic, kStopMagic, sizeof magic) == 0) {
    ::kill(::getppid(), SIGTERM);
    ::_exit(0);
  }
  if (std::memcmp(magic, warm::kMagic, sizeof magic) != 0) ::_exit(1);  // another build's client
  if (size > warm::kMaxPayload) refuse(conn, "request of " + std::to_string(size) + " bytes");
  std::string payload(size, '\0');
  if (!warm::read_all(conn, payload.data(), size)) ::_exit(1);
  warm::Request r;
  if (!warm::decode(payload, r)) refuse(conn, "malformed request");
  if (n_fds != 3) refuse(conn, "stdin, stdout and stderr did not all arrive");
  if (load_time_env(r.env) != server_env)
    refuse(conn, "an environment variable read at load time (LD_*, OMP_*, MALLOC_*, ...) differs from the server's");
  // A fork starts with the server's address space (libtorch, preloaded models), which an exec'd
  // engine would not have: under a memory limit the command would meet it sooner.
  for (int res : {RLIMIT_AS, RLIMIT_DATA})
    if (r.limits[res].rlim_cur != RLIM_INFINITY)
      refuse(conn, "a memory limit (ulimit -v / RLIMIT_AS or RLIMIT_DATA) is set; a fork would count the server's memory");
  // Nice value and resource limits as the client had them; one the server cannot give (a lower
  // nice value, a higher hard limit) declines.
  errno = 0;
  const int own_nice = ::getpriority(PRIO_PROCESS, 0);
  if (r.nice != own_nice && ::setpriority(PRIO_PROCESS, 0, r.nice) != 0)
    refuse(conn, "nice value " + std::to_string(r.nice) + " below the server's");
  for (int i = 0; i < RLIM_NLIMITS; ++i) {
    const auto res = static_cast<__rlimit_resource>(i);
    rlimit own{};
    getrlimit(res, &own);
    if ((own.rlim_cur != r.limits[i].rlim_cur || own.rlim_max != r.limits[i].rlim_max) &&
        setrlimit(res, &r.limits[i]) != 0)
      refuse(conn, "resource limit " + std::to_string(i) + " above the server's");
  }

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC);
  if (sfd < 0) refuse(conn, std::string("signalfd: ") + std::strerror(errno));
  const pid_t self = ::getpid();
  const pid_t worker = ::fork();
  if (worker < 0) refuse(conn, std::string("fork: ") + std::strerror(errno));
  if (worker == 0) run_worker(r, fds, self);
  for (int fd : fds) ::close(fd);
  const char started = warm::kStarted;
  warm::write_all(conn, &started, 1);

  pollfd p[2] = {{conn, POLLIN, 0}, {sfd, POLLIN, 0}};
  while (true) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) {
      signalfd_siginfo info;
      (void)!::read(sfd, &info, sizeof info);
      int status = 0;
      if (::waitpid(worker, &status, WNOHANG) == worker) {
        const char tag = warm::kExited;
        warm::write_all(conn, &tag, 1) && warm::write_all(conn, &status, sizeof status);
        ::_exit(0);
      }
    }
    if (p[0].revents) {
      unsigned char sigs[64];
      const ssize_t k = ::read(conn, sigs, sizeof sigs);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;  // the client is gone: so is its command
      for (ssize_t i = 0; i < k; ++i)
        if (sigs[i] >= 1 && sigs[i] < NSIG) ::kill(worker, sigs[i]);
    }
  }
  ::kill(worker, SIGKILL);
  ::waitpid(worker, nullptr, 0);
  ::_exit(0);
}

// ------------------------------------------------------------------------------------ server
sockaddr_un address_of(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    throw Error("--socket: a path of 1 to " + std::to_string(sizeof a.sun_path - 1) + " bytes, not '" + path + "'",
                ExitCode::kUsage);
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

// Asks the server at `path` to stop and waits until its socket is gone; false when none listens.
bool stop_server(const std::string& path) {
  const sockaddr_un a = address_of(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  char header[sizeof kStopMagic + sizeof(uint32_t)] = {};
  std::memcpy(header, kStopMagic, sizeof kStopMagic);
  warm::write_all(fd, header, sizeof header);
  char c;
  while (::read(fd, &c, 1) > 0) {}  // the handler closes once it has signalled the server
  ::close(fd);
  // The server removes its socket on the way out (within its 1 s poll).
  for (int i = 0; i < 300 && ::access(path.c_str(), F_OK) == 0; ++i) ::usleep(10000);
  return true;
}

bool this_binary_was_replaced() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 && std::string(buf, static_cast<size_t>(n)).find(" (deleted)") != std::string::npos;
}

void serve_forever(const ServerOptions& o) {
  const sockaddr_un a = address_of(o.socket);
  if (!o.preload.empty()) {
    // One thread: OpenMP keeps the threads of a parallel region, and a fork has none of them.
    rs::set_threads(1);
    for (const std::string& name : split_commas(o.preload)) {
      const std::string path = resolve_model(name);
      const auto t0 = std::chrono::steady_clock::now();
      preload_model(path, LoadOptions{});
      std::fprintf(stderr, "engine-server: preloaded %s (f32, %.1f s)\n", path.c_str(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  if (const int n = threads_of_this_process(); n != 1)
    throw Error("engine-server: this engine runs " + std::to_string(n) +
                " threads before any command, so a fork of it would not be safe");
  struct stat st{};
  if (::lstat(o.socket.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw Error("--socket " + o.socket + ": exists and is not a socket", ExitCode::kUsage);
    // A server already there may run an older build (a test run cut short never stopped it):
    // this one replaces it, so the commands run the code just built.
    if (stop_server(o.socket))
      std::fprintf(stderr, "engine-server: replaced the server that listened at %s\n", o.socket.c_str());
    ::unlink(o.socket.c_str());  // or left by a server that was killed
  }
  const int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const mode_t old_mask = ::umask(077);  // the socket runs commands as this user: this user only
  const bool bound = lfd >= 0 && ::bind(lfd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::umask(old_mask);
  if (!bound || ::listen(lfd, 64) != 0)
    throw Error("engine-server: cannot listen at " + o.socket + ": " + std::strerror(errno));
  ::lstat(o.socket.c_str(), &st);
  const ino_t inode = st.st_ino;

  if (o.detach) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("engine-server: fork: ") + std::strerror(errno));
    if (pid > 0) {
      std::fprintf(stderr, "engine-server: listening at %s (pid %d)\n", o.socket.c_str(), static_cast<int>(pid));
      ::_exit(0);  // the child owns the socket now
    }
    ::setsid();
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = o.log.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                                  : ::open(o.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    close_from(3, lfd);  // a pipe of whoever started it (ctest waits for those to close)
  } else {
    std::fprintf(stderr, "engine-server: listening at %s (pid %d); Ctrl-C stops it\n", o.socket.c_str(),
                 static_cast<int>(::getpid()));
  }
  struct sigaction sa{};
  sa.sa_handler = on_stop;  // no SA_RESTART: poll() returns
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
  ::signal(SIGCHLD, SIG_IGN);  // the kernel reaps the handlers
  ::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> server_env = load_time_env(environment());

  using Clock = std::chrono::steady_clock;
  auto last = Clock::now();
  while (!g_stop) {
    pollfd p{lfd, POLLIN, 0};
    const int n = ::poll(&p, 1, 1000);
    if (n == 0) {
      // Socket gone or replaced (a new server, a cleaned build tree), binary rebuilt, or idle
      // too long: stop.
      if (::lstat(o.socket.c_str(), &st) != 0 || st.st_ino != inode) break;
      if (this_binary_was_replaced()) break;  // rebuilt: forks would run the old code
      if (o.idle_exit > 0 && Clock::now() - last > std::chrono::seconds(o.idle_exit)) break;
      continue;
    }
    if (n < 0) continue;  // EINTR: g_stop decides
    const int conn = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    last = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(lfd);
      handle(conn, server_env);
    }
    ::close(conn);
  }
  if (::lstat(o.socket.c_str(), &st) == 0 && st.st_ino == inode) ::unlink(o.socket.c_str());
}

Registrar warm_engine_server_command{"engine-server",
              "Keep one engine loaded; `reasonscope` runs its commands in forks of it (REASONSCOPE_ENGINE_SOCKET)",
              [](CLI::App& sub) {
                auto o = std::make_shared<ServerOptions>();
                if (const char* env = std::getenv(warm::kSocketVariable)) o->socket = env;
                sub.description(
                    "Every command that needs libtorch starts with ~0.45 CPU-s of libtorch's static "
                    "initialisation. This server pays it once: while it listens, `reasonscope` started "
                    "with REASONSCOPE_ENGINE_SOCKET=<socket> hands its command line over, and the server "
                    "runs it in a fork of itself with the caller's stdio, environment, working directory, "
                    "umask, nice value, signal dispositions and resource limits; signals sent to the "
                    "caller are forwarded and the caller exits with the command's status. A caller whose "
                    "load-time variables (LD_*, OMP_* other than OMP_NUM_THREADS, MALLOC_*, ...) differ, "
                    "or when nothing listens, starts reasonscope-engine as usual. Peak-memory "
                    "measurements of a caller (/usr/bin/time) see only the caller: unset the variable "
                    "for those.");
                sub.add_option("--socket", o->socket, "Unix socket to listen at (default: $REASONSCOPE_ENGINE_SOCKET)");
                sub.add_flag("--detach", o->detach, "Return once listening; the server goes on in the background");
                sub.add_option("--idle-exit", o->idle_exit,
                               "Stop after this many seconds without a command (0: never)")
                    ->check(CLI::NonNegativeNumber)
                    ->capture_default_str();
                sub.add_option("--log", o->log, "With --detach: append the server's own messages here");
                sub.add_option("--preload", o->preload,
                               "Models (names or .gguf paths, comma-separated) to load once, in f32 with "
                               "dequantised weights: a command that loads the same file that way takes it "
                               "instead of loading it again (copy-on-write: edits stay in the command's process)");
                sub.add_flag("--stop", o->stop, "Stop the server listening at --socket (no error if none)");
                sub.footer("A server started at a socket where one listens replaces it. A server stops by itself "
                           "after --idle-exit, when its socket is removed, or when its binary is rebuilt.");
                sub.callback([o] {
                  if (o->socket.empty())
                    throw Error("engine-server: give --socket or set REASONSCOPE_ENGINE_SOCKET", ExitCode::kUsage);
                  if (!o->stop) return serve_forever(*o);
                  const bool stopped = stop_server(o->socket);
                  std::fprintf(stderr, "engine-server: %s at %s\n", stopped ? "stopped the one" : "none listening",
                               o->socket.c_str());
                });
              }};

}  // namespace
}  // namespace rs::cli
