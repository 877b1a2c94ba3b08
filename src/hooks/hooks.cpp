// Capture and interventions at hook points. Everything here is out-of-place tensor algebra, so it
// works on any device and under autograd; selection by position uses masks built from the
// call's position ids, so the same intervention means the same thing with and without the cache.
#include "hooks/hooks.h"

#include <algorithm>

#include "core/error.h"

namespace rs {

struct Hooks::Intervention {
  enum class Kind { Add, Scale, Replace, Ablate, ProjectOut, Custom } kind = Kind::Add;
  Positions pos;
  std::vector<int64_t> heads;
  at::Tensor tensor;       // vector / replacement / direction / mean
  double number = 0.0;     // coefficient / factor
  Ablation ablation = Ablation::Zero;
  HookFn fn;
};

namespace {
std::shared_ptr<Hooks::Intervention> make_iv(Hooks::Intervention::Kind kind, const Positions& pos,
                                             std::vector<int64_t> heads = {}, at::Tensor tensor = {},
                                             double number = 0.0) {
  auto iv = std::make_shared<Hooks::Intervention>();
  iv->kind = kind;
  iv->pos = pos;
  iv->heads = std::move(heads);
  iv->tensor = std::move(tensor);
  iv->number = number;
  return iv;
}
}  // namespace

Hooks::Hooks(const ModelConfig& cfg)
    : cfg_(cfg), active_(static_cast<size_t>(3 + cfg.n_layer * kNumHookPoints), 0) {}

void Hooks::mark(const HookId& id) { active_[static_cast<size_t>(index(id.point, id.layer))] = 1; }

// ------------------------------------------------------------------------------ selection
namespace {

std::string shape_str(at::IntArrayRef s);

// sel [B, T] bool of the selected columns, or undefined for "every column".
at::Tensor select_columns(const Positions& pos, const HookContext& ctx) {
  const at::Tensor& mask = ctx.mask;
  switch (pos.kind) {
    case Positions::Kind::All:
      return {};
    case Positions::Kind::Last: {
      // Left padding: the last column is every row's newest token (unless the row is padding).
      at::Tensor sel = at::zeros(mask.sizes(), mask.options().dtype(at::kBool));
      const int64_t T = mask.size(1);
      sel.narrow(1, T - 1, 1).copy_(mask.narrow(1, T - 1, 1).to(at::kBool));
      return sel;
    }
    case Positions::Kind::List: {
      const at::Tensor ids = at::tensor(pos.list, at::kLong).to(mask.device());
      // eq[b, t, j] = positions[b, t] == ids[j] and the column is real
      const at::Tensor eq = ctx.positions.unsqueeze(-1).eq(ids.view({1, 1, -1}));
      return eq.any(-1).logical_and(mask.to(at::kBool));
    }
  }
  return {};
}

// Broadcast a [B, T] column selection (and an optional head list) to x's layout.
at::Tensor selection_mask(const at::Tensor& x, HookPoint p, const at::Tensor& sel,
                          const std::vector<int64_t>& heads, const ModelConfig& cfg) {
  at::Tensor m;
  const int pa = hook_point_pos_axis(p);
  if (sel.defined()) {
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[0] = sel.size(0);
    shape[static_cast<size_t>(pa)] = sel.size(1);
    m = sel.view(shape);
  }
  if (!heads.empty()) {
    const int ha = hook_point_head_axis(p);
    if (ha < 0) fail("hook ", hook_point_suffix(p), " has no head axis; a head list applies to q/k/v/z/pattern/result hooks");
    const int64_t nh = x.size(ha);
    at::Tensor hm = at::zeros({nh}, at::TensorOptions().dtype(at::kBool));
    auto acc = hm.accessor<bool, 1>();
    for (int64_t h : heads) {
      if (h < 0 || h >= nh)
        fail("head ", h, " is out of range at ", hook_point_suffix(p), " (", nh, " heads: 0..", nh - 1,
             "; model has ", cfg.n_head, " query / ", cfg.n_head_kv, " kv heads)");
      acc[h] = true;
    }
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[static_cast<size_t>(ha)] = nh;
    hm = hm.to(x.device()).view(shape);
    m = m.defined() ? m.logical_and(hm) : hm;
  }
  return m;
}

at::Tensor where_selected(const at::Tensor& m, const at::Tensor& changed, const at::Tensor& x) {
  return m.defined() ? at::where(m, changed, x) : changed;
}

// A replacement value in the full layout of x. Accepted: x's shape; the selected-columns shape
// ([B, n, ...] for a list, [B, ...] for last, position axis as at the hook); one position's
// trailing dims (broadcast).
at::Tensor spread_value(const at::Tensor& value_in, const at::Tensor& x, HookPoint p,
                        const Positions& pos, const HookContext& ctx) {
  const at::Tensor value = value_in.to(x.device(), x.scalar_type());
  const int pa = hook_point_pos_axis(p);
  if (value.sizes() == x.sizes()) return value;
  if (value.dim() < x.dim() - 1 || (pos.kind == Positions::Kind::All && value.dim() < x.dim()))
    return value.expand(x.sizes());                          // trailing dims broadcast
  if (pos.kind == Positions::Kind::Last && value.dim() == x.dim() - 1)
    return value.unsqueeze(pa).expand(x.sizes());
  if (pos.kind == Positions::Kind::List && value.dim() == x.dim()) {
    // out[b, t] = sum_j eq[b, t, j] value[b, j]: scatter the listed positions to their columns.
    const at::Tensor ids = at::tensor(pos.list, at::kLong).to(x.device());
    const at::Tensor eq = ctx.positions.unsqueeze(-1).eq(ids.view({1, 1, -1})).to(x.scalar_type());  // [B, T, n]
    const at::Tensor v1 = value.movedim(pa, 1);                                                      // [B, n, ...]
    if (v1.size(1) != static_cast<int64_t>(pos.list.size()))
      fail("replace: value has ", v1.size(1), " positions, the position list has ", pos.list.size());
    auto rest = v1.sizes().vec();
    at::Tensor spread = at::matmul(eq, v1.reshape({v1.size(0), v1.size(1), -1}));                   // [B, T, rest]
    rest[1] = x.size(pa);
    return spread.reshape(rest).movedim(1, pa).expand(x.sizes());
  }
  fail("replace: value of shape ", shape_str(value.sizes()), " does not fit the hook's shape ", shape_str(x.sizes()));
}

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

at::Tensor vector_to(const at::Tensor& v, const at::Tensor& x) {
  return v.to(x.device(), x.scalar_type());
}

}  // namespace

// ------------------------------------------------------------------------- registration
void Hooks::add(const std::string& pattern, const at::Tensor& vec, double coeff, const Positions& pos,
                std::vector<int64_t> heads) {
  auto iv = make_iv(Intervention::Kind::Add, pos, std::move(heads), vec, coeff);
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    interventions_[index(id.point, id.layer)].push_back(iv);
    mark(id);
  }
}

