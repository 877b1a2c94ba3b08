// --edit FILE on every model-using command (issue 11): after loading, add the weight deltas of
// an edit file (methods/lens/edit_file.h, written by `edit creme`) to the model in place. The
// file's model identity and shapes are checked first; a mismatch is one error, nothing applied.
#pragma once
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "methods/lens/edit_file.h"
#include "model/model.h"

namespace rs::cli {

inline void apply_edit_option(Model& m, const std::string& path) {
  if (path.empty()) return;
  classify(ExitCode::kBadInput, [&] {
    const lens::WeightEdit e = lens::load_edit(path);
    lens::apply_edit(m, e, path);
    log_info(str("applied edit ", path, ": ", e.deltas.size(), " weight delta(s)"));
  });
}

}  // namespace rs::cli
