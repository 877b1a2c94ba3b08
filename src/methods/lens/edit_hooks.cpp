#include "methods/lens/edit_hooks.h"

#include <cctype>
#include <memory>

#include "core/error.h"

namespace rs::lens {
namespace {

struct Site {
  int layer = -1;
  HookPoint in = HookPoint::COUNT, out = HookPoint::COUNT;
  const char* refused = nullptr;  // why it cannot be a hook edit (null: it can)
};

Site site_of(const ModelConfig& c, const std::string& name) {
  Site s;
  const std::string pre = "model.layers.";
  size_t i = pre.size();
  if (name.compare(0, pre.size(), pre) != 0 || i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) {
    s.refused = "only the blocks' projection matrices can be edited through hooks";
    return s;
  }
  int layer = 0;
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && layer < 1000000; ++i)
    layer = layer * 10 + (name[i] - '0');
  s.layer = layer;
  const std::string rest = name.substr(i);
  using P = HookPoint;
  if (rest == ".self_attn.q_proj.weight") s.in = P::ln1_normalized, s.out = P::q;
  else if (rest == ".self_attn.k_proj.weight") s.in = P::ln1_normalized, s.out = P::k;
  else if (rest == ".self_attn.v_proj.weight") s.in = P::ln1_normalized, s.out = P::v;
  else if (rest == ".self_attn.o_proj.weight") s.in = P::z, s.out = P::attn_out;
  else if (rest == ".mlp.gate_proj.weight") s.in = P::ln2_normalized, s.out = P::mlp_pre;
  else if (rest == ".mlp.down_proj.weight") s.in = P::mlp_post, s.out = P::mlp_out;
  else if (rest == ".mlp.up_proj.weight") s.refused = "up_proj's output has no hook point (it is multiplied into the gate at once)";
  else s.refused = "only the blocks' projection matrices can be edited through hooks";
  if (!s.refused && s.out == P::attn_out && c.post_attn_norm)
    s.refused = "this model normalises the attention output before hook_attn_out, so o_proj's output is not seen";
  if (!s.refused && s.out == P::mlp_out && c.post_mlp_norm)
    s.refused = "this model normalises the MLP output before hook_mlp_out, so down_proj's output is not seen";
  if (!s.refused && s.layer >= c.n_layer) s.refused = "the layer is beyond this model's blocks";
  return s;
}

}  // namespace

void check_edit_hooks(const ModelConfig& c, const WeightEdit& e, const std::string& path) {
  for (const auto& [name, d] : e.deltas) {
    const Site s = site_of(c, name);
    if (s.refused)
      fail(path, ": the delta of '", name, "' cannot be applied without changing the weights (", s.refused,
           "); load exact weights (--weights dequant) to apply it in place");
    if (d.dim() != 2) fail(path, ": the delta of '", name, "' has ", d.dim(), " dimensions; a projection's has 2");
  }
}

void add_edit_hooks(Hooks& h, const WeightEdit& e) {
  const ModelConfig& c = h.config();
  check_edit_hooks(c, e);
  for (const auto& [name, delta] : e.deltas) {
    const Site s = site_of(c, name);
    const HookId in{s.in, s.layer}, out{s.out, s.layer};
    // The projection's input of the current forward call, kept from the input hook to the
    // output hook (both run in the same call, on the same rows).
    auto x = std::make_shared<at::Tensor>();
    h.custom(in.name(), [x](const at::Tensor& v, const HookContext&) {
      *x = v;
      return v;
    });
    const at::Tensor d = delta;
    h.custom(out.name(), [x, d](const at::Tensor& y, const HookContext&) {
      if (!x->defined()) fail("edit hook: the output of a projection came before its input");
      // x [..., in] (z: [B, T, H, dh], flattened to H * dh, HF's o_proj input order)
      const at::Tensor in = x->reshape({x->size(0), x->size(1), -1});
      at::Tensor add = at::matmul(in, d.to(in.device(), in.scalar_type()).t());
      *x = at::Tensor();
      return y + add.reshape(y.sizes());
    });
  }
}

}  // namespace rs::lens
