// The demo page of `reasonscope report demo`: every chart type, a table and a verdict, drawn
// from made-up data generated from a seed, so the report layer can be looked at and tested
// without a model. The shapes mimic what the analyses produce (METHODS.md); the numbers mean
// nothing.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace rs::report {

Report make_demo_report(uint64_t seed);

// summary.json of the demo: command, seed, files and the page outline (Report::outline()).
nlohmann::json demo_summary(const Report& report, uint64_t seed);

}  // namespace rs::report
