// Control-vector GGUF files (see cvec_file.h).
#include "methods/steer/cvec_file.h"

#include <utility>

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
  ControlVectorValues v = parse_control_vectors(*f, path, opts);
  ControlVectors cv;
  cv.model_hint = std::move(v.model_hint);
  cv.n_embd = v.n_embd;
  cv.info = std::move(v.info);
  for (auto& [layer, vals] : v.layers)
    cv.layers[layer] = at::from_blob(vals.data(), {cv.n_embd}, at::kFloat).clone();
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
