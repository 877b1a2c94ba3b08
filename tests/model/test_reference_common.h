// Shared by the tests that use the default model and the golden reference values written by
// tools/make_reference_golden.py (tests/golden/reference/), each loaded once per binary.
#pragma once
#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/paths.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::test {

inline std::string reference_dir() { return std::string(RS_SOURCE_DIR) + "/tests/golden/reference"; }

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A golden tensor (F32 / I32 / I64) as a CPU tensor of its own (copied: data may be unaligned).
inline at::Tensor golden_tensor(const SafetensorsFile& f, const std::string& name) {
  const StTensor& t = f.tensor(name);
  at::ScalarType st = t.dtype == StDtype::F32   ? at::kFloat
                      : t.dtype == StDtype::I32 ? at::kInt
                      : t.dtype == StDtype::I64 ? at::kLong
                                                : at::kByte;
  if (st == at::kByte) fail(name, ": unexpected dtype ", st_dtype_name(t.dtype));
  at::Tensor out = at::empty(t.shape, st);
  std::memcpy(out.data_ptr(), t.data, t.nbytes);
  return out;
}

inline std::vector<int64_t> golden_ids(const SafetensorsFile& f, const std::string& name) {
  at::Tensor t = golden_tensor(f, name).to(at::kLong).contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

// The default model (REASONSCOPE_MODEL or the setup's cache path), loaded once, f32 on CPU.
struct DefaultModel {
  std::string path;
  Model model;
  std::unique_ptr<tok::Tokenizer> tokenizer;
};
inline DefaultModel& default_model() {
  static DefaultModel* dm = [] {
    set_threads(0);
    auto* d = new DefaultModel;
    d->path = default_model_path();
    d->model = load_model(d->path);
    d->tokenizer = tok::Tokenizer::from_model_path(d->path);
    return d;
  }();
  return *dm;
}

inline std::vector<int64_t> to_i64(const std::vector<int32_t>& v) {
  return std::vector<int64_t>(v.begin(), v.end());
}

}  // namespace rs::test
