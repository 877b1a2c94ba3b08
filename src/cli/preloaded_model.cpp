#include "cli/preloaded_model.h"

#include <sys/stat.h>

#include <vector>

#include "core/error.h"

namespace rs::cli {
namespace {

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  bool operator==(const FileIdentity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

bool identify(const std::string& path, FileIdentity& id) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  id = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  return true;
}

bool same_options(const LoadOptions& a, const LoadOptions& b) {
  return a.device == b.device && a.dtype == b.dtype && a.fuse == b.fuse && a.weights == b.weights;
}

struct Preloaded {
  FileIdentity file;
  LoadOptions opts;
  Model model;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  bool taken = false;
};

std::vector<Preloaded>& preloaded() {
  static std::vector<Preloaded> v;
  return v;
}

}  // namespace

void preload_model(const std::string& path, const LoadOptions& opts) {
  Preloaded p;
  p.opts = opts;
  if (path.size() < 5 || path.compare(path.size() - 5, 5, ".gguf") != 0 || !identify(path, p.file))
    fail_as(ExitCode::kUsage, "--preload: ", path, " is not a .gguf file (only those are preloaded)");
  p.model = load_model(path, opts);
  p.tokenizer = tok::Tokenizer::from_model_path(path);
  preloaded().push_back(std::move(p));
}

bool take_preloaded(const std::string& path, const LoadOptions& opts, Model& model,
                    std::unique_ptr<tok::Tokenizer>& tokenizer) {
  FileIdentity now;
  for (Preloaded& p : preloaded()) {
    if (p.taken || !same_options(p.opts, opts) || !identify(path, now) || !(now == p.file)) continue;  // any path to it
    model = std::move(p.model);
    tokenizer = std::move(p.tokenizer);
    p.taken = true;
    return true;
  }
  return false;
}

bool any_model_preloaded() { return !preloaded().empty(); }

}  // namespace rs::cli
