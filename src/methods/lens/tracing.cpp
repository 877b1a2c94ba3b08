#include "methods/lens/tracing.h"

#include <algorithm>

#include "core/error.h"
#include "hooks/hooks.h"

namespace rs::lens {

const char* component_name(Component c) {
  switch (c) {
    case Component::Resid: return "resid";
    case Component::Attn: return "attn";
    case Component::Mlp: return "mlp";
  }
  return "?";
}
const char* patch_position_name(PatchPosition p) { return p == PatchPosition::Last ? "last" : "subject"; }

std::string component_hook(Component c, int layer) {
  const std::string b = "blocks." + std::to_string(layer) + ".";
  switch (c) {
    case Component::Resid: return b + "hook_resid_post";
    case Component::Attn: return b + "hook_attn_out";
    case Component::Mlp: return b + "hook_mlp_out";
  }
  return b;
}

std::vector<int> patch_window(Component c, int layer, int window, int n_layer) {
  if (c == Component::Resid || window <= 1) return {layer};
  std::vector<int> out;
  const int lo = std::max(0, layer - window / 2), hi = std::min(n_layer, layer - window / 2 + window);
  for (int l = lo; l < hi; ++l) out.push_back(l);
  return out;
}

std::pair<at::Tensor, at::Tensor> answer_logp_rank(const at::Tensor& logits, int64_t n_prompt,
                                                   const std::vector<int64_t>& answer) {
  const int64_t A = static_cast<int64_t>(answer.size());
  // position n_prompt - 1 + i predicts answer[i]
  const at::Tensor lp = at::log_softmax(logits.narrow(1, n_prompt - 1, A).to(at::kDouble), -1);  // [B, A, V]
  const at::Tensor ids = at::tensor(answer, at::kLong).to(lp.device());
  const at::Tensor tok_lp = lp.gather(2, ids.view({1, A, 1}).expand({lp.size(0), A, 1})).squeeze(2);
  const at::Tensor first = lp.select(1, 0);                                   // [B, V]
  const at::Tensor rank = (first > first.select(1, answer[0]).unsqueeze(1)).sum(1);
  return {tok_lp.sum(1).cpu(), rank.cpu()};
}

namespace {

at::Tensor seq_tensor(const std::vector<int64_t>& a, const std::vector<int64_t>& b, int64_t rows,
                      at::Device dev) {
  std::vector<int64_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return at::tensor(all, at::kLong).unsqueeze(0).expand({rows, static_cast<int64_t>(all.size())}).contiguous().to(dev);
}

}  // namespace

at::Tensor run_patched(const Model& m, const std::vector<int64_t>& ids, Component c,
                       const std::vector<int>& layers, int64_t pos,
                       const std::vector<at::Tensor>& source) {
  at::NoGradGuard ng;
  Hooks h(m.config);
  for (int l : layers)
    h.replace(component_hook(c, l), source.at(static_cast<size_t>(l)), Positions::at({pos}));
  ForwardOptions o;
  o.hooks = &h;
  return forward(m, at::tensor(ids, at::kLong).unsqueeze(0).to(m.device()), {}, o);
}

TraceResult trace_case(const Model& m, const TraceInput& in, const TraceOptions& opts) {
  const int L = m.config.n_layer;
  const int64_t Tc = static_cast<int64_t>(in.composed.size()), Tg = static_cast<int64_t>(in.guide.size());
  if (in.answer.empty()) fail("tracing: empty answer");
  if (Tc == 0 || Tg == 0) fail("tracing: empty prompt");
  for (PatchPosition p : opts.positions)
    if (p == PatchPosition::Subject &&
        (in.composed_subject_pos < 0 || in.composed_subject_pos >= Tc || in.guide_subject_pos < 0 ||
         in.guide_subject_pos >= Tg))
      fail("tracing: subject position outside the prompt");
  if (opts.window < 1) fail("tracing: --window must be at least 1, got ", opts.window);
  at::NoGradGuard ng;
  TraceResult r;

  // 1. The guide run, once: cache every patched hook at both source positions.
  const std::vector<int64_t> src_pos = {Tg - 1, std::max<int64_t>(in.guide_subject_pos, 0)};
  Hooks gh(m.config);
  CaptureSpec spec;
  spec.positions = Positions::at(src_pos);
  spec.to_cpu = false;
  for (Component c : opts.components) gh.capture("blocks.*." + component_hook(c, 0).substr(9), spec);
  ForwardOptions go;
  go.hooks = &gh;
  {
    at::Tensor logits = forward(m, seq_tensor(in.guide, in.answer, 1, m.device()), {}, go);
    auto [lp, rk] = answer_logp_rank(logits, Tg, in.answer);
    r.guide_logp = lp[0].item<double>();
    r.guide_rank = rk[0].item<int64_t>();
  }
  r.guide_runs = 1;
  r.forward_calls = 1;
  // 2. The unpatched composition run.
  {
    at::Tensor logits = forward(m, seq_tensor(in.composed, in.answer, 1, m.device()), {}, {});
    auto [lp, rk] = answer_logp_rank(logits, Tc, in.answer);
    r.clean_logp = lp[0].item<double>();
    r.clean_rank = rk[0].item<int64_t>();
    r.forward_calls++;
  }
  // 3. Patched runs: row i of a batch is the run centred on layer first + i.
  const int64_t C = static_cast<int64_t>(opts.components.size()), P = static_cast<int64_t>(opts.positions.size());
  r.logp = at::zeros({C, P, L}, at::kDouble);
  r.rank = at::zeros({C, P, L}, at::kLong);
  const int64_t max_batch = opts.max_batch > 0 ? opts.max_batch : L;
  for (int64_t ci = 0; ci < C; ++ci) {
    const Component comp = opts.components[static_cast<size_t>(ci)];
    for (int64_t pi = 0; pi < P; ++pi) {
      const PatchPosition pp = opts.positions[static_cast<size_t>(pi)];
      const int64_t dst = pp == PatchPosition::Last ? Tc - 1 : in.composed_subject_pos;
      const int64_t src_index = pp == PatchPosition::Last ? 0 : 1;
      for (int first = 0; first < L; first += static_cast<int>(max_batch)) {
        const int rows = std::min<int>(static_cast<int>(max_batch), L - first);
        // rows_at[l] = the rows whose window contains layer l
        std::vector<std::vector<int64_t>> rows_at(static_cast<size_t>(L));
        for (int i = 0; i < rows; ++i)
          for (int l : patch_window(comp, first + i, opts.window, L)) rows_at[static_cast<size_t>(l)].push_back(i);
        Hooks h(m.config);
        for (int l = 0; l < L; ++l) {
          if (rows_at[static_cast<size_t>(l)].empty()) continue;
          const std::string name = component_hook(comp, l);
          // guide value [D] at the source position (captured [1, 2, D])
          const at::Tensor value = gh.get(name).select(0, 0).select(0, src_index);
          const at::Tensor row_idx = at::tensor(rows_at[static_cast<size_t>(l)], at::kLong).to(m.device());
          h.custom(name, [value, row_idx, dst](const at::Tensor& x, const HookContext&) {
            // x[rows, dst, :] = guide value
            at::Tensor y = x.clone();
            y.select(1, dst).index_copy_(0, row_idx, value.to(y.dtype()).unsqueeze(0).expand({row_idx.size(0), value.size(0)}).contiguous());
            return y;
          });
        }
        ForwardOptions o;
        o.hooks = &h;
        at::Tensor logits = forward(m, seq_tensor(in.composed, in.answer, rows, m.device()), {}, o);
        auto [lp, rk] = answer_logp_rank(logits, Tc, in.answer);
        r.logp[ci][pi].narrow(0, first, rows).copy_(lp);
        r.rank[ci][pi].narrow(0, first, rows).copy_(rk);
        r.patched_sequences += rows;
        r.forward_calls++;
      }
    }
  }
  return r;
}

}  // namespace rs::lens
