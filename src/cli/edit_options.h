// --edit FILE on every model-using command (issue 11): after loading, add the weight deltas of
// an edit file (methods/lens/edit_file.h, written by `edit creme`) to the model in place. The
// file's model identity and shapes are checked first; a mismatch is one error, nothing applied.
// Native (quantised) weights cannot change in place: a command that decodes with hooks (generate)
// gets the checked edit back to add as hooks (methods/lens/edit_hooks.h); any other refuses it.
#pragma once
#include <memory>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "methods/lens/edit_file.h"
#include "methods/lens/edit_hooks.h"
#include "model/model.h"

namespace rs::cli {

// Returns the edit when it is to be added as hooks (native weights and as_hooks), else null.
inline std::shared_ptr<const lens::WeightEdit> apply_edit_option(Model& m, const std::string& path,
                                                                 bool as_hooks = false) {
  if (path.empty()) return nullptr;
  if (m.native && !as_hooks)
    fail_as(ExitCode::kUsage, "--edit ", path, ": this command cannot apply an edit to native (quantised) weights; "
            "add --weights dequant");
  return classify(ExitCode::kBadInput, [&]() -> std::shared_ptr<const lens::WeightEdit> {
    auto e = std::make_shared<lens::WeightEdit>(lens::load_edit(path));
    if (m.native) {
      lens::check_edit_hooks(m.config, *e, path);
      lens::check_edit(m, *e, path);
      log_info(str("edit ", path, ": ", e->deltas.size(), " weight delta(s), applied as hooks (native weights)"));
      return e;
    }
    lens::apply_edit(m, *e, path);
    log_info(str("applied edit ", path, ": ", e->deltas.size(), " weight delta(s)"));
    return nullptr;
  });
}

}  // namespace rs::cli
