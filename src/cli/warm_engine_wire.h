// The messages between `reasonscope` (warm_engine_client.cpp) and `reasonscope engine-server`
// (warm_engine_server.cpp) on the server's Unix socket. Both ends are built from one commit, so
// the format carries a version only to fail clearly across builds.
//
//   client -> server: kMagic, u32 payload bytes (with the client's fds 0, 1, 2 as SCM_RIGHTS),
//                     then the payload: argv, environment, cwd, umask, nice, the ignored and the
//                     blocked signals, every resource limit (what an exec would have kept);
//                     afterwards one byte per signal the client caught, to forward.
//   server -> client: 'R' u32 length, reason: refused before anything ran (the client execs);
//                     'S': the command started; 'E' i32: its wait status (waitpid's).
#pragma once
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace rs::cli::warm {

// The variable naming the server's socket, read by the client, the server and the audit.
inline constexpr char kSocketVariable[] = "REASONSCOPE_ENGINE_SOCKET";

inline constexpr char kMagic[8] = {'R', 'S', 'W', 'A', 'R', 'M', '0', '1'};
inline constexpr uint32_t kMaxPayload = 4u << 20;  // argv + environment; Linux caps both far lower
inline constexpr char kRefused = 'R', kStarted = 'S', kExited = 'E';

struct Request {
  std::vector<std::string> argv, env;
  std::string cwd;
  uint32_t umask = 022;
  int32_t nice = 0;
  uint64_t ignored_signals = 0, blocked_signals = 0;  // bit (s - 1) for signal s
  std::vector<rlimit> limits;                         // index = RLIMIT_*
};

// Little-endian-agnostic: both ends are the same binary's build on one host.
class Writer {
 public:
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  const std::string& bytes() const { return buf_; }

 private:
  void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

// Every read checks the bytes left; a short or inconsistent payload leaves ok() false.
class Reader {
 public:
  explicit Reader(const std::string& buf) : buf_(buf) {}
  uint32_t u32() { return pod<uint32_t>(); }
  uint64_t u64() { return pod<uint64_t>(); }
  std::string str() {
    const uint32_t n = u32();
    if (!ok_ || n > buf_.size() - pos_) return fail<std::string>();
    std::string s = buf_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    const uint32_t n = u32();
    // Each string takes at least its 4-byte length: a count beyond that is a corrupt payload.
    if (!ok_ || n > (buf_.size() - pos_) / 4) return fail<std::vector<std::string>>();
    std::vector<std::string> v(n);
    for (auto& s : v) s = str();
    return v;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == buf_.size(); }

 private:
  template <class T>
  T pod() {
    T v{};
    if (!ok_ || sizeof v > buf_.size() - pos_) return fail<T>();
    std::memcpy(&v, buf_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <class T>
  T fail() {
    ok_ = false;
    return T{};
  }
  const std::string& buf_;
  size_t pos_ = 0;
  bool ok_ = true;
};

inline std::string encode(const Request& r) {
  Writer w;
  w.strs(r.argv);
  w.strs(r.env);
  w.str(r.cwd);
  w.u32(r.umask);
  w.u32(static_cast<uint32_t>(r.nice));
  w.u64(r.ignored_signals);
  w.u64(r.blocked_signals);
  w.u32(static_cast<uint32_t>(r.limits.size()));
  for (const rlimit& l : r.limits) {
    w.u64(l.rlim_cur);
    w.u64(l.rlim_max);
  }
  return w.bytes();
}

inline bool decode(const std::string& payload, Request& r) {
  Reader rd(payload);
  r.argv = rd.strs();
  r.env = rd.strs();
  r.cwd = rd.str();
  r.umask = rd.u32();
  r.nice = static_cast<int32_t>(rd.u32());
  r.ignored_signals = rd.u64();
  r.blocked_signals = rd.u64();
  const uint32_t n = rd.u32();
  if (!rd.ok() || n != RLIM_NLIMITS) return false;  // another build's limits: refuse
  r.limits.resize(n);
  for (rlimit& l : r.limits) {
    l.rlim_cur = rd.u64();
    l.rlim_max = rd.u64();
  }
  return rd.ok() && rd.at_end() && !r.argv.empty();
}

// read()/write() of exactly n bytes, retrying after signals; false at end of file or on error.
inline bool read_all(int fd, void* p, size_t n) {
  auto* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = ::read(fd, c, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
inline bool write_all(int fd, const void* p, size_t n) {
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::send(fd, c, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

}  // namespace rs::cli::warm
