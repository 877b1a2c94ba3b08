// The Python baselines (tools/bench_llamacpp.py, tools/bench_python_stack.py) print one JSON
// object on stdout, possibly after other lines. Benches run them in the same session as our own
// measurement and read that object back.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace rs::bench {

// Runs `cmd` through the shell; the JSON object starting at the first '{' of its stdout, or
// nothing when the command cannot start, exits non-zero or prints no object. *exit_status gets
// pclose's status (-1 when the command could not start).
inline std::optional<nlohmann::json> run_json_command(const std::string& cmd, int* exit_status) {
  *exit_status = -1;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *exit_status = pclose(p);
  const size_t brace = out.find('{');
  if (*exit_status != 0 || brace == std::string::npos) return std::nullopt;
  return nlohmann::json::parse(out.substr(brace));
}

}  // namespace rs::bench
