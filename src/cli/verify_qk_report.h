// report.html of `verify qk`: per-head accuracy heat maps, accuracy by depth for the QK judges
// against the model's own answer, and the best heads' score distributions (answer vs other).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "methods/qk/qk_eval.h"
#include "report/report.h"

namespace rs::cli {

// summary: the summary.json object (numbers and run settings).
report::Report build_qk_report(const qk::Evaluation& ev, const nlohmann::json& summary);

}  // namespace rs::cli
