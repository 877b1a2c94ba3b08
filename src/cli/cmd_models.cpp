// reasonscope models: the models scripts/setup.sh can install (core/paths.h kKnownModels), each
// with its size, whether it is installed, where, and the command that installs it. Reads no
// weights: "installed" means a readable file of the recorded size (setup.sh checked its sha256).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/paths.h"

namespace rs::cli {
namespace {

struct ModelsOptions {
  bool json = false;
};

// "installed", "absent" or "wrong size (N bytes, expected M)": a file that was replaced or cut.
std::string state_of(const KnownModel& m, const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) return "absent";
  if (static_cast<uint64_t>(st.st_size) != m.bytes)
    return "wrong size (" + std::to_string(st.st_size) + " bytes, expected " + std::to_string(m.bytes) + ")";
  return "installed";
}

std::string human(double v, const char* const* units) {
  int u = 0;
  while (v >= 1000 && units[u + 1]) v /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s", v, units[u]);
  return buf;
}

void run_models(const ModelsOptions& o) {
  nlohmann::json list = nlohmann::json::array();
  for (const KnownModel& m : kKnownModels) {
    const std::string path = known_model_path(m);
    const std::string state = state_of(m, path);
    list.push_back({{"name", m.name},
                    {"family", m.family},
                    {"architecture", m.architecture},
                    {"quantization", m.quant},
                    {"params", m.params},
                    {"file", m.file},
                    {"file_bytes", m.bytes},
                    {"sha256", m.sha256},
                    {"default", &m == &kKnownModels[0]},
                    {"installed", state == "installed"},
                    {"state", state},
                    {"path", path},
                    {"install", install_command(m)}});
  }
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"models", list}}.dump(2).c_str());
    return;
  }
  static const char* const counts[] = {"", "K", "M", "B", nullptr};
  static const char* const bytes[] = {" B", " kB", " MB", " GB", nullptr};
  std::printf("%-20s %-30s %-7s %-7s %7s %9s  %s\n", "NAME", "FAMILY", "ARCH", "QUANT", "PARAMS", "FILE",
              "STATE");
  for (const auto& j : list) {
    std::printf("%-20s %-30s %-7s %-7s %7s %9s  %s\n", j["name"].get<std::string>().c_str(),
                j["family"].get<std::string>().c_str(), j["architecture"].get<std::string>().c_str(),
                j["quantization"].get<std::string>().c_str(),
                human(static_cast<double>(j["params"].get<uint64_t>()), counts).c_str(),
                human(static_cast<double>(j["file_bytes"].get<uint64_t>()), bytes).c_str(),
                j["state"].get<std::string>().c_str());
    const bool in = j["installed"].get<bool>();
    std::printf("  %s %s\n", in ? "path:   " : "install:",
                (in ? j["path"] : j["install"]).get<std::string>().c_str());
  }
  std::printf("Use a model by name: reasonscope <command> --model NAME\n");
}

Registrar models_command{"models", "List the models scripts/setup.sh installs: family, size, installed or not, path",
              [](CLI::App& sub) {
                auto o = std::make_shared<ModelsOptions>();
                sub.add_flag("--json", o->json, "Print one JSON object on stdout");
                sub.footer("Example: reasonscope models; reasonscope info --model qwen2.5-coder-0.5b");
                sub.callback([o] { run_models(*o); });
              }};

}  // namespace
}  // namespace rs::cli