void Hooks::scale(const std::string& pattern, double factor, const Positions& pos, std::vector<int64_t> heads) {
  auto iv = make_iv(Intervention::Kind::Scale, pos, std::move(heads), {}, factor);
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    interventions_[index(id.point, id.layer)].push_back(iv);
    mark(id);
  }
}

void Hooks::replace(const std::string& pattern, const at::Tensor& value, const Positions& pos,
                    std::vector<int64_t> heads) {
  auto iv = make_iv(Intervention::Kind::Replace, pos, std::move(heads), value);
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    interventions_[index(id.point, id.layer)].push_back(iv);
    mark(id);
  }
}

void Hooks::ablate_heads(int layer, std::vector<int64_t> heads, Ablation how, const at::Tensor& mean_z,
                         const Positions& pos) {
  if (layer < 0 || layer >= cfg_.n_layer)
    fail_as(ExitCode::kUsage, "ablate_heads: layer ", layer, " is out of range (the model has ", cfg_.n_layer, " layers: 0..",
         cfg_.n_layer - 1, ")");
  if (heads.empty()) fail("ablate_heads: no heads given");
  for (int64_t h : heads)
    if (h < 0 || h >= cfg_.n_head)
      fail_as(ExitCode::kUsage, "ablate_heads: head ", h, " is out of range (the model has ", cfg_.n_head, " heads: 0..",
           cfg_.n_head - 1, ")");
  if (how == Ablation::Mean && !mean_z.defined()) fail("ablate_heads: mean ablation needs mean_z [H, d_head]");
  auto iv = make_iv(Intervention::Kind::Ablate, pos, std::move(heads), mean_z);
  iv->ablation = how;
  interventions_[index(HookPoint::z, layer)].push_back(iv);
  mark({HookPoint::z, layer});
}

