// CREME (Li et al. 2024, arXiv 2402.14328, section 5): patch compositional reasoning with
// closed-form rank-one edits of the attention output projections W_O of chosen layers.
// METHODS.md section 4, step 3. For each layer l, in ascending order and each computed on the
// model with the earlier layers' edits already in place:
//   k = mean over cases x context templates of hook_z (the input of W_O, [H * d_head])
//       at the last token of the composition cloze
//   t = W_O (mean over cases x templates of hook_z at the last token of the guide cloze)
//   W_O <- W_O + (t - W_O k) k^T / |k|^2          (rank_one.h)
// One edit is fitted over all the cases given (fit on one split, evaluate on another).
#pragma once
#include <string>
#include <vector>

#include "methods/lens/edit_file.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::lens {

// Context templates that wrap a prompt ("{}" = the prompt): ROME-style short prefixes, so the
// key is not tied to the prompt being the start of the text. The first is the bare prompt.
const std::vector<std::string>& context_templates();
std::string wrap_template(const std::string& tmpl, const std::string& prompt);

struct CremePair {
  std::string composed_cloze, guide_cloze;
};

struct CremeOptions {
  std::vector<int> layers;  // ascending after sorting; must be in [0, L)
  int templates = 5;        // how many of context_templates() (1 .. size)
  int64_t batch = 16;
};

struct CremeLayerStats {
  int layer = 0;
  double k_norm = 0, t_norm = 0, residual_norm = 0;  // |k|, |t|, |t - W k| before the edit
  double delta_norm = 0;                             // Frobenius norm of the delta
};

// Fits and APPLIES the edit to m (in place); returns it (deltas by HF name) and per-layer stats.
WeightEdit fit_creme(Model& m, const tok::Tokenizer& t, const std::vector<CremePair>& pairs,
                     const CremeOptions& opts, std::vector<CremeLayerStats>* stats = nullptr);

// Mean hook_z at the last token of each prompt, flattened: [H * d_head] (model device).
at::Tensor mean_last_z(const Model& m, const tok::Tokenizer& t, const std::vector<std::string>& prompts,
                       int layer, int64_t batch = 16);

std::string o_proj_name(int layer);  // "model.layers.{l}.self_attn.o_proj.weight"

}  // namespace rs::lens
