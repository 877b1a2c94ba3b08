// Control-vector files in the GGUF layout llama.cpp (`--control-vector`, llama_adapter_cvec) and
// repeng read (METHODS.md section 3, "Interoperability"):
//   general.architecture = "controlvector"
//   controlvector.model_hint  string  (the model's architecture, e.g. "llama")
//   controlvector.layer_count int32   (number of direction tensors)
//   direction.N               F32, 1-D [n_embd], N >= 1
// llama.cpp adds direction.N (times the strength) to the output of block N (0-based il == N in
// its graph builders, after the FFN residual), i.e. our blocks.N.hook_resid_post, so our layer l
// is stored as direction.l; llama.cpp rejects direction.0, so a layer-0 vector cannot be stored.
// llama.cpp's cvector-generator names the vector it MEASURED at block i "direction.i+1" (it
// enumerates l_out-0.. and writes il + 1), so its files steer one block later than measured;
// reading with from_llama_cpp_cvector = true undoes that shift (direction.N -> our layer N - 1).
// Extra reasonscope metadata goes under controlvector.reasonscope.* (llama.cpp ignores keys).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>

#include "methods/steer/cvec_format.h"

namespace rs::steer {

struct ControlVectors {
  std::string model_hint;                  // controlvector.model_hint
  int64_t n_embd = 0;
  std::map<int64_t, at::Tensor> layers;    // our layer l (resid_post[l]) -> [n_embd] f32 CPU
  std::map<std::string, std::string> info; // controlvector.reasonscope.<key> strings
};

// Throws rs::Error for a layer < 1, tensors of different sizes, an empty set.
void write_control_vectors(const std::string& path, const ControlVectors& cv);

// Checks: a GGUF with at least one direction.N tensor, N >= 1 (>= 1 also after the shift), F32
// (F16 accepted and widened), 1-D, all the same length. Errors name the file and tensor.
ControlVectors read_control_vectors(const std::string& path, const ReadOptions& opts = {});

// Checks a set against a model: the same n_embd, every layer < n_layer. `what` names the file.
void check_against_model(const ControlVectors& cv, int64_t d_model, int64_t n_layer,
                         const std::string& what);

}  // namespace rs::steer
