// Control-vector GGUF files (see cvec_file.h).
#include "methods/steer/cvec_file.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"

namespace rs::steer {

void write_control_vectors(const std::string& path, const ControlVectors& cv) {
  if (cv.layers.empty()) fail(path, ": no directions to write");
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::of_string("controlvector"));
  w.set("controlvector.model_hint", gguf::Value::of_string(cv.model_hint));
  w.set("controlvector.layer_count", gguf::Value::of_i32(static_cast<int32_t>(cv.layers.size())));
  for (const auto& [k, v] : cv.info) w.set("controlvector.reasonscope." + k, gguf::Value::of_string(v));
  for (const auto& [layer, vec] : cv.layers) {
    if (layer < 1)
      fail(path, ": layer ", layer, " cannot be stored: llama.cpp rejects direction.0 (it never steers "
           "the embedding), so control-vector files hold layers >= 1");
    at::Tensor t = vec.detach().to(at::kCPU, at::kFloat).contiguous().flatten();
    if (t.numel() != cv.n_embd)
      fail(path, ": layer ", layer, " has ", t.numel(), " values, expected n_embd ", cv.n_embd);
    w.add_tensor_f32("direction." + std::to_string(layer), {t.numel()}, t.data_ptr<float>());
  }
  w.write(path);
}

ControlVectors read_control_vectors(const std::string& path, const ReadOptions& opts) {
  auto f = gguf::File::open(path);
  ControlVectors cv;
  const std::string arch = f->get_string_or("general.architecture", "");
  if (!arch.empty() && arch != "controlvector")
    fail(path, ": general.architecture is '", arch, "', not 'controlvector' (is this a model file "
         "rather than a control vector?)");
  cv.model_hint = f->get_string_or("controlvector.model_hint", "");
  for (const auto& [key, value] : f->metadata()) {
    const std::string prefix = "controlvector.reasonscope.";
    if (key.rfind(prefix, 0) == 0 && value.type == gguf::ValueType::STRING)
      cv.info[key.substr(prefix.size())] = value.s;
  }
  for (const gguf::TensorInfo& t : f->tensors()) {
    const std::string where = path + ": tensor '" + t.name + "'";
    if (t.name.rfind("direction.", 0) != 0) continue;  // llama.cpp would refuse it; we skip it
    const std::string num = t.name.substr(std::strlen("direction."));
    int64_t n = -1;
    try {
      size_t used = 0;
      n = std::stoll(num, &used);
      if (used != num.size()) n = -1;
    } catch (const std::exception&) {
      n = -1;
    }
    if (n < 0) fail(where, ": expected direction.N with an integer N >= 1");
    if (n == 0) fail(where, ": direction.0 is invalid (llama.cpp rejects it: layer 0 is never steered)");
    if (t.ne.size() != 1) fail(where, ": expected a 1-D tensor, found ", t.ne.size(), " dimensions");
    if (t.type != GgmlType::F32 && t.type != GgmlType::F16)
      fail(where, ": expected F32 (or F16), found ", ggml_type_name(t.type));
    const int64_t layer = opts.from_llama_cpp_cvector ? n - 1 : n;
    if (opts.from_llama_cpp_cvector && layer < 0) fail(where, ": cannot shift below layer 0");
    std::vector<float> vals = f->dequantize_tensor(t);
    if (cv.n_embd == 0) cv.n_embd = static_cast<int64_t>(vals.size());
    if (static_cast<int64_t>(vals.size()) != cv.n_embd)
      fail(where, ": has ", vals.size(), " values but earlier directions have ", cv.n_embd);
    if (cv.layers.count(layer)) fail(where, ": layer ", layer, " appears twice");
    cv.layers[layer] = at::from_blob(vals.data(), {cv.n_embd}, at::kFloat).clone();
  }
  if (cv.layers.empty())
    fail(path, ": no direction.N tensors: not a control-vector file (llama.cpp/repeng layout)");
  return cv;
}

void check_against_model(const ControlVectors& cv, int64_t d_model, int64_t n_layer,
                         const std::string& what) {
  if (cv.n_embd != d_model)
    fail(what, ": vectors have n_embd ", cv.n_embd, " but the model's d_model is ", d_model,
         " (made for another model? model_hint '", cv.model_hint, "')");
  for (const auto& [layer, v] : cv.layers)
    if (layer >= n_layer)
      fail(what, ": has a vector for layer ", layer, " but the model has ", n_layer, " layers (0..",
           n_layer - 1, ")");
}

}  // namespace rs::steer
