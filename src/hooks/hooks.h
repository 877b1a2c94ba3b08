// Hook points (TransformerLens names, ARCHITECTURE.md) and what can be done at them: capture
// (filtered by name pattern, layer, position; optionally mean-reduced; moved to CPU) and
// composable interventions (add, scale, replace / patch, ablate heads, project out, custom).
//
//   rs::Hooks h(model.config);
//   h.capture("blocks.*.hook_resid_post", rs::Positions::last());          // [B, D] per layer
//   h.add("blocks.12.hook_resid_post", vec /*[D]*/, 4.0);                  // steer, all positions
//   h.ablate_heads(5, {0, 3}, rs::Ablation::Zero);                        // at blocks.5.attn.hook_z
//   opts.hooks = &h;  rs::forward(model, tokens, mask, opts);
//   at::Tensor r = h.get("blocks.12.hook_resid_post");
//
// Shapes seen at each point (B batch, T new positions, K = cached + new key positions):
//   hook_embed, hook_resid_*, ln*.hook_normalized, hook_attn_out, hook_mlp_out   [B, T, D]
//   attn.hook_q / hook_rot_q / hook_z  [B, T, H, dh];  attn.hook_k / hook_rot_k / hook_v [B, T, Hkv, dh]
//   attn.hook_attn_scores / hook_pattern  [B, H, T, K]  (query axis = position axis)
//   attn.hook_result  [B, T, H, D];  mlp.hook_pre (gate pre-activation) / mlp.hook_post  [B, T, F]
//   ln_final.hook_normalized [B, T, D];  hook_logits [B, T, V] ([B, 1, V] with LogitsMode::Last)
// hook_q/hook_k/hook_v are before RoPE, in the HF (un-permuted) head layout.
// Gemma 3's extra norms (README "Gemma 3"): hook_q/hook_k are before its q/k norm, hook_rot_q/
// hook_rot_k after norm and RoPE; hook_attn_out and hook_mlp_out are after the post-attention /
// post-MLP norms (what enters the residual stream); hook_result is per head before that norm.
//
// Positions are position ids (0-based index of the token in its own prompt, padding excluded;
// during cached decoding the generated tokens continue the count). Pad columns are never selected
// by Last or a list; Positions::all() includes them (use the batch mask).
// Interventions run in the order they were added; captures see the value after all interventions
// at that point. A point with neither costs one table lookup.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/config.h"

namespace rs {

enum class HookPoint : int {
  embed, resid_pre, ln1_normalized, q, k, v, rot_q, rot_k, attn_scores, pattern, z, result,
  attn_out, resid_mid, ln2_normalized, mlp_pre, mlp_post, mlp_out, resid_post,
  ln_final_normalized, logits, COUNT
};
constexpr int kNumHookPoints = static_cast<int>(HookPoint::COUNT);

// Name without the "blocks.{l}." prefix, e.g. "attn.hook_pattern", "hook_resid_post".
const char* hook_point_suffix(HookPoint p);
bool hook_point_per_layer(HookPoint p);   // false for embed, ln_final_normalized, logits
bool hook_point_has_heads(HookPoint p);   // q k v rot_q rot_k attn_scores pattern z result
int hook_point_pos_axis(HookPoint p);     // 2 for attn_scores / pattern, else 1
int hook_point_head_axis(HookPoint p);    // 1 for attn_scores / pattern, 2 for the others; -1

struct HookId {
  HookPoint point;
  int layer;            // -1 for global points
  std::string name() const;   // "blocks.3.attn.hook_z", "hook_embed"
};
// Every hook name of a model, in forward order.
std::vector<std::string> all_hook_names(const ModelConfig& cfg);
// Resolve a pattern ('*' matches any run of characters, e.g. "blocks.*.hook_resid_post",
// "blocks.1?.x" not supported) or a comma list of them. Throws rs::Error when a pattern matches
// nothing, naming the nearest valid names (edit distance), or when a layer is out of range.
std::vector<HookId> resolve_hooks(const ModelConfig& cfg, const std::string& pattern);

struct Positions {
  enum class Kind { All, Last, List } kind = Kind::All;
  std::vector<int64_t> list;   // position ids (Kind::List)
  static Positions all() { return {}; }
  static Positions last() { return {Kind::Last, {}}; }
  static Positions at(std::vector<int64_t> ids) { return {Kind::List, std::move(ids)}; }
};

enum class Reduce { Keep, Mean };

struct CaptureSpec {
  Positions positions = Positions::all();
  Reduce reduce = Reduce::Keep;   // Mean: average over the selected real positions
  bool to_cpu = true;
  bool detach = true;             // false: keep the autograd graph (training analyses)
};

enum class Ablation { Zero, Mean };

// What the forward tells a hook about the current call.
struct HookContext {
  HookId id;
  at::Tensor positions;  // [B, T] int64 position ids of the new tokens
  at::Tensor mask;       // [B, T] int64, 1 = real
  int64_t past = 0;      // cached columns before these
};

using HookFn = std::function<at::Tensor(const at::Tensor& x, const HookContext& ctx)>;

class Hooks {
 public:
  explicit Hooks(const ModelConfig& cfg);

