// A weight edit (edit_file.h) applied through hooks instead of in the weights: at every edited
// projection y = W x, a hook at the projection's input keeps x and a hook at its output adds
// x Delta^T, so y = (W + Delta) x up to rounding. The weights are never touched, which is what
// native (quantised) weights need (they cannot be changed in place), and the edit belongs to one
// Hooks object, so each sequence of a batch (model/batch_decode.h) can carry its own edit or none.
// `generate --edit` on native weights and `serve --edit NAME=FILE` both use this.
//
//   rs::lens::check_edit(model, edit, path);          // identity and shapes (native weights too)
//   rs::lens::check_edit_hooks(model.config, edit, path);  // every delta at a hookable projection
//   rs::Hooks h(model.config);  ...steering, ablations...
//   rs::lens::add_edit_hooks(h, edit);                // last: its input hooks see the final values
//
// Where: q/k/v_proj (input blocks.l.ln1.hook_normalized, output attn.hook_q/k/v), o_proj
// (attn.hook_z -> hook_attn_out), gate_proj (ln2.hook_normalized -> mlp.hook_pre), down_proj
// (mlp.hook_post -> hook_mlp_out). o_proj and down_proj need a model without a norm after the
// attention / MLP output (gemma3 has one: its hook_attn_out / hook_mlp_out are after that norm,
// which does not commute with the addition); up_proj's output has no hook. Those, and the
// embeddings, norms and unembedding, are refused by check_edit_hooks with --weights dequant as
// the way out.
#pragma once
#include <string>

#include "hooks/hooks.h"
#include "methods/lens/edit_file.h"
#include "model/config.h"

namespace rs::lens {

// Throws rs::Error naming `path` and the weight when a delta cannot be applied as hooks.
void check_edit_hooks(const ModelConfig& c, const WeightEdit& e, const std::string& path = "edit");
// Adds the edit's hooks to h (after check_edit_hooks). Add it after every other intervention, so
// that the projection's input it keeps is the value the projection reads.
void add_edit_hooks(Hooks& h, const WeightEdit& e);

}  // namespace rs::lens
