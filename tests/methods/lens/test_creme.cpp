// CREME fitting (methods/lens/creme.h) on a tiny random model with a byte-level vocabulary,
// checked through what the edit is for, not through the same hooks the code reads:
//   - mean_last_z reads the input of W_O: W_O . mean_last_z equals the mean of hook_attn_out
//     (= z W_O^T for llama) at the last token, one unbatched forward per prompt;
//   - after fit_creme on one layer, the composed clozes' mean attention output at that layer
//     equals the guide clozes' mean attention output of the unedited model (k = composition
//     key, t = guide target; swapping them, or reading another hook point, breaks this);
//   - directions orthogonal to k pass W_O unchanged (rank one);
//   - several layers are fitted in ascending order, each on the model with the earlier edits.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "hooks/hooks.h"
#include "methods/lens/creme.h"
#include "model/tiny_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using namespace rs;
using namespace rs::lens;

namespace {

// Every byte one token, no merges: prompts tokenise to their bytes.
std::unique_ptr<tok::Tokenizer> byte_tokenizer() {
  tok::VocabSpec s;
  s.source = "bytes";
  s.model = "gpt2";
  s.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(tok::byte_unicode().byte_to_utf8[b]);
    s.token_types.push_back(1);
  }
  return tok::Tokenizer::from_spec(s);
}

Model byte_model(uint64_t seed) {
  ModelConfig c = test::tiny_config("llama");
  c.n_vocab = 256;
  return test::tiny_model(c, seed);
}

// Mean over prompts of blocks.{layer}.hook_attn_out at the last token, [D] f64: one forward
// per prompt, no batch and no padding.
at::Tensor mean_last_attn_out(const Model& m, const tok::Tokenizer& t, const std::vector<std::string>& prompts,
                              int layer) {
  at::NoGradGuard ng;
  at::Tensor sum = at::zeros({m.config.d_model}, at::kDouble);
  const std::string name = "blocks." + std::to_string(layer) + ".hook_attn_out";
  for (const std::string& p : prompts) {
    const std::vector<int32_t> ids32 = t.encode(p, true, false);
    const std::vector<int64_t> ids(ids32.begin(), ids32.end());
    Hooks h(m.config);
    h.capture(name, Positions::last());
    ForwardOptions o;
    o.hooks = &h;
    forward(m, at::tensor(ids, at::kLong).unsqueeze(0), {}, o);
    sum += h.get(name)[0].to(at::kDouble);
  }
  return sum / static_cast<double>(prompts.size());
}

const std::vector<CremePair> kPairs = {
    {"The capital of the country where Ana lives is", "The capital of Peru is"},
    {"The mother of the singer of that song is", "The mother of Lea is"},
    {"The colour of the car Tom bought is", "The colour of his red car is"},
};

// The clozes as fit_creme wraps them: each pair in the first n templates.
std::vector<std::string> wrapped(bool composed, int n_templates) {
  std::vector<std::string> out;
  for (const CremePair& p : kPairs)
    for (int i = 0; i < n_templates; ++i)
      out.push_back(wrap_template(context_templates()[static_cast<size_t>(i)],
                                  composed ? p.composed_cloze : p.guide_cloze));
  return out;
}

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }

}  // namespace

TEST(Creme, MeanLastZIsTheInputOfTheOutputProjection) {
  const Model m = byte_model(3);
  const auto t = byte_tokenizer();
  const std::vector<std::string> prompts = wrapped(true, 2);
  for (int l = 0; l < m.config.n_layer; ++l) {
    // batch 4 over 6 prompts of different lengths: two batches, left padding
    const at::Tensor z = mean_last_z(m, *t, prompts, l, 4);
    ASSERT_EQ(z.sizes(), (at::IntArrayRef{m.config.n_head * m.config.d_head}));
    const at::Tensor W = m.weight(o_proj_name(l)).to(at::kDouble);
    const at::Tensor want = mean_last_attn_out(m, *t, prompts, l);
    EXPECT_LT(max_abs(at::mv(W, z) - want), 1e-5) << "layer " << l;
  }
}

