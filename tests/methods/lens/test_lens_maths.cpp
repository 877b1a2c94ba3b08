// Known answers for the lens / tracing / CREME maths (issue 11, acceptance 1), on tiny random
// models (no download).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/error.h"
#include "core/layers.h"
#include "hooks/hooks.h"
#include "io/safetensors.h"
#include "methods/lens/edit_file.h"
#include "methods/lens/logit_lens.h"
#include "methods/lens/rank_one.h"
#include "methods/lens/tracing.h"
#include "model/tiny_model.h"

using namespace rs;
using namespace rs::lens;

namespace {

at::Tensor logits_of(const Model& m, const std::vector<int64_t>& ids) {
  at::NoGradGuard ng;
  return forward(m, at::tensor(ids, at::kLong).unsqueeze(0), {}, {});
}

const std::vector<int64_t> kIds = {3, 17, 42, 5, 9, 28, 11, 60};

}  // namespace

TEST(RankOne, MapsKeyToTargetAndKeepsOrthogonalVectors) {
  at::manual_seed(0);
  const at::Tensor W = at::randn({24, 32}), k = at::randn({32}), t = at::randn({24});
  const at::Tensor W2 = W + rank_one_delta(W, k, t);
  // W' k = t  (float tolerance: |t| ~ 5, f32 rounding ~1e-6 relative)
  EXPECT_LT((at::mv(W2, k) - t).abs().max().item<double>(), 1e-4);
  // v orthogonal to k: W' v = W v
  for (int i = 0; i < 5; ++i) {
    at::Tensor v = at::randn({32});
    v = v - v.dot(k) / k.dot(k) * k;
    EXPECT_LT((at::mv(W2, v) - at::mv(W, v)).abs().max().item<double>(), 1e-4);
  }
  // the delta has rank one
  const at::Tensor s = at::linalg_svdvals(rank_one_delta(W, k, t).to(at::kDouble));
  EXPECT_LT(s[1].item<double>(), 1e-6 * s[0].item<double>());  // f32 rounding of the delta
}

TEST(RankOne, RejectsBadShapesAndZeroKey) {
  const at::Tensor W = at::randn({4, 3});
  EXPECT_THROW(rank_one_delta(W, at::randn({4}), at::randn({4})), Error);
  EXPECT_THROW(rank_one_delta(W, at::zeros({3}), at::randn({4})), Error);
}

TEST(LogitLens, LastLayerWithNormEqualsModelLogProbs) {
  for (bool tied : {true, false}) {
    Model m = test::tiny_model(test::tiny_config("llama", tied), 3);
    const at::Tensor resid = lens_residuals(m, kIds, {});  // [L, T, D]
    ASSERT_EQ(resid.size(0), m.config.n_layer);
    const at::Tensor lens = lens_logprobs(m, resid[m.config.n_layer - 1], true);  // [T, V]
    const at::Tensor own = at::log_softmax(logits_of(m, kIds)[0], -1);
    EXPECT_LT((lens - own).abs().max().item<double>(), 1e-5) << "tied=" << tied;
    // at earlier layers it is something else
    EXPECT_GT((lens_logprobs(m, resid[0], true) - own).abs().max().item<double>(), 1e-2);
    // without the norm: plain resid W_U^T
    const at::Tensor raw = lens_logprobs(m, resid[0], false);
    const at::Tensor want = at::log_softmax(at::matmul(resid[0], m.lm_head.t()), -1);
    EXPECT_LT((raw - want).abs().max().item<double>(), 1e-5);
  }
}

TEST(LogitLens, ResidualsOfChosenLayersAndEmbed) {
  Model m = test::tiny_model(test::tiny_config("llama", true), 3);
  const at::Tensor every = lens_residuals(m, kIds, {});  // [L, T, D]
  const at::Tensor some = lens_residuals(m, kIds, {}, {kEmbedLayer, 1});
  ASSERT_EQ(some.size(0), 2);
  EXPECT_TRUE(at::equal(some[1], every[1]));  // block 1's output, stopping the forward after it
  // embed: the token embeddings themselves (llama scales nothing)
  const at::Tensor emb = m.embed.index_select(0, at::tensor(kIds, at::kLong)).to(some.dtype());
  EXPECT_LT((some[0] - emb).abs().max().item<double>(), 1e-6);
  EXPECT_THROW(lens_residuals(m, kIds, {}, {static_cast<int>(m.config.n_layer)}), Error);
}

