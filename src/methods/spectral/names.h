// Names of the spectral metrics and Laplacians, apart from the maths (features.h, graph.h) so
// that the calibration-file reader (calibration_file.cpp) builds without libtorch and can be
// fuzzed under the sanitizers.
#pragma once
#include <array>
#include <string>

namespace rs::spectral {

enum class Metric : int { Fiedler = 0, Energy, Smoothness, Entropy, Hfer };
constexpr int kNumMetrics = 5;
constexpr std::array<Metric, kNumMetrics> kAllMetrics = {
    Metric::Fiedler, Metric::Energy, Metric::Smoothness, Metric::Entropy, Metric::Hfer};
const char* metric_name(Metric m);          // "fiedler", "energy", "smoothness", "entropy", "hfer"
Metric parse_metric(const std::string& s);  // throws rs::Error naming the value

enum class Laplacian { RandomWalk, Symmetric, Combinatorial };

// "rw" | "sym" | "comb" (throws rs::Error naming the value otherwise) and back.
Laplacian parse_laplacian(const std::string& name);
const char* laplacian_name(Laplacian kind);

}  // namespace rs::spectral
