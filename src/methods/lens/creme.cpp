#include "methods/lens/creme.h"

#include <algorithm>

#include "core/error.h"
#include "hooks/hooks.h"
#include "methods/lens/answer_scoring.h"
#include "methods/lens/rank_one.h"

namespace rs::lens {

const std::vector<std::string>& context_templates() {
  // Neutral prefixes in the spirit of ROME's generated context templates (Meng et al. 2022,
  // "{random text}. {}"); fixed here so that edits are reproducible without sampling.
  static const std::vector<std::string> t = {
      "{}",
      "Here is a fact. {}",
      "I read this in a book. {}",
      "Let me tell you something. {}",
      "The teacher said: {}",
      "According to the encyclopedia, {}",
      "A quick quiz question. {}",
      "My friend told me that {}",
      "As everyone knows, {}",
      "In short, {}",
  };
  return t;
}

std::string wrap_template(const std::string& tmpl, const std::string& prompt) {
  std::string out = tmpl;
  const size_t at = out.find("{}");
  if (at == std::string::npos) return out + prompt;
  // "According to the encyclopedia, The capital ..." -> lower-case the prompt's first letter
  // after a comma or colon-free prefix that does not end a sentence.
  std::string p = prompt;
  if (at > 0 && out[at - 1] == ' ' && at >= 2 && out[at - 2] == ',' && !p.empty() && p[0] >= 'A' && p[0] <= 'Z' &&
      !(p.size() > 1 && p[1] >= 'A' && p[1] <= 'Z'))
    p[0] = static_cast<char>(p[0] - 'A' + 'a');
  out.replace(at, 2, p);
  return out;
}

std::string o_proj_name(int layer) {
  return "model.layers." + std::to_string(layer) + ".self_attn.o_proj.weight";
}

at::Tensor mean_last_z(const Model& m, const tok::Tokenizer& t, const std::vector<std::string>& prompts,
                       int layer, int64_t batch) {
  if (prompts.empty()) fail("CREME: no prompts");
  at::NoGradGuard ng;
  const int64_t pad = t.pad_id() >= 0 ? t.pad_id() : (t.eos_id() >= 0 ? t.eos_id() : 0);
  at::Tensor sum;
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(batch)) {
    std::vector<std::vector<int64_t>> ids;
    for (size_t i = start; i < std::min(prompts.size(), start + static_cast<size_t>(batch)); ++i)
      ids.push_back(prompt_ids(t, prompts[i], "CREME prompt"));
    Batch b = make_batch(ids, pad, m.device());
    Hooks h(m.config);
    CaptureSpec spec;
    spec.positions = Positions::last();
    spec.to_cpu = false;
    const std::string name = "blocks." + std::to_string(layer) + ".attn.hook_z";
    h.capture(name, spec);
    ForwardOptions o;
    o.hooks = &h;
    o.logits = LogitsMode::None;
    o.stop_after_layer = layer;
    forward(m, b.tokens, b.mask, o);
    const at::Tensor z = h.get(name).to(at::kDouble);        // [B, H, dh]
    const at::Tensor s = z.reshape({z.size(0), -1}).sum(0);  // [H * dh]
    sum = sum.defined() ? sum + s : s;
  }
  return sum / static_cast<double>(prompts.size());
}

WeightEdit fit_creme(Model& m, const tok::Tokenizer& t, const std::vector<CremePair>& pairs,
                     const CremeOptions& opts, std::vector<CremeLayerStats>* stats) {
  const int L = m.config.n_layer;
  if (pairs.empty()) fail("CREME: no cases to fit on");
  if (opts.layers.empty()) fail("CREME: no layers");
  const int n_templates = static_cast<int>(context_templates().size());
  if (opts.templates < 1 || opts.templates > n_templates)
    fail("CREME: --templates must be between 1 and ", n_templates, ", got ", opts.templates);
  std::vector<int> layers = opts.layers;
  std::sort(layers.begin(), layers.end());
  layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
  for (int l : layers)
    if (l < 0 || l >= L) fail("CREME: layer ", l, " is out of range (the model has layers 0-", L - 1, ")");

  std::vector<std::string> composed, guide;
  for (const auto& p : pairs)
    for (int i = 0; i < opts.templates; ++i) {
      composed.push_back(wrap_template(context_templates()[static_cast<size_t>(i)], p.composed_cloze));
      guide.push_back(wrap_template(context_templates()[static_cast<size_t>(i)], p.guide_cloze));
    }
  WeightEdit e;
  at::NoGradGuard ng;
  for (int l : layers) {
    // Computed on the model with the earlier layers' edits in place.
    const at::Tensor k = mean_last_z(m, t, composed, l, opts.batch);
    const at::Tensor W = m.weight(o_proj_name(l));
    const at::Tensor tgt = at::mv(W.to(at::kDouble), mean_last_z(m, t, guide, l, opts.batch));
    const at::Tensor delta = rank_one_delta(W, k, tgt);
    if (stats) {
      CremeLayerStats s;
      s.layer = l;
      s.k_norm = k.norm().item<double>();
      s.t_norm = tgt.norm().item<double>();
      s.residual_norm = (tgt - at::mv(W.to(at::kDouble), k)).norm().item<double>();
      s.delta_norm = delta.to(at::kDouble).norm().item<double>();
      stats->push_back(s);
    }
    e.add(m, o_proj_name(l), delta);   // records the base weight first
    W.add_(delta);                      // in place: the model now carries this layer's edit
  }
  e.metadata["method"] = "creme";
  std::string ls;
  for (int l : layers) ls += (ls.empty() ? "" : ",") + std::to_string(l);
  e.metadata["layers"] = ls;
  e.metadata["templates"] = std::to_string(opts.templates);
  e.metadata["n_cases"] = std::to_string(pairs.size());
  return e;
}

}  // namespace rs::lens
