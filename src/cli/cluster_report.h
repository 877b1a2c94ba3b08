// report.html of `cluster train` and `cluster analyze` (built from the report layer).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "methods/cluster/analyze.h"
#include "methods/cluster/trainer.h"

namespace rs::cli {

void write_cluster_train_report(const cluster::TrainResult& r, const nlohmann::json& summary,
                                const std::string& path);
void write_cluster_analyze_report(const cluster::AnalyzeResult& r, const nlohmann::json& summary,
                                  const std::string& path);

}  // namespace rs::cli
