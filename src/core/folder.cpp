#include "core/folder.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace rs {

void remove_flat_folder(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    // Names first, unlinks after: POSIX leaves unspecified what readdir returns for entries
    // removed while the folder is open.
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    ::closedir(d);
    for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
  }
  ::rmdir(dir.c_str());
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace rs
