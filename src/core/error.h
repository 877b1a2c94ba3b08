// Errors that carry their context: which file, which offset or line, what was expected.
// Every user-facing failure in reasonscope is an rs::Error; the CLI prints what() once and
// exits non-zero. Nothing below the CLI prints or exits on its own.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rs {

// Exit statuses, one per error class, the same for every command (README, "Exit statuses").
// Scripts and `audit` branch on these, never on an error's wording.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,        // anything not classified below (an internal error, an I/O failure)
  kUsage = 2,          // bad command line: unknown option, value out of range, missing argument
  kBadInput = 3,       // a data file is malformed (JSONL row, calibration, heads, vectors, edits)
  kModel = 4,          // the model cannot be loaded (missing, truncated, hostile, unsupported)
  kTooLong = 5,        // an input is longer than the model's context
  kInterrupted = 130,  // SIGINT (128 + 2), after the command stopped cleanly (core/interrupt.h)
  kTerminated = 143,   // SIGTERM (128 + 15), likewise
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, ExitCode code = ExitCode::kFailure)
      : std::runtime_error(msg), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// str("tensor ", name, " at offset ", off) -> one string.
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// fail("file.gguf: offset ", off, ": expected ...") throws rs::Error (exit status 1).
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(rs::str(args...));
}

// fail_as(ExitCode::kBadInput, "rows.jsonl:3: ...") throws rs::Error with that exit status.
template <typename... Args>
[[noreturn]] void fail_as(ExitCode code, const Args&... args) {
  throw Error(rs::str(args...), code);
}

// Runs f(); an rs::Error of the unclassified kind (kFailure) leaving it is re-thrown as `code`,
// so a reader's many checks share one class (every error while reading a calibration file is
// kBadInput, every error while loading a model is kModel). Classified errors pass unchanged.
template <typename F>
decltype(auto) classify(ExitCode code, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.code() != ExitCode::kFailure) throw;
    throw Error(e.what(), code);
  }
}

}  // namespace rs
