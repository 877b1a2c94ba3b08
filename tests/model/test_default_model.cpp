// The real default model (SmolLM2-135M-Instruct Q4_1): configuration values of issue 2
// (acceptance point 2), and the equivalences of issue 3 on real weights.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "core/paths.h"
#include "hooks/hooks.h"
#include "io/gguf.h"
#include "model/model.h"

using namespace rs;

namespace {

const Model& default_model() {
  static Model m = [] {
    set_threads(0);
    const std::string path = default_model_path();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw std::runtime_error("default model not found at " + path + " (set REASONSCOPE_MODEL or run the setup)");
    return load_model(path);
  }();
  return m;
}

}  // namespace

TEST(DefaultModel, ConfigMatchesTheFile) {
  const ModelConfig& c = default_model().config;
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.n_layer, 30);
  EXPECT_EQ(c.d_model, 576);
  EXPECT_EQ(c.n_head, 9);
  EXPECT_EQ(c.n_head_kv, 3);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.d_ff, 1536);
  EXPECT_EQ(c.n_vocab, 49152);
  EXPECT_DOUBLE_EQ(c.rope.theta, 100000.0);
  EXPECT_NEAR(c.rms_eps, 1e-5, 1e-12);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope.scaling, RopeScalingType::None);
  // 134.5 M parameters (SmolLM2-135M), counting the tied matrix once
  EXPECT_EQ(default_model().n_params(), c.n_params());
  EXPECT_NEAR(static_cast<double>(c.n_params()), 134.5e6, 0.1e6);
  EXPECT_TRUE(default_model().lm_head.is_same(default_model().embed));
}

TEST(DefaultModel, UnpermutedQkMatchesConverterInverse) {
  // Our direct row mapping during dequantisation == dequantise-then-unpermute.
  const Model& m = default_model();
  auto f = gguf::File::open(default_model_path());
  const gguf::TensorInfo& ti = f->tensor("blk.3.attn_k.weight");
  at::Tensor raw = at::empty({ti.ne[1], ti.ne[0]}, at::kFloat);
  dequantize(ti.type, ti.data, raw.data_ptr<float>(), ti.n_elements());
  EXPECT_TRUE(at::equal(gguf_to_hf_qk_rows(raw, m.config.n_head_kv), m.layers[3].k));
  EXPECT_FALSE(at::equal(raw, m.layers[3].k));
}

TEST(DefaultModel, BatchCacheAndHooksAgree) {
  at::NoGradGuard ng;
  const Model& m = default_model();
  // Token ids of two short English prompts (any in-vocabulary ids exercise the same paths).
  const std::vector<std::vector<int64_t>> seqs = {{504, 3575, 282, 4649, 314}, {1780, 253, 1345, 28, 2}};
  Batch b = make_batch({seqs[0], {seqs[1][0], seqs[1][1], seqs[1][2]}}, 0);
  const at::Tensor batched = forward(m, b.tokens, b.mask);
  EXPECT_TRUE(at::isfinite(batched).all().item<bool>());
  const at::Tensor alone = forward(m, at::tensor(std::vector<int64_t>{1780, 253, 1345}, at::kLong).view({1, 3}), {});
  EXPECT_LE((batched[1].narrow(0, 2, 3) - alone[0]).abs().max().item<double>(), 1e-4);

  KVCache cache;
  ForwardOptions o;
  o.cache = &cache;
  at::Tensor seq = at::tensor(seqs[0], at::kLong).view({1, 5});
  const at::Tensor full = forward(m, seq, {});
  const at::Tensor p1 = forward(m, seq.narrow(1, 0, 3), {}, o);
  const at::Tensor p2 = forward(m, seq.narrow(1, 3, 1), {}, o);
  const at::Tensor p3 = forward(m, seq.narrow(1, 4, 1), {}, o);
  EXPECT_LE((at::cat({p1, p2, p3}, 1) - full).abs().max().item<double>(), 1e-4);

  Hooks h(m.config);
  h.capture("blocks.*.hook_resid_post");
  h.capture("blocks.7.attn.hook_pattern");
  ForwardOptions oh;
  oh.hooks = &h;
  EXPECT_TRUE(at::equal(forward(m, seq, {}, oh), full));
  EXPECT_EQ(h.get("blocks.29.hook_resid_post").sizes(), (std::vector<int64_t>{1, 5, 576}));
}
