// Control-vector GGUF layout checks (cvec_format.h).
#include "methods/steer/cvec_format.h"

#include <cstring>
#include <utility>

#include "core/error.h"

namespace rs::steer {

ControlVectorValues parse_control_vectors(const gguf::File& f, const std::string& path,
                                          const ReadOptions& opts) {
  ControlVectorValues cv;
  const std::string arch = f.get_string_or("general.architecture", "");
  if (!arch.empty() && arch != "controlvector")
    fail(path, ": general.architecture is '", arch, "', not 'controlvector' (is this a model file "
         "rather than a control vector?)");
  cv.model_hint = f.get_string_or("controlvector.model_hint", "");
  for (const auto& [key, value] : f.metadata()) {
    const std::string prefix = "controlvector.reasonscope.";
    if (key.rfind(prefix, 0) == 0 && value.type == gguf::ValueType::STRING)
      cv.info[key.substr(prefix.size())] = value.s;
  }
  for (const gguf::TensorInfo& t : f.tensors()) {
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
    std::vector<float> vals = f.dequantize_tensor(t);
    if (cv.n_embd == 0) cv.n_embd = static_cast<int64_t>(vals.size());
    if (static_cast<int64_t>(vals.size()) != cv.n_embd)
      fail(where, ": has ", vals.size(), " values but earlier directions have ", cv.n_embd);
    if (cv.layers.count(layer)) fail(where, ": layer ", layer, " appears twice");
    cv.layers[layer] = std::move(vals);
  }
  if (cv.layers.empty())
    fail(path, ": no direction.N tensors: not a control-vector file (llama.cpp/repeng layout)");
  return cv;
}

}  // namespace rs::steer
