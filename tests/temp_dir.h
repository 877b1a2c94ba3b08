// rs_test::temp_dir(prefix): a new folder /tmp/<prefix>XXXXXX, removed with its contents when the
// test binary exits (runs left hundreds of rs_* folders in /tmp).
#pragma once
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace rs_test {

inline std::string temp_dir(const std::string& prefix) {
  struct Made {
    std::vector<std::string> dirs;
    ~Made() {
      std::error_code ec;  // best effort at exit: never throw from here
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Made made;
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw std::filesystem::filesystem_error("mkdtemp", tmpl, std::error_code(errno, std::generic_category()));
  made.dirs.push_back(tmpl);
  return tmpl;
}

}  // namespace rs_test
