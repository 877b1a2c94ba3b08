#include "methods/lens/edit_file.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "io/ggml_types.h"
#include "io/safetensors.h"
#include "model/native.h"

namespace rs::lens {

namespace {
std::string shape_text(at::IntArrayRef s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

double mean_abs(const at::Tensor& w) { return w.to(at::kDouble).abs().mean().item<double>(); }

// A block's projection as held by native weights, or null (not a projection, or no such layer).
const QuantMatrix* native_matrix(const NativeWeights& nw, const std::string& name) {
  const std::string pre = "model.layers.";
  if (name.compare(0, pre.size(), pre) != 0) return nullptr;
  size_t end = pre.size();
  while (end < name.size() && end - pre.size() < 7 && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == pre.size()) return nullptr;
  const size_t l = std::stoul(name.substr(pre.size(), end - pre.size()));
  if (l >= nw.layers.size()) return nullptr;
  const NativeLayer& w = nw.layers[l];
  const std::string rest = name.substr(end);
  for (const auto& [suffix, m] : {std::pair<const char*, const QuantMatrix*>{".self_attn.q_proj.weight", &w.q},
                                  {".self_attn.k_proj.weight", &w.k}, {".self_attn.v_proj.weight", &w.v},
                                  {".self_attn.o_proj.weight", &w.o}, {".mlp.gate_proj.weight", &w.gate},
                                  {".mlp.up_proj.weight", &w.up}, {".mlp.down_proj.weight", &w.down}})
    if (rest == suffix) return m;
  return nullptr;
}

// Shape and mean |w| of a weight, dense or native (dequantised row by row to measure it: the
// 2% identity check then compares the same numbers a dequantised load would give).
std::pair<std::vector<int64_t>, double> weight_stats(const Model& m, const std::string& name, const std::string& path) {
  if (!m.native) {
    at::Tensor w;
    try {
      w = m.weight(name);
    } catch (const std::exception& ex) {
      fail(path, ": weight '", name, "' is not in this model (", ex.what(), ")");
    }
    return {w.sizes().vec(), mean_abs(w)};
  }
  const QuantMatrix* q = native_matrix(*m.native, name);
  if (!q) fail(path, ": weight '", name, "' is not a block projection of this model (native weights hold only those by name)");
  std::vector<float> row(static_cast<size_t>(q->cols));
  double sum = 0;
  for (int64_t r = 0; r < q->rows; ++r) {
    dequantize(q->type, q->data + static_cast<uint64_t>(r) * q->row_bytes, row.data(), q->cols);
    for (float v : row) sum += std::abs(static_cast<double>(v));
  }
  return {{q->rows, q->cols}, sum / static_cast<double>(q->rows * q->cols)};
}
}  // namespace

std::map<std::string, std::string> model_identity(const Model& m) {
  const ModelConfig& c = m.config;
  return {{"arch", c.arch},
          {"n_layer", std::to_string(c.n_layer)},
          {"d_model", std::to_string(c.d_model)},
          {"n_head", std::to_string(c.n_head)},
          {"n_head_kv", std::to_string(c.n_head_kv)},
          {"d_head", std::to_string(c.d_head)},
          {"n_vocab", std::to_string(c.n_vocab)}};
}

void WeightEdit::add(const Model& m, const std::string& name, const at::Tensor& delta) {
  const at::Tensor w = m.weight(name);
  if (!w.sizes().equals(delta.sizes()))
    fail("edit: delta for ", name, " has shape ", shape_text(delta.sizes()), ", the weight has ",
         shape_text(w.sizes()));
  if (model_identity.empty()) model_identity = rs::lens::model_identity(m);
  for (auto& [n, d] : deltas)
    if (n == name) {
      d = d + delta.to(at::kCPU, at::kFloat);
      return;
    }
  base_mean_abs[name] = mean_abs(w);
  deltas.emplace_back(name, delta.detach().to(at::kCPU, at::kFloat).contiguous());
}

void save_edit(const WeightEdit& e, const std::string& path) {
  if (e.deltas.empty()) fail(path, ": refusing to write an edit with no weight deltas");
  SafetensorsWriter w;
  w.set_metadata("format", kEditFormat);
  for (const auto& [k, v] : e.metadata) w.set_metadata(k, v);
  for (const auto& [k, v] : e.model_identity) w.set_metadata("identity." + k, v);
  for (const auto& [name, d] : e.deltas) {
    std::ostringstream mean;
    mean.precision(17);
    mean << e.base_mean_abs.at(name);
    w.set_metadata("base_mean_abs." + name, mean.str());
    const at::Tensor c = d.to(at::kCPU, at::kFloat).contiguous();
    w.add(name, StDtype::F32, c.sizes().vec(), c.data_ptr<float>());
  }
  w.write(path);
}

WeightEdit load_edit(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  EditValues v = parse_edit_file(*f, path);
  WeightEdit e;
  e.metadata = std::move(v.metadata);
  e.base_mean_abs = std::move(v.base_mean_abs);
  e.model_identity = std::move(v.model_identity);
  for (EditValues::Delta& d : v.deltas)
    e.deltas.emplace_back(d.name, at::from_blob(d.values.data(), d.shape, at::kFloat).clone());
  return e;
}

void check_edit(const Model& m, const WeightEdit& e, const std::string& path) {
  const auto id = model_identity(m);
  for (const auto& [k, v] : e.model_identity) {
    auto it = id.find(k);
    if (it != id.end() && it->second != v)
      fail(path, ": edit was made for a model with ", k, " = ", v, ", this model has ", k, " = ",
           it->second, " (an edit file for another model)");
  }
  // Check everything before changing anything: a failed apply leaves the model as it was.
  for (const auto& [name, d] : e.deltas) {
    const auto [shape, got] = weight_stats(m, name, path);
    if (!d.sizes().equals(shape))
      fail(path, ": delta '", name, "' has shape ", shape_text(d.sizes()), ", this model's weight has ",
           shape_text(shape), " (an edit file for another model)");
    const double want = e.base_mean_abs.at(name);
    if (std::abs(got - want) > 0.02 * std::abs(want))
      fail(path, ": weight '", name, "' has mean |w| ", got, ", the edit was fitted on one with ",
           want, " (an edit file for another model)");
  }
}

void apply_edit(Model& m, const WeightEdit& e, const std::string& path) {
  check_edit(m, e, path);
  std::vector<at::Tensor> targets;
  for (const auto& [name, d] : e.deltas) targets.push_back(m.weight(name));
  at::NoGradGuard ng;
  for (size_t i = 0; i < targets.size(); ++i)
    targets[i].add_(e.deltas[i].second.to(targets[i].device(), targets[i].scalar_type()));
}

}  // namespace rs::lens
