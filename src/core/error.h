// Errors that carry their context: which file, which offset or line, what was expected.
// Every user-facing failure in reasonscope is an rs::Error; the CLI prints what() once and
// exits non-zero. Nothing below the CLI prints or exits on its own.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rs {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
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

// fail("file.gguf: offset ", off, ": expected ...") throws rs::Error.
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(rs::str(args...));
}

}  // namespace rs
