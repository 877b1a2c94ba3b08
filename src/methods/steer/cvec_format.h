// The control-vector GGUF layout (cvec_file.h) read into plain vectors: the checks of
// read_control_vectors without libtorch, so they build under the sanitizers and are fuzzed
// (fuzz/fuzz_cvec.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/gguf.h"

namespace rs::steer {

struct ReadOptions {
  bool from_llama_cpp_cvector = false;  // direction.N was measured at block N - 1
};

struct ControlVectorValues {
  std::string model_hint;
  int64_t n_embd = 0;
  std::map<int64_t, std::vector<float>> layers;  // our layer l -> n_embd values
  std::map<std::string, std::string> info;       // controlvector.reasonscope.<key> strings
};
// The checks listed at read_control_vectors; `path` names the file in errors.
ControlVectorValues parse_control_vectors(const gguf::File& f, const std::string& path,
                                          const ReadOptions& opts = {});

}  // namespace rs::steer
