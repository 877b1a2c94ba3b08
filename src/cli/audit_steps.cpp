#include "cli/audit_steps.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/warm_engine_wire.h"
#include "core/error.h"

namespace rs::cli::audit {
namespace {

volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_child = 0;

void on_signal(int sig) {
  g_signal = sig;
  const pid_t c = static_cast<pid_t>(g_child);
  if (c > 0) ::kill(c, sig);  // async-signal-safe; the child's own default action ends it
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) fail("audit: cannot find this program's path (/proc/self/exe: ", std::strerror(errno), ")");
  buf[n] = 0;
  return buf;
}

std::string temp_file(int& fd) {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/reasonscope-audit-XXXXXX";
  std::vector<char> b(tmpl.begin(), tmpl.end());
  b.push_back(0);
  fd = ::mkstemp(b.data());
  if (fd < 0) fail(tmpl, ": cannot create a temporary file (", std::strerror(errno), ")");
  return b.data();
}

std::string slurp_and_remove(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ::unlink(path.c_str());
  return ss.str();
}

bool is_tmp_name(const std::string& name) {  // "<anything>.tmp.<digits>" (core/atomic_file.h)
  const size_t k = name.rfind(".tmp.");
  if (k == std::string::npos || k + 5 >= name.size()) return false;
  for (size_t i = k + 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
}

// A .jsonl whose last byte is not '\n' ends in a line cut by the interrupt: drop that line.
bool cut_torn_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.empty() || s.back() == '\n') return false;
  const size_t nl = s.rfind('\n');
  const off_t keep = nl == std::string::npos ? 0 : static_cast<off_t>(nl + 1);
  return ::truncate(path.c_str(), keep) == 0;
}

}  // namespace

void install_interrupt_handler() {
  static bool done = false;
  if (done) return;
  done = true;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_signal != 0; }

int stop_status() { return g_signal ? 128 + g_signal : 130; }

int clean_partial_files(const std::string& dir) {
  int touched = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) {
    const std::string p = dir + "/" + n;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      touched += clean_partial_files(p);
    } else if (is_tmp_name(n)) {
      touched += ::unlink(p.c_str()) == 0;
    } else if (n.size() > 6 && n.compare(n.size() - 6, 6, ".jsonl") == 0) {
      touched += cut_torn_line(p);
    }
  }
  return touched;
}

StepResult run_self(const std::vector<std::string>& args, const std::string& clean_dir) {
  StepResult r;
  if (interrupted()) {
    r.interrupted = true;
    r.exit_code = 128 + g_signal;
    return r;
  }
  const std::string exe = self_exe();
  int out_fd = -1, err_fd = -1;
  const std::string out_path = temp_file(out_fd), err_path = temp_file(err_fd);
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) fail("audit: fork failed (", std::strerror(errno), ")");
  if (pid == 0) {
    // Its own process group: a Ctrl-C at the terminal reaches the audit only, which passes it on
    // once; two signals would make the child stop at once instead of after its current row.
    ::setpgid(0, 0);
    // An audit started with SIGINT ignored (`audit ... &` from a script) still stops its commands
    // through the signal it passes on: the child must not inherit the ignored disposition.
    ::signal(SIGINT, SIG_DFL);
    // The step's CPU time (wait4 below, summary.json steps[].cpu_seconds) is its process's own: a
    // warm engine (REASONSCOPE_ENGINE_SOCKET) would run it outside this process tree.
    ::unsetenv(warm::kSocketVariable);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(exe.c_str(), argv.data());
    std::fprintf(stderr, "error: cannot run %s (%s)\n", exe.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  g_child = pid;
  if (g_signal) ::kill(pid, g_signal);  // a signal that arrived between fork and here
  int status = 0;
  struct rusage ru;
  std::memset(&ru, 0, sizeof ru);
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.cpu_seconds = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  g_child = 0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp_and_remove(out_path);
  r.err = slurp_and_remove(err_path);
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);)
    if (line.find_first_not_of(" \r\t") != std::string::npos) r.err_tail = line;
  if (r.err_tail.rfind("error: ", 0) == 0) r.err_tail = r.err_tail.substr(7);
  // 130 / 143: the child stopped on SIGINT / SIGTERM (its own handler, core/interrupt.h, or the
  // default action); whether the signal came through us or straight to it, the audit stops too.
  const bool child_stopped = r.exit_code == static_cast<int>(ExitCode::kInterrupted) ||
                             r.exit_code == static_cast<int>(ExitCode::kTerminated);
  if (interrupted() || child_stopped) {
    r.interrupted = true;
    clean_partial_files(clean_dir);
  }
  return r;
}

}  // namespace rs::cli::audit
