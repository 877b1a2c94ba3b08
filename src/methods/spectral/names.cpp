// Metric and Laplacian names (names.h).
#include "methods/spectral/names.h"

#include "core/error.h"

namespace rs::spectral {

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::Fiedler: return "fiedler";
    case Metric::Energy: return "energy";
    case Metric::Smoothness: return "smoothness";
    case Metric::Entropy: return "entropy";
    case Metric::Hfer: return "hfer";
  }
  return "?";
}

Metric parse_metric(const std::string& s) {
  for (Metric m : kAllMetrics)
    if (s == metric_name(m)) return m;
  fail("metric: expected fiedler, energy, smoothness, entropy or hfer, got '", s, "'");
}

Laplacian parse_laplacian(const std::string& name) {
  if (name == "rw") return Laplacian::RandomWalk;
  if (name == "sym") return Laplacian::Symmetric;
  if (name == "comb") return Laplacian::Combinatorial;
  fail("--laplacian: expected rw, sym or comb, got '", name, "'");
}

const char* laplacian_name(Laplacian kind) {
  switch (kind) {
    case Laplacian::RandomWalk: return "rw";
    case Laplacian::Symmetric: return "sym";
    case Laplacian::Combinatorial: return "comb";
  }
  return "?";
}

}  // namespace rs::spectral