  // ---- capture. Captured values: per hook name, one tensor per forward call. Shapes as above
  // with the position axis kept for All / List ([.., n, ..]), dropped for Last and Mean.
  void capture(const std::string& pattern, const CaptureSpec& spec = {});
  void capture(const std::string& pattern, const Positions& pos) { capture(pattern, CaptureSpec{pos}); }
  bool has(const std::string& name) const;
  // The capture of `name`; several forward calls are concatenated along the position axis
  // (Last/Mean captures: stacked along a new axis 1). Throws if absent.
  at::Tensor get(const std::string& name) const;
  const std::vector<at::Tensor>& get_calls(const std::string& name) const;
  const std::map<std::string, std::vector<at::Tensor>>& captures() const { return captured_; }
  void clear_captures() { captured_.clear(); }

  // ---- interventions (at every hook matching `pattern`, on `pos`; heads = {} -> all heads).
  // x[sel] += coeff * vec      (vec broadcast against the trailing dims, e.g. [D] or [H, dh])
  void add(const std::string& pattern, const at::Tensor& vec, double coeff = 1.0,
           const Positions& pos = Positions::all(), std::vector<int64_t> heads = {});
  // x[sel] *= factor
  void scale(const std::string& pattern, double factor, const Positions& pos = Positions::all(),
             std::vector<int64_t> heads = {});
  // x[sel] = value: value has the selected shape ([B, n, ...] for All/List, [B, ...] for Last)
  // or broadcasts against one position ([...trailing dims]). Patching from another run is
  // replace() with a tensor captured there.
  void replace(const std::string& pattern, const at::Tensor& value,
               const Positions& pos = Positions::all(), std::vector<int64_t> heads = {});
  void patch(const std::string& pattern, const at::Tensor& captured,
             const Positions& pos = Positions::all()) { replace(pattern, captured, pos); }
  // At blocks.{layer}.attn.hook_z: heads set to 0 or to mean_z[h] ([H, dh] or [B?, H, dh]).
  void ablate_heads(int layer, std::vector<int64_t> heads, Ablation how,
                    const at::Tensor& mean_z = {}, const Positions& pos = Positions::all());
  // x[sel] -= (x . u) u  with u = dir / |dir| over the last dim
  void project_out(const std::string& pattern, const at::Tensor& dir,
                   const Positions& pos = Positions::all());
  // Anything else: fn(x, ctx) returns the new value (same shape).
  void custom(const std::string& pattern, HookFn fn);
  void clear_interventions();

  // ---- used by the forward pass
  bool active(HookPoint p, int layer) const {
    return active_[static_cast<size_t>(index(p, layer))];
  }
  // Some intervention (not just a capture) is attached there.
  bool modifies(HookPoint p, int layer) const { return interventions_.count(index(p, layer)) > 0; }
  // Runs interventions then captures; returns the (possibly new) value.
  at::Tensor run(HookPoint p, int layer, at::Tensor x, const HookContext& ctx);
  const ModelConfig& config() const { return cfg_; }

  struct Intervention;  // implementation detail (hooks.cpp)

 private:
  struct Capture { CaptureSpec spec; };
  int index(HookPoint p, int layer) const {
    return hook_point_per_layer(p) ? 3 + layer * kNumHookPoints + static_cast<int>(p)
                                   : static_cast<int>(p == HookPoint::embed ? 0
                                                      : p == HookPoint::logits ? 2 : 1);
  }
  void mark(const HookId& id);
  ModelConfig cfg_;
  std::vector<char> active_;
  std::map<int, std::vector<std::shared_ptr<Intervention>>> interventions_;  // by index
  std::map<int, Capture> capture_specs_;                                     // by index
  std::map<std::string, std::vector<at::Tensor>> captured_;
};

}  // namespace rs
