// The edit-file layout (edit_file.h) read into plain vectors: the checks of load_edit without
// libtorch, so they build under the sanitizers and are fuzzed (fuzz/fuzz_edit.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace rs::lens {

inline constexpr const char* kEditFormat = "reasonscope.weight_delta.v1";  // metadata "format"

struct EditValues {
  struct Delta {
    std::string name;            // Hugging Face weight name
    std::vector<int64_t> shape;
    std::vector<float> values;   // row-major, product(shape) values
  };
  std::vector<Delta> deltas;
  std::map<std::string, std::string> metadata;
  std::map<std::string, double> base_mean_abs;
  std::map<std::string, std::string> model_identity;
};
// Checks: metadata format == kEditFormat, every tensor a float tensor with a base_mean_abs entry,
// at least one tensor. Errors are one rs::Error naming `path`.
EditValues parse_edit_file(const SafetensorsFile& f, const std::string& path);

}  // namespace rs::lens
