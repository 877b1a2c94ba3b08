#include "core/paths.h"

#include <unistd.h>

#include <cstdlib>

#include "core/error.h"
#include "core/folder.h"

namespace rs {

std::string cache_dir() {
  if (const char* c = std::getenv("REASONSCOPE_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/reasonscope";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/reasonscope";
}

const KnownModel* find_known_model(std::string_view name) {
  for (const KnownModel& m : kKnownModels)
    if (name == m.name) return &m;
  return nullptr;
}

std::string known_model_names() {
  std::string out;
  for (const KnownModel& m : kKnownModels) out += (out.empty() ? "" : ", ") + std::string(m.name);
  return out;
}

std::string known_model_path(const KnownModel& m) {
  if (m.env)
    if (const char* p = std::getenv(m.env); p && *p) return p;
  return cache_dir() + "/models/" + m.file;
}

std::string install_command(const KnownModel& m) {
  if (&m == &kKnownModels[0]) return "scripts/setup.sh";
  return std::string("scripts/setup.sh --with ") + m.name;
}

std::string resolve_model(const std::string& name_or_path) {
  const auto readable = [](const std::string& p) { return ::access(p.c_str(), R_OK) == 0; };
  if (name_or_path.empty()) {
    const std::string p = default_model_path();
    if (!readable(p))
      fail_as(ExitCode::kModel, p, ": default model not found; run scripts/setup.sh (or pass --model)");
    return p;
  }
  const KnownModel* known = find_known_model(name_or_path);
  // A known name wins over a same-named folder that is not a model (no config.json): a run
  // started where such a folder exists (an output folder named after its model) means the name.
  if (readable(name_or_path) && !(known && is_directory(name_or_path) && !readable(name_or_path + "/config.json")))
    return name_or_path;
  if (const KnownModel* m = known) {
    const std::string p = known_model_path(*m);
    if (!readable(p))
      fail_as(ExitCode::kModel, "model ", m->name, " is not installed (no file ", p, "); install it with ",
              install_command(*m));
    return p;
  }
  fail_as(ExitCode::kModel, name_or_path, ": cannot read model (no such file or directory) and not a known model name (",
          known_model_names(), "; see `reasonscope models`)");
}

std::string default_model_path() { return known_model_path(kKnownModels[0]); }

std::string gemma3_model_path() { return known_model_path(kKnownModels[1]); }

}  // namespace rs
