// Helpers shared by the libFuzzer targets.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace rs::fuzz {

// Splits the input at NUL bytes into at most `max_parts` parts (the last takes the rest): one
// fuzz input can hold several files (JSON text never contains a raw NUL).
inline std::vector<std::string> split_nul(const uint8_t* data, size_t size, size_t max_parts) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && parts.size() < max_parts) {
      parts.emplace_back();
      continue;
    }
    parts.back().push_back(static_cast<char>(data[i]));
  }
  return parts;
}

// A per-process scratch file for readers that take a path. Under /dev/shm when it exists, so
// the fuzz loop does not touch the disk.
inline const std::string& scratch_path(const char* suffix) {
  static const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  static std::string path;
  if (path.empty()) {
    path = dir + "/rs-fuzz-" + std::to_string(::getpid()) + suffix;
    std::atexit([] { std::remove(path.c_str()); });  // libFuzzer ends with exit()
  }
  return path;
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

}  // namespace rs::fuzz
