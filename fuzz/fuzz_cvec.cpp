// libFuzzer target for control-vector GGUF files (steer --vectors, steer convert): bytes ->
// gguf::File -> parse_control_vectors, with and without the llama.cpp shift. Anything but a
// set of vectors or one rs::Error is a finding; a set that loads must hold at least one layer
// >= 1 (>= 0 shifted), all of n_embd values. Seeds: fuzz/corpus/cvec/.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/gguf.h"
#include "methods/steer/cvec_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<rs::gguf::File> f;
  try {
    f = rs::gguf::File::from_memory(data, size, "fuzz.gguf");
  } catch (const rs::Error&) {
    return 0;
  }
  for (bool shift : {false, true}) {
    rs::steer::ReadOptions o;
    o.from_llama_cpp_cvector = shift;
    try {
      const rs::steer::ControlVectorValues cv = rs::steer::parse_control_vectors(*f, "fuzz.gguf", o);
      if (cv.layers.empty()) rs::fuzz::finding("parse_control_vectors returned no layers");
      for (const auto& [layer, v] : cv.layers) {
        if (layer < (shift ? 0 : 1)) rs::fuzz::finding("parse_control_vectors: layer out of range");
        if (static_cast<int64_t>(v.size()) != cv.n_embd) rs::fuzz::finding("parse_control_vectors: ragged");
      }
    } catch (const rs::Error&) {
    }
  }
  return 0;
}
