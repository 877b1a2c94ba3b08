// Golden matrices (lists of rows) as float64 tensors.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "golden_cases.h"

namespace golden {

inline at::Tensor matrix(const json& rows) {
  std::vector<double> flat;
  int64_t cols = 0;
  for (const auto& r : rows) {
    const auto v = doubles(r);
    cols = static_cast<int64_t>(v.size());
    flat.insert(flat.end(), v.begin(), v.end());
  }
  return at::tensor(flat, at::kDouble).reshape({static_cast<int64_t>(rows.size()), cols});
}

// Devices to run on: the CPU, and CUDA when this build and machine have it.
inline std::vector<at::Device> devices() {
  std::vector<at::Device> out{at::kCPU};
  if (at::hasCUDA()) out.emplace_back(at::kCUDA);
  return out;
}

}  // namespace golden