TEST(LogitLens, TokenRank) {
  const at::Tensor lp = at::tensor({0.1, 0.5, 0.3, 0.5});
  EXPECT_EQ(token_rank(lp, 1).item<int64_t>(), 0);
  EXPECT_EQ(token_rank(lp, 2).item<int64_t>(), 2);
  EXPECT_EQ(token_rank(lp, 0).item<int64_t>(), 3);
}

TEST(Tracing, PatchingWithOwnCacheChangesNothing) {
  Model m = test::tiny_model(test::tiny_config(), 5);
  const at::Tensor clean = logits_of(m, kIds);
  for (Component c : {Component::Resid, Component::Attn, Component::Mlp}) {
    Hooks h(m.config);
    h.capture("blocks.*." + component_hook(c, 0).substr(9), Positions::at({4}));
    ForwardOptions o;
    o.hooks = &h;
    {
      at::NoGradGuard ng;
      forward(m, at::tensor(kIds, at::kLong).unsqueeze(0), {}, o);
    }
    std::vector<at::Tensor> src;
    for (int l = 0; l < m.config.n_layer; ++l) src.push_back(h.get(component_hook(c, l))[0][0]);
    const at::Tensor patched = run_patched(m, kIds, c, {0, 1}, 4, src);
    EXPECT_EQ((patched - clean).abs().max().item<double>(), 0.0) << component_name(c);
  }
  // A whole sweep with the guide = the composition run: every cell equals the clean run.
  TraceInput in{{3, 17, 42, 5, 9}, {3, 17, 42, 5, 9}, {28, 11}, 2, 2};
  const TraceResult r = trace_case(m, in);
  EXPECT_NEAR(r.clean_logp, r.guide_logp, 1e-9);
  EXPECT_LT((r.logp - r.clean_logp).abs().max().item<double>(), 1e-6);
  EXPECT_EQ((r.rank - r.clean_rank).abs().max().item<int64_t>(), 0);
}

TEST(Tracing, BatchedSweepMatchesSinglePatchedRunsAndCountsForwards) {
  ModelConfig cfg = test::tiny_config();
  cfg.n_layer = 4;
  Model m = test::tiny_model(cfg, 7);
  TraceInput in{{3, 17, 42, 5, 9, 28}, {3, 50, 51, 5, 9, 28, 2}, {11, 13}, 3, 4};
  TraceOptions o;
  o.window = 2;
  const TraceResult r = trace_case(m, in, o);
  EXPECT_EQ(r.patched_sequences, 4 * 3 * 2);   // L x C x P
  EXPECT_EQ(r.guide_runs, 1);
  EXPECT_EQ(r.forward_calls, 2 + 3 * 2);       // guide + clean + one batch per (C, P)
  // Guide cache by hand, then one patched run per cell.
  std::vector<int64_t> guide = in.guide, comp = in.composed;
  guide.insert(guide.end(), in.answer.begin(), in.answer.end());
  comp.insert(comp.end(), in.answer.begin(), in.answer.end());
  for (int ci = 0; ci < 3; ++ci) {
    const Component c = o.components[static_cast<size_t>(ci)];
    for (int pi = 0; pi < 2; ++pi) {
      const int64_t src_pos = pi == 0 ? 6 : in.guide_subject_pos, dst = pi == 0 ? 5 : in.composed_subject_pos;
      Hooks h(m.config);
      h.capture("blocks.*." + component_hook(c, 0).substr(9), Positions::at({src_pos}));
      ForwardOptions fo;
      fo.hooks = &h;
      {
        at::NoGradGuard ng;
        forward(m, at::tensor(guide, at::kLong).unsqueeze(0), {}, fo);
      }
      std::vector<at::Tensor> src;
      for (int l = 0; l < 4; ++l) src.push_back(h.get(component_hook(c, l))[0][0]);
      for (int l = 0; l < 4; ++l) {
        const at::Tensor logits = run_patched(m, comp, c, patch_window(c, l, 2, 4), dst, src);
        const auto [lp, rk] = answer_logp_rank(logits, 6, in.answer);
        EXPECT_NEAR(r.logp[ci][pi][l].item<double>(), lp[0].item<double>(), 1e-5);
        EXPECT_EQ(r.rank[ci][pi][l].item<int64_t>(), rk[0].item<int64_t>());
      }
    }
  }
}

