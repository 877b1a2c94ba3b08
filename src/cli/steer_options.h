// --steer VEC.gguf --steer-layer L --steer-alpha A on generate, trace and score (issue 10): add
// alpha * v_L at blocks.{L}.hook_resid_post at every position, generated tokens included.
// Repeatable so vectors combine: the i-th --steer-layer / --steer-alpha go with the i-th --steer;
// a single --steer-layer or --steer-alpha applies to every file; no --steer-layer means every
// layer the file has (as llama.cpp's --control-vector does); no --steer-alpha means 1.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/error.h"
#include "hooks/hooks.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/steering.h"
#include "model/model.h"

namespace rs::cli {

struct SteerCliOptions {
  std::vector<std::string> files;
  std::vector<int64_t> layers;
  std::vector<double> alphas;
  bool any() const { return !files.empty(); }
};

inline void add_steer_options(CLI::App& sub, SteerCliOptions& o) {
  sub.add_option("--steer", o.files, "Control vector (.gguf, llama.cpp layout) to add while running (repeatable)");
  sub.add_option("--steer-layer", o.layers, "Layer to steer for the matching --steer (default: all in the file)");
  sub.add_option("--steer-alpha", o.alphas, "Strength for the matching --steer (default 1)");
}

// Checks the option counts (before the model loads) and the files against the model; adds the
// interventions to `hooks`. Returns whether anything was added.
inline bool apply_steer_options(const SteerCliOptions& o, const Model& m, Hooks& hooks) {
  const size_t n = o.files.size();
  if (n == 0) {
    if (!o.layers.empty() || !o.alphas.empty()) fail("--steer-layer / --steer-alpha need a --steer VEC.gguf");
    return false;
  }
  if (o.layers.size() > 1 && o.layers.size() != n)
    fail("--steer-layer: give one, or one per --steer (", n, "), got ", o.layers.size());
  if (o.alphas.size() > 1 && o.alphas.size() != n)
    fail("--steer-alpha: give one, or one per --steer (", n, "), got ", o.alphas.size());
  for (size_t i = 0; i < n; ++i) {
    const steer::ControlVectors cv = classify(ExitCode::kBadInput, [&] {
      steer::ControlVectors v = steer::read_control_vectors(o.files[i]);
      steer::check_against_model(v, m.config.d_model, m.config.n_layer, o.files[i]);
      return v;
    });
    std::vector<int64_t> layers;
    if (!o.layers.empty()) layers.push_back(o.layers.size() == 1 ? o.layers[0] : o.layers[i]);
    const double alpha = o.alphas.empty() ? 1.0 : o.alphas.size() == 1 ? o.alphas[0] : o.alphas[i];
    try {
      steer::add_steering(hooks, m, cv, layers, alpha);
    } catch (const Error& e) {
      fail(o.files[i], ": ", e.what());
    }
  }
  return true;
}

}  // namespace rs::cli
