// report.html of `verify spectral` (built from the report layer; the command only calls this).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "methods/spectral/analysis.h"

namespace rs::cli {

struct SpectralReportData {
  nlohmann::json summary;                      // the summary.json being written
  const spectral::Analysis* analysis = nullptr;  // null with --calibration
  std::vector<int> layers;
  std::vector<int> labels;                     // empty: unlabelled
  std::vector<double> score, token_count, mean_logprob;
  std::vector<std::vector<double>> spectrum;   // per row: eigenvalue quantiles at the detector's layer
};

void write_spectral_report(const SpectralReportData& d, const std::string& path);

}  // namespace rs::cli