TEST(Tracing, Window) {
  EXPECT_EQ(patch_window(Component::Resid, 5, 6, 30), std::vector<int>({5}));
  EXPECT_EQ(patch_window(Component::Attn, 5, 6, 30), std::vector<int>({2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(patch_window(Component::Mlp, 0, 6, 30), std::vector<int>({0, 1, 2}));
  EXPECT_EQ(patch_window(Component::Mlp, 29, 6, 30), std::vector<int>({26, 27, 28, 29}));
}

TEST(EditFile, SavedAndAppliedReproducesEditedLogitsExactly) {
  const ModelConfig cfg = test::tiny_config();
  Model edited = test::tiny_model(cfg, 11);
  at::manual_seed(4);
  WeightEdit e;
  for (int l : {0, 1}) {
    const std::string name = "model.layers." + std::to_string(l) + ".self_attn.o_proj.weight";
    const at::Tensor W = edited.weight(name);
    const at::Tensor d = rank_one_delta(W, at::randn({W.size(1)}), at::randn({W.size(0)}));
    e.add(edited, name, d);
    W.add_(d);
  }
  e.metadata["method"] = "test";
  const std::string path = test::temp_path("edit.safetensors");
  save_edit(e, path);
  const at::Tensor want = logits_of(edited, kIds);

  Model fresh = test::tiny_model(cfg, 11);
  EXPECT_GT((logits_of(fresh, kIds) - want).abs().max().item<double>(), 1e-4);
  const WeightEdit loaded = load_edit(path);
  EXPECT_EQ(loaded.metadata.at("method"), "test");
  apply_edit(fresh, loaded, path);
  EXPECT_EQ((logits_of(fresh, kIds) - want).abs().max().item<double>(), 0.0);

  // Another model: other widths -> identity/shape error; same shape, other weights -> error.
  ModelConfig wide = cfg;
  wide.d_model = 40;
  Model other = test::tiny_model(wide, 11);
  try {
    apply_edit(other, loaded, path);
    FAIL() << "no error for a model of another width";
  } catch (const Error& ex) {
    EXPECT_NE(std::string(ex.what()).find("another model"), std::string::npos) << ex.what();
  }
  Model reseeded = make_random_model(cfg, 99, {}, 0.5);
  const at::Tensor before = logits_of(reseeded, kIds);
  EXPECT_THROW(apply_edit(reseeded, loaded, path), Error);
  // a failed apply changes nothing
  EXPECT_EQ((logits_of(reseeded, kIds) - before).abs().max().item<double>(), 0.0);
  std::remove(path.c_str());
}

TEST(EditFile, RejectsFilesThatAreNotEdits) {
  const std::string path = test::temp_path("not_edit.safetensors");
  SafetensorsWriter w;
  const float x[2] = {1, 2};
  w.add("a", StDtype::F32, {2}, x);
  w.write(path);
  EXPECT_THROW(load_edit(path), Error);
  std::remove(path.c_str());
}

// Found by fuzz_edit (fuzz/corpus/edit/edge_bad_mean.safetensors): a base_mean_abs that is not
// a number escaped as std::invalid_argument from std::stod; "nan" was accepted, and a NaN
// passes check_edit's 2% identity test for any model.
TEST(EditFile, BaseMeanAbsMustBeAFiniteNumber) {
  for (const char* bad : {"abc", "nan", "inf", "-1", "0.5x", ""}) {
    const std::string path = test::temp_path("bad_mean.safetensors");
    SafetensorsWriter w;
    const float x[2] = {1, 2};
    w.set_metadata("format", "reasonscope.weight_delta.v1");
    w.set_metadata("base_mean_abs.a", bad);
    w.add("a", StDtype::F32, {2}, x);
    w.write(path);
    try {
      load_edit(path);
      ADD_FAILURE() << "accepted base_mean_abs '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": metadata 'base_mean_abs.a': expected a finite number"),
                std::string::npos) << e.what();
    }
    std::remove(path.c_str());
  }
}