TEST(Creme, EditMapsTheCompositionKeyToTheGuideTarget) {
  const auto t = byte_tokenizer();
  const int layer = 1, n_templates = 2;
  const std::vector<std::string> composed = wrapped(true, n_templates), guide = wrapped(false, n_templates);
  const Model base = byte_model(5);
  const at::Tensor target = mean_last_attn_out(base, *t, guide, layer);
  const at::Tensor before = mean_last_attn_out(base, *t, composed, layer);
  ASSERT_GT(max_abs(target - before), 1e-2) << "guide and composed already agree: the test would prove nothing";

  Model m = byte_model(5);
  CremeOptions o;
  o.layers = {layer};
  o.templates = n_templates;
  o.batch = 4;
  std::vector<CremeLayerStats> stats;
  const WeightEdit e = fit_creme(m, *t, kPairs, o, &stats);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].layer, layer);
  // The edit is in place: the composed prompts now produce the guide's attention output.
  const at::Tensor after = mean_last_attn_out(m, *t, composed, layer);
  EXPECT_LT(max_abs(after - target), 1e-4) << "after " << after << "\ntarget " << target;
  // Layers before the edited one are untouched.
  EXPECT_LT(max_abs(mean_last_attn_out(m, *t, composed, 0) - mean_last_attn_out(base, *t, composed, 0)), 1e-6);
  EXPECT_NEAR(stats[0].t_norm, target.norm().item<double>(), 1e-4);
  EXPECT_NEAR(stats[0].residual_norm, (target - before).norm().item<double>(), 1e-4);

  // Rank one along k: a direction orthogonal to k maps as before.
  const at::Tensor k = mean_last_z(base, *t, composed, layer);
  at::Tensor v = at::randn({k.size(0)}, at::kDouble);
  v -= (v.dot(k) / k.dot(k)) * k;
  const at::Tensor W0 = base.weight(o_proj_name(layer)).to(at::kDouble);
  const at::Tensor W1 = m.weight(o_proj_name(layer)).to(at::kDouble);
  EXPECT_LT(max_abs(at::mv(W1, v) - at::mv(W0, v)), 1e-5);
  EXPECT_GT(max_abs(W1 - W0), 1e-3);
}

TEST(Creme, LayersAreFittedInOrderOnTheEditedModel) {
  const auto t = byte_tokenizer();
  CremeOptions both, first, second;
  both.layers = {1, 0};  // given unordered: fitted 0 then 1
  first.layers = {0};
  second.layers = {1};
  both.templates = first.templates = second.templates = 1;
  Model a = byte_model(9), b = byte_model(9);
  fit_creme(a, *t, kPairs, both);
  fit_creme(b, *t, kPairs, first);
  fit_creme(b, *t, kPairs, second);
  for (int l = 0; l < 2; ++l)
    EXPECT_LT(max_abs(a.weight(o_proj_name(l)) - b.weight(o_proj_name(l))), 1e-6) << "layer " << l;
  // ... and fitting layer 1 alone on the unedited model gives a different edit.
  Model c = byte_model(9);
  fit_creme(c, *t, kPairs, second);
  EXPECT_GT(max_abs(c.weight(o_proj_name(1)) - a.weight(o_proj_name(1))), 1e-6);
}

TEST(Creme, BadOptionsAreRefused) {
  const auto t = byte_tokenizer();
  Model m = byte_model(1);
  CremeOptions o;
  o.layers = {2};
  EXPECT_THROW(fit_creme(m, *t, kPairs, o), Error);
  o.layers = {0};
  o.templates = 0;
  EXPECT_THROW(fit_creme(m, *t, kPairs, o), Error);
  o.templates = 1;
  EXPECT_THROW(fit_creme(m, *t, {}, o), Error);
}