void Hooks::project_out(const std::string& pattern, const at::Tensor& dir, const Positions& pos) {
  if (!dir.defined() || dir.dim() != 1) fail("project_out: direction must be a 1-D tensor");
  const at::Tensor u = dir.to(at::kFloat) / dir.to(at::kFloat).norm();
  auto iv = make_iv(Intervention::Kind::ProjectOut, pos, {}, u);
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    interventions_[index(id.point, id.layer)].push_back(iv);
    mark(id);
  }
}

void Hooks::custom(const std::string& pattern, HookFn fn) {
  auto iv = make_iv(Intervention::Kind::Custom, Positions::all());
  iv->fn = std::move(fn);
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    interventions_[index(id.point, id.layer)].push_back(iv);
    mark(id);
  }
}

void Hooks::clear_interventions() {
  interventions_.clear();
  std::fill(active_.begin(), active_.end(), 0);
  for (const auto& [idx, spec] : capture_specs_) active_[static_cast<size_t>(idx)] = 1;
}

void Hooks::capture(const std::string& pattern, const CaptureSpec& spec) {
  for (const auto& id : resolve_hooks(cfg_, pattern)) {
    capture_specs_[index(id.point, id.layer)] = Capture{spec};
    mark(id);
  }
}

// ----------------------------------------------------------------------------------- run
at::Tensor Hooks::run(HookPoint p, int layer, at::Tensor x, const HookContext& ctx_in) {
  HookContext ctx = ctx_in;
  ctx.id = {p, layer};
  const int idx = index(p, layer);
  auto it = interventions_.find(idx);
  if (it != interventions_.end()) {
    for (const auto& iv : it->second) {
      const at::Tensor sel = select_columns(iv->pos, ctx);
      switch (iv->kind) {
        case Intervention::Kind::Add: {
          // x <- x + coeff * vec
          const at::Tensor m = selection_mask(x, p, sel, iv->heads, cfg_);
          x = where_selected(m, x + vector_to(iv->tensor, x) * iv->number, x);
          break;
        }
        case Intervention::Kind::Scale: {
          const at::Tensor m = selection_mask(x, p, sel, iv->heads, cfg_);
          x = where_selected(m, x * iv->number, x);
          break;
        }
        case Intervention::Kind::Replace: {
          const at::Tensor m = selection_mask(x, p, sel, iv->heads, cfg_);
          const at::Tensor v = spread_value(iv->tensor, x, p, iv->pos, ctx);
          x = m.defined() ? at::where(m, v, x) : v.clone();
          break;
        }
        case Intervention::Kind::Ablate: {
          // hook_z [B, T, H, dh]: chosen heads -> 0 or their mean
          const at::Tensor m = selection_mask(x, p, sel, iv->heads, cfg_);
          at::Tensor v;
          if (iv->ablation == Ablation::Zero) {
            v = at::zeros({}, x.options());
          } else {
            v = vector_to(iv->tensor, x);
            if (v.dim() == 3) v = v.unsqueeze(1);  // [B, H, dh] -> [B, 1, H, dh]
          }
          x = at::where(m, v, x);
          break;
        }
        case Intervention::Kind::ProjectOut: {
          // x <- x - (x . u) u
          const at::Tensor u = vector_to(iv->tensor, x);
          if (u.size(0) != x.size(-1))
            fail("project_out at ", ctx.id.name(), ": direction has ", u.size(0), " dims, the hook has ", x.size(-1));
          const at::Tensor m = selection_mask(x, p, sel, {}, cfg_);
          x = where_selected(m, x - at::matmul(x, u).unsqueeze(-1) * u, x);
          break;
        }
        case Intervention::Kind::Custom: {
          at::Tensor y = iv->fn(x, ctx);
          if (!y.defined() || y.sizes() != x.sizes())
            fail("custom hook at ", ctx.id.name(), " returned a tensor of a different shape");
          x = y;
          break;
        }
      }
    }
  }

  auto cs = capture_specs_.find(idx);
  if (cs != capture_specs_.end()) {
    const CaptureSpec& spec = cs->second.spec;
    const int pa = hook_point_pos_axis(p);
    at::Tensor t = spec.detach ? x.detach() : x;
    const at::Tensor sel = select_columns(spec.positions, ctx);
    bool record = true;
    if (spec.reduce == Reduce::Mean) {
      // mean over the selected real columns
      at::Tensor w = (sel.defined() ? sel : ctx.mask.to(at::kBool)).to(t.scalar_type());   // [B, T]
      std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
      shape[0] = w.size(0);
      shape[static_cast<size_t>(pa)] = w.size(1);
      const at::Tensor wv = w.view(shape);
      t = (t * wv).sum(pa) / wv.sum(pa).clamp_min(1);
      record = w.sum().item<double>() > 0;
    } else if (spec.positions.kind == Positions::Kind::Last) {
      t = t.select(pa, t.size(pa) - 1);
    } else if (spec.positions.kind == Positions::Kind::List) {
      // column of each listed position per row; record only when this call contains them
      const at::Tensor ids = at::tensor(spec.positions.list, at::kLong).to(ctx.positions.device());
      const at::Tensor eq = ctx.positions.unsqueeze(-1).eq(ids.view({1, 1, -1}))
                                .logical_and(ctx.mask.to(at::kBool).unsqueeze(-1));          // [B, T, n]
      const at::Tensor found = eq.any(1);                                                     // [B, n]
      const int64_t n_found = found.sum().item<int64_t>();
      if (n_found == 0) {
        record = false;
      } else {
        if (n_found != found.numel())
          fail("capture at ", ctx.id.name(), ": not every listed position is in this call (some rows are shorter?)");
        const at::Tensor cols = eq.to(at::kLong).argmax(1);                                   // [B, n]
        std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);
        shape[0] = cols.size(0);
        shape[static_cast<size_t>(pa)] = cols.size(1);
        auto expand_to = t.sizes().vec();
        expand_to[static_cast<size_t>(pa)] = cols.size(1);
        t = at::gather(t, pa, cols.to(t.device()).view(shape).expand(expand_to));
      }
    } else if (!t.is_contiguous()) {
      t = t.contiguous();  // do not keep a large fused buffer alive through a view
    }
    if (record) {
      if (spec.to_cpu && !t.device().is_cpu()) t = t.to(at::kCPU);
      captured_[ctx.id.name()].push_back(t);
    }
  }
  return x;
}

