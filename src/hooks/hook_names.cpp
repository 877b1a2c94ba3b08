// Hook-point names (TransformerLens vocabulary) and pattern resolution with "did you mean".
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "core/text.h"
#include "core/error.h"
#include "hooks/hooks.h"

namespace rs {

const char* hook_point_suffix(HookPoint p) {
  switch (p) {
    case HookPoint::embed: return "hook_embed";
    case HookPoint::resid_pre: return "hook_resid_pre";
    case HookPoint::ln1_normalized: return "ln1.hook_normalized";
    case HookPoint::q: return "attn.hook_q";
    case HookPoint::k: return "attn.hook_k";
    case HookPoint::v: return "attn.hook_v";
    case HookPoint::rot_q: return "attn.hook_rot_q";
    case HookPoint::rot_k: return "attn.hook_rot_k";
    case HookPoint::attn_scores: return "attn.hook_attn_scores";
    case HookPoint::pattern: return "attn.hook_pattern";
    case HookPoint::z: return "attn.hook_z";
    case HookPoint::result: return "attn.hook_result";
    case HookPoint::attn_out: return "hook_attn_out";
    case HookPoint::resid_mid: return "hook_resid_mid";
    case HookPoint::ln2_normalized: return "ln2.hook_normalized";
    case HookPoint::mlp_pre: return "mlp.hook_pre";
    case HookPoint::mlp_post: return "mlp.hook_post";
    case HookPoint::mlp_out: return "hook_mlp_out";
    case HookPoint::resid_post: return "hook_resid_post";
    case HookPoint::ln_final_normalized: return "ln_final.hook_normalized";
    case HookPoint::logits: return "hook_logits";
    case HookPoint::COUNT: break;
  }
  return "?";
}

bool hook_point_per_layer(HookPoint p) {
  return p != HookPoint::embed && p != HookPoint::ln_final_normalized && p != HookPoint::logits;
}

bool hook_point_has_heads(HookPoint p) {
  switch (p) {
    case HookPoint::q: case HookPoint::k: case HookPoint::v: case HookPoint::rot_q:
    case HookPoint::rot_k: case HookPoint::attn_scores: case HookPoint::pattern:
    case HookPoint::z: case HookPoint::result:
      return true;
    default:
      return false;
  }
}

int hook_point_pos_axis(HookPoint p) {
  return p == HookPoint::attn_scores || p == HookPoint::pattern ? 2 : 1;
}

int hook_point_head_axis(HookPoint p) {
  if (!hook_point_has_heads(p)) return -1;
  return p == HookPoint::attn_scores || p == HookPoint::pattern ? 1 : 2;
}

std::string HookId::name() const {
  if (!hook_point_per_layer(point)) return hook_point_suffix(point);
  return "blocks." + std::to_string(layer) + "." + hook_point_suffix(point);
}

static std::vector<HookId> all_ids(const ModelConfig& cfg) {
  std::vector<HookId> ids;
  ids.push_back({HookPoint::embed, -1});
  for (int l = 0; l < cfg.n_layer; ++l)
    for (int p = static_cast<int>(HookPoint::resid_pre); p <= static_cast<int>(HookPoint::resid_post); ++p)
      ids.push_back({static_cast<HookPoint>(p), l});
  ids.push_back({HookPoint::ln_final_normalized, -1});
  ids.push_back({HookPoint::logits, -1});
  return ids;
}

std::vector<std::string> all_hook_names(const ModelConfig& cfg) {
  std::vector<std::string> names;
  for (const auto& id : all_ids(cfg)) names.push_back(id.name());
  return names;
}

// '*' matches any run of characters (including dots), everything else literally.
static bool glob_match(const std::string& pat, const std::string& s) {
  size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

static std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// A name without '*' is read directly, with its position in all_ids(), instead of being compared
// against every spelled-out name: the Python package registers one hook per callback, and
// spelling out ~20 x n_layer names was most of a no-op callback's cost (bench/python_vs_tl.py
// hooks). The layer is known to be in range here (checked by the caller).
static std::optional<std::pair<HookId, size_t>> parse_literal(const ModelConfig& cfg, const std::string& pat) {
  constexpr int first = static_cast<int>(HookPoint::resid_pre), last = static_cast<int>(HookPoint::resid_post);
  const size_t per_layer = static_cast<size_t>(last - first + 1);
  if (pat == hook_point_suffix(HookPoint::embed)) return std::make_pair(HookId{HookPoint::embed, -1}, size_t{0});
  const size_t after_blocks = 1 + per_layer * static_cast<size_t>(cfg.n_layer);
  if (pat == hook_point_suffix(HookPoint::ln_final_normalized))
    return std::make_pair(HookId{HookPoint::ln_final_normalized, -1}, after_blocks);
  if (pat == hook_point_suffix(HookPoint::logits)) return std::make_pair(HookId{HookPoint::logits, -1}, after_blocks + 1);
  if (pat.rfind("blocks.", 0) != 0) return std::nullopt;
  size_t e = 7;
  while (e < pat.size() && std::isdigit(static_cast<unsigned char>(pat[e]))) ++e;
  if (e == 7 || e >= pat.size() || pat[e] != '.' || e - 7 > 9 || (pat[7] == '0' && e > 8)) return std::nullopt;
  const int layer = std::stoi(pat.substr(7, e - 7));
  if (layer >= cfg.n_layer) return std::nullopt;
  const char* suffix = pat.c_str() + e + 1;
  for (int p = first; p <= last; ++p)
    if (std::strcmp(suffix, hook_point_suffix(static_cast<HookPoint>(p))) == 0)
      return std::make_pair(HookId{static_cast<HookPoint>(p), layer},
                            1 + per_layer * static_cast<size_t>(layer) + static_cast<size_t>(p - first));
  return std::nullopt;
}

std::vector<HookId> resolve_hooks(const ModelConfig& cfg, const std::string& patterns) {
  const std::vector<HookId> ids = all_ids(cfg);
  std::vector<HookId> out;
  std::vector<char> taken(ids.size(), 0);
  for (const std::string& item : split_commas(patterns)) {
    const std::string pat = trim(item);
    if (pat.empty()) continue;
    // A literal layer number out of range gets its own message.
    if (pat.rfind("blocks.", 0) == 0) {
      size_t e = 7;
      while (e < pat.size() && std::isdigit(static_cast<unsigned char>(pat[e]))) ++e;
      if (e > 7 && (e == pat.size() || pat[e] == '.')) {
        // Over 9 digits is past any model (and past what stoll holds): out of range as such.
        const std::string layer = pat.substr(7, e - 7);
        if (layer.size() > 9 || std::stoll(layer) >= cfg.n_layer)
          fail_as(ExitCode::kUsage, "hook '", pat, "': layer ", layer, " is out of range (the model has ", cfg.n_layer,
               " layers: 0..", cfg.n_layer - 1, ")");
      }
    }
    if (pat.find('*') == std::string::npos) {
      if (const auto lit = parse_literal(cfg, pat)) {
        if (!taken[lit->second]) {
          taken[lit->second] = 1;
          out.push_back(lit->first);
        }
        continue;
      }
    }
    bool any = false;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (glob_match(pat, ids[i].name())) {
        any = true;
        if (!taken[i]) {
          taken[i] = 1;
          out.push_back(ids[i]);
        }
      }
    }
    if (!any) {
      // Suggest the nearest names; compare against the layer-0 / global names so that
      // "blocks.*.hook_resid" still finds "blocks.*.hook_resid_post".
      std::vector<std::pair<size_t, std::string>> near;
      for (const auto& id : ids) {
        if (id.layer > 0) continue;
        std::string generic = id.layer == 0 ? "blocks.*." + std::string(hook_point_suffix(id.point)) : id.name();
        const size_t d = std::min(edit_distance(pat, generic), edit_distance(pat, id.name()));
        near.emplace_back(d, generic);
      }
      std::sort(near.begin(), near.end());
      std::string list;
      for (size_t i = 0; i < near.size() && i < 3; ++i) list += (i ? ", " : "") + near[i].second;
      fail("unknown hook name '", pat, "' (did you mean: ", list, "?)");
    }
  }
  if (out.empty()) fail("no hook names given");
  return out;
}

}  // namespace rs
