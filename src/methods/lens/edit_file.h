// Weight edits as files: a safetensors file of weight DELTAS named by Hugging Face weight name
// (e.g. "model.layers.12.self_attn.o_proj.weight"), F32, plus metadata that identifies the model
// they were fitted on. Applying one adds each delta to the model's weight in place.
//
//   rs::lens::WeightEdit e;  e.add(model, "model.layers.3.self_attn.o_proj.weight", delta);
//   rs::lens::save_edit(e, model, "edit.safetensors");
//   rs::lens::apply_edit(model, rs::lens::load_edit("edit.safetensors"));
//
// Identity check on apply: architecture, layer count, widths and vocabulary must match, every
// delta's shape must equal its weight's shape, and the base weight's mean |w| recorded at save
// time must agree with the target's to 2% (same model in another dtype or quantisation passes;
// another model of the same shape fails). Every mismatch is one rs::Error naming the file.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "methods/lens/edit_format.h"
#include "model/model.h"

namespace rs::lens {

struct WeightEdit {
  std::vector<std::pair<std::string, at::Tensor>> deltas;  // HF name -> delta (same shape)
  std::map<std::string, std::string> metadata;             // free-form (method, layers, ...)
  std::map<std::string, double> base_mean_abs;             // HF name -> mean |w| before the edit
  std::map<std::string, std::string> model_identity;       // arch, n_layer, d_model, ... as text
  // Add a delta for `name` (accumulates when called twice), recording the base weight.
  void add(const Model& m, const std::string& name, const at::Tensor& delta);
};

// The identity fields written into and checked against an edit file.
std::map<std::string, std::string> model_identity(const Model& m);

void save_edit(const WeightEdit& e, const std::string& path);  // atomic
WeightEdit load_edit(const std::string& path);                 // throws naming the file
// The identity and shape checks alone (throws rs::Error naming `path`; changes nothing). Works on
// native weights too (their projections, measured dequantised), for edits applied as hooks
// (edit_hooks.h).
void check_edit(const Model& m, const WeightEdit& e, const std::string& path = "edit");
// Checks the identity and shapes (before touching anything), then W += delta for every delta.
// `path` is used in messages.
void apply_edit(Model& m, const WeightEdit& e, const std::string& path = "edit");

}  // namespace rs::lens
