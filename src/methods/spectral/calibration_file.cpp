// The frozen detector as JSON (--save-calibration / --calibration; detector.h). Kept apart
// from the selection maths so it builds without libtorch: fuzz/fuzz_spectral_calibration.cpp.
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "methods/spectral/detector.h"
#include "methods/spectral/names.h"

namespace rs::spectral {

const char* direction_name(stats::ThresholdDirection d) {
  return d == stats::ThresholdDirection::Greater ? "greater" : "less";
}

stats::ThresholdDirection parse_direction(const std::string& s) {
  if (s == "greater") return stats::ThresholdDirection::Greater;
  if (s == "less") return stats::ThresholdDirection::Less;
  fail("direction: expected 'greater' or 'less', got '", s, "'");
}

namespace {
// +-inf (every row on one side) is stored as a string: JSON has no infinities
nlohmann::json threshold_json(double t) {
  return std::isfinite(t) ? nlohmann::json(t) : nlohmann::json(t > 0 ? "inf" : "-inf");
}
}  // namespace

nlohmann::json detector_to_json(const Detector& d) {
  nlohmann::json j = {{"format", "reasonscope-spectral-calibration"}, {"version", 1},
                      {"layer", d.layer}, {"metric", d.metric}, {"direction", direction_name(d.direction)},
                      {"threshold", threshold_json(d.threshold)},
                      {"laplacian", d.laplacian}, {"hfer_band", d.hfer_band},
                      {"max_tokens", d.max_tokens}, {"maths_dtype", d.maths_dtype}, {"model", d.model}};
  for (const BaselineRule& b : d.baselines)
    j["baselines"][b.name] = {{"direction", direction_name(b.direction)}, {"threshold", threshold_json(b.threshold)}};
  return j;
}

Detector detector_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail_as(ExitCode::kBadInput, where, ": expected a JSON object");
  auto field = [&](const char* name) -> const nlohmann::json& {
    auto it = j.find(name);
    if (it == j.end()) fail_as(ExitCode::kBadInput, where, ": field '", name, "' is missing");
    return *it;
  };
  auto number = [&](const char* name) {
    const nlohmann::json& v = field(name);
    if (!v.is_number()) fail_as(ExitCode::kBadInput, where, ": field '", name, "': expected a number, found ", v.type_name());
    return v.get<double>();
  };
  auto threshold = [&](const nlohmann::json& t, const std::string& name) {
    if (t.is_string() && (t == "-inf" || t == "inf"))
      return t == "inf" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    if (!t.is_number())
      fail_as(ExitCode::kBadInput, where, ": field '", name, "': expected a number, \"inf\" or \"-inf\", found ", t.dump());
    return t.get<double>();
  };
  auto string = [&](const char* name) {
    const nlohmann::json& v = field(name);
    if (!v.is_string()) fail_as(ExitCode::kBadInput, where, ": field '", name, "': expected a string, found ", v.type_name());
    return v.get<std::string>();
  };
  if (string("format") != "reasonscope-spectral-calibration")
    fail_as(ExitCode::kBadInput, where, ": field 'format': expected 'reasonscope-spectral-calibration'");
  Detector d;
  // Range before the casts: converting a double outside the target type is undefined
  // behaviour, and JSON numbers are unbounded (1e300 is a valid "layer").
  constexpr int32_t kMaxInt = std::numeric_limits<int32_t>::max();
  const double layer = number("layer");
  if (!(layer >= 0 && layer <= kMaxInt) || layer != std::floor(layer))
    fail_as(ExitCode::kBadInput, where, ": field 'layer': expected an integer in [0, ", kMaxInt,
            "], found ", layer);
  d.layer = static_cast<int>(layer);
  d.metric = string("metric");
  try {
    parse_metric(d.metric);
    d.direction = parse_direction(string("direction"));
    parse_laplacian(string("laplacian"));
  } catch (const Error& e) {
    fail_as(ExitCode::kBadInput, where, ": ", e.what());
  }
  d.threshold = threshold(field("threshold"), "threshold");
  d.laplacian = string("laplacian");
  d.hfer_band = number("hfer_band");
  if (!(d.hfer_band > 0 && d.hfer_band <= 1)) fail_as(ExitCode::kBadInput, where, ": field 'hfer_band': expected a fraction in (0, 1], found ", d.hfer_band);
  const double mt = number("max_tokens");
  if (!(mt >= 2 && mt <= kMaxInt) || mt != std::floor(mt))
    fail_as(ExitCode::kBadInput, where, ": field 'max_tokens': expected an integer in [2, ", kMaxInt,
            "], found ", mt);
  d.max_tokens = static_cast<int64_t>(mt);
  if (j.contains("maths_dtype")) {
    d.maths_dtype = string("maths_dtype");
    if (d.maths_dtype != "f32" && d.maths_dtype != "f64")
      fail_as(ExitCode::kBadInput, where, ": field 'maths_dtype': expected f32 or f64, found '", d.maths_dtype, "'");
  }
  d.model = j.contains("model") ? j["model"] : nlohmann::json::object();
  if (j.contains("baselines")) {  // optional: files written before the baselines were saved lack it
    const nlohmann::json& b = j["baselines"];
    if (!b.is_object()) fail_as(ExitCode::kBadInput, where, ": field 'baselines': expected an object, found ", b.type_name());
    for (const char* name : {"token_count", "mean_logprob"}) {
      const std::string key = std::string("baselines.") + name;
      auto it = b.find(name);
      if (it == b.end()) fail_as(ExitCode::kBadInput, where, ": field '", key, "' is missing");
      if (!it->is_object() || !it->contains("direction") || !it->contains("threshold") || !(*it)["direction"].is_string())
        fail_as(ExitCode::kBadInput, where, ": field '", key, "': expected {\"direction\": \"greater\"|\"less\", \"threshold\": number}");
      BaselineRule r;
      r.name = name;
      try {
        r.direction = parse_direction((*it)["direction"].get<std::string>());
      } catch (const Error& e) {
        fail_as(ExitCode::kBadInput, where, ": field '", key, ".direction': ", e.what());
      }
      r.threshold = threshold((*it)["threshold"], key + ".threshold");
      d.baselines.push_back(r);
    }
  }
  return d;
}

}  // namespace rs::spectral