// ------------------------------------------------------------------------------ results
bool Hooks::has(const std::string& name) const { return captured_.count(name) > 0; }

const std::vector<at::Tensor>& Hooks::get_calls(const std::string& name) const {
  auto it = captured_.find(name);
  if (it == captured_.end()) {
    std::string have;
    size_t n = 0;
    for (const auto& [k, v] : captured_) {
      if (n++ == 5) { have += ", ..."; break; }
      have += (have.empty() ? "" : ", ") + k;
    }
    fail("nothing captured at '", name, "' (captured: ", have.empty() ? "none" : have, ")");
  }
  return it->second;
}

at::Tensor Hooks::get(const std::string& name) const {
  const auto& calls = get_calls(name);
  if (calls.size() == 1) return calls[0];
  // Which spec made it: find the hook id by name.
  for (const auto& id : resolve_hooks(cfg_, name)) {
    auto cs = capture_specs_.find(index(id.point, id.layer));
    if (cs == capture_specs_.end()) break;
    const CaptureSpec& spec = cs->second.spec;
    if (spec.reduce == Reduce::Mean || spec.positions.kind == Positions::Kind::Last) return at::stack(calls, 1);
    const int pa = hook_point_pos_axis(id.point);
    if (id.point == HookPoint::attn_scores || id.point == HookPoint::pattern)
      fail("'", name, "' was captured in ", calls.size(), " calls with different key lengths; use get_calls()");
    return at::cat(calls, pa);
  }
  return at::stack(calls, 1);
}

}  // namespace rs
