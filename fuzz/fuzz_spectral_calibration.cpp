// libFuzzer target for the spectral detector's calibration file (verify spectral
// --calibration): JSON text -> detector_from_json. Anything but a detector or one rs::Error is
// a finding; a detector that loads must also survive the write/read round trip unchanged.
// Seeds: fuzz/corpus/spectral_calibration/.
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fuzz_util.h"
#include "methods/spectral/detector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader's own parse (cmd_verify_spectral.cpp reads the file with nlohmann::json::parse
  // and reports parse errors); only parsed JSON reaches detector_from_json.
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  rs::spectral::Detector d;
  try {
    d = rs::spectral::detector_from_json(j, "fuzz.json");
  } catch (const rs::Error&) {
    return 0;
  }
  const rs::spectral::Detector back =
      rs::spectral::detector_from_json(rs::spectral::detector_to_json(d), "round trip");
  if (back.layer != d.layer || back.metric != d.metric || back.direction != d.direction ||
      !(back.threshold == d.threshold || (std::isnan(back.threshold) && std::isnan(d.threshold))) ||
      back.laplacian != d.laplacian || back.hfer_band != d.hfer_band ||
      back.max_tokens != d.max_tokens || back.maths_dtype != d.maths_dtype)
    rs::fuzz::finding("detector_to_json / detector_from_json round trip changed the detector");
  return 0;
}
