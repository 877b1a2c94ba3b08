#include "core/paths.h"

#include <cstdlib>

namespace rs {

std::string cache_dir() {
  if (const char* c = std::getenv("REASONSCOPE_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/reasonscope";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/reasonscope";
}

std::string default_model_path() {
  if (const char* m = std::getenv("REASONSCOPE_MODEL"); m && *m) return m;
  return cache_dir() + "/models/" + kDefaultModelFile;
}

std::string gemma3_model_path() {
  if (const char* m = std::getenv("REASONSCOPE_GEMMA3"); m && *m) return m;
  return cache_dir() + "/models/" + kGemma3ModelFile;
}

}  // namespace rs
