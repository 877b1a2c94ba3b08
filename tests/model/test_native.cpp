// Native (quantised) weights: a tiny random model written as a GGUF with Q8_0 / Q4_1 / Q4_0
// matrices is loaded both ways from the same file; the dequantised (exact) forward is the
// reference. Checks: logits within a stated bound, cached decoding == full recompute on native
// weights, hooks (capture, steering at hook_resid_post, head ablation at hook_z) behave as on the
// exact path, refused hooks say why, generation reserves its cache once. Plus the default model
// (when present): native vs dequantised logits and greedy tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/paths.h"
#include "hooks/hooks.h"
#include "kernels/quant_matmul.h"
#include "model/generate.h"
#include "model/native.h"
#include "golden_logprobs.h"
#include "tiny_model.h"
#include "tokenizer/tokenizer.h"

using namespace rs;

namespace {

void put_f16(std::vector<uint8_t>& b, size_t at, float v) {
  const uint16_t h = fp32_to_fp16(v);
  std::memcpy(b.data() + at, &h, 2);
}

// Round-to-nearest quantisers (enough for tests; the layouts are those of quant_matmul.h).
std::vector<uint8_t> quantize(GgmlType t, const float* x, int64_t n) {
  std::vector<uint8_t> out(ggml_row_bytes(t, n));
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* xb = x + 32 * b;
    float mn = xb[0], mx = xb[0], amax = 0;
    for (int j = 0; j < 32; ++j) {
      mn = std::min(mn, xb[j]);
      mx = std::max(mx, xb[j]);
      amax = std::max(amax, std::fabs(xb[j]));
    }
    if (t == GgmlType::Q8_0) {
      const size_t o = 34 * b;
      const float d = amax / 127;
      put_f16(out, o, d);
      const float dd = fp16_to_fp32(fp32_to_fp16(d));
      for (int j = 0; j < 32; ++j) out[o + 2 + j] = static_cast<uint8_t>(static_cast<int8_t>(dd ? std::lround(xb[j] / dd) : 0));
    } else if (t == GgmlType::Q4_1) {
      const size_t o = 20 * b;
      const float d = (mx - mn) / 15;
      put_f16(out, o, d);
      put_f16(out, o + 2, mn);
      const float dd = fp16_to_fp32(fp32_to_fp16(d)), mm = fp16_to_fp32(fp32_to_fp16(mn));
      for (int j = 0; j < 16; ++j) {
        auto q = [&](float v) { return static_cast<uint8_t>(std::clamp<long>(dd ? std::lround((v - mm) / dd) : 0, 0, 15)); };
        out[o + 4 + j] = static_cast<uint8_t>(q(xb[j]) | (q(xb[j + 16]) << 4));
      }
    } else {  // Q4_0
      const size_t o = 18 * b;
      const float d = amax / 8;
      put_f16(out, o, d);
      const float dd = fp16_to_fp32(fp32_to_fp16(d));
      for (int j = 0; j < 16; ++j) {
        auto q = [&](float v) { return static_cast<uint8_t>(std::clamp<long>(dd ? std::lround(v / dd) + 8 : 8, 0, 15)); };
        out[o + 2 + j] = static_cast<uint8_t>(q(xb[j]) | (q(xb[j + 16]) << 4));
      }
    }
  }
  return out;
}

ModelConfig native_config() {
  ModelConfig c = test::tiny_config("llama", /*tied=*/true);
  c.d_model = 64;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.d_head = 16;
  c.d_ff = 96;
  return c;
}

// Write m with its matrices in `type` (the embedding in Q8_0, as in the default model).
void write_quantised(const Model& m, GgmlType type, const std::string& path) {
  using gguf::Value;
  const ModelConfig& c = m.config;
  gguf::Writer w;
  const std::string a = c.arch + ".";
  w.set("general.architecture", Value::of_string(c.arch));
  w.set(a + "block_count", Value::of_u32(static_cast<uint32_t>(c.n_layer)));
  w.set(a + "context_length", Value::of_u32(static_cast<uint32_t>(c.n_ctx_train)));
  w.set(a + "embedding_length", Value::of_u32(static_cast<uint32_t>(c.d_model)));
  w.set(a + "feed_forward_length", Value::of_u32(static_cast<uint32_t>(c.d_ff)));
  w.set(a + "attention.head_count", Value::of_u32(static_cast<uint32_t>(c.n_head)));
  w.set(a + "attention.head_count_kv", Value::of_u32(static_cast<uint32_t>(c.n_head_kv)));
  w.set(a + "rope.freq_base", Value::of_f32(static_cast<float>(c.rope.theta)));
  w.set(a + "attention.layer_norm_rms_epsilon", Value::of_f32(static_cast<float>(c.rms_eps)));
  w.set(a + "vocab_size", Value::of_u32(static_cast<uint32_t>(c.n_vocab)));
  auto put = [&](const std::string& name, at::Tensor t, GgmlType ty) {
    t = t.detach().to(at::kCPU, at::kFloat).contiguous();
    std::vector<int64_t> ne(t.sizes().rbegin(), t.sizes().rend());
    if (t.dim() == 1 || ty == GgmlType::F32) return w.add_tensor_f32(name, ne, t.data_ptr<float>());
    w.add_tensor(name, ty, ne, quantize(ty, t.data_ptr<float>(), t.numel()));
  };
  put("token_embd.weight", m.embed, type == GgmlType::F32 ? type : GgmlType::Q8_0);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights& L = m.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    put(p + "attn_norm.weight", L.ln1, type);
    put(p + "attn_q.weight", hf_to_gguf_qk_rows(L.q, c.n_head), type);
    put(p + "attn_k.weight", hf_to_gguf_qk_rows(L.k, c.n_head_kv), type);
    put(p + "attn_v.weight", L.v, type);
    put(p + "attn_output.weight", L.o, type);
    put(p + "ffn_norm.weight", L.ln2, type);
    put(p + "ffn_gate.weight", L.gate, type);
    put(p + "ffn_up.weight", L.up, type);
    put(p + "ffn_down.weight", L.down, type);
  }
  put("output_norm.weight", m.final_norm, type);
  w.write(path);
}

struct Pair {
  Model exact, native;
};

Pair load_pair(GgmlType type, const std::string& name) {
  const Model m = test::tiny_model(native_config(), 3);
  const std::string path = test::temp_path(name + ".gguf");
  write_quantised(m, type, path);
  LoadOptions lo;
  Pair p{load_model(path, lo), {}};
  lo.weights = WeightFormat::Native;
  p.native = load_model(path, lo);
  std::remove(path.c_str());  // the mapping stays valid after unlink
  return p;
}

// max |a - b| / std(b)
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.std().item<double>();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// With F32 matrices the native path takes the generic kernel (exact f32 activations), so it must
// reproduce the dequantised forward up to f32 summation order: this checks the native forward's
// own logic (q/k row order, RoPE, masks, cache, hooks) apart from activation quantisation.
TEST(Native, F32MatricesReproduceTheExactForward) {
  at::NoGradGuard ng;
  Pair p = load_pair(GgmlType::F32, "f32");
  Batch b = make_batch({{1, 5, 9, 2, 7, 30, 11}, {4, 8, 15, 16}}, 0);
  const at::Tensor real = b.mask.to(at::kBool);
  const at::Tensor ref = forward(p.exact, b.tokens, b.mask), got = forward(p.native, b.tokens, b.mask);
  EXPECT_LT(rel_err(got.index({real}), ref.index({real})), 1e-4);
  // cached decoding of a padded batch, step by step
  KVCache ce, cn;
  ForwardOptions oe, on;
  oe.cache = &ce;
  on.cache = &cn;
  forward(p.exact, b.tokens, b.mask, oe);
  forward(p.native, b.tokens, b.mask, on);
  for (int64_t step = 0; step < 4; ++step) {
    const at::Tensor nxt = at::tensor(std::vector<int64_t>{3 + step, 20 - step}, at::kLong).view({2, 1});
    const at::Tensor le = forward(p.exact, nxt, {}, oe), ln = forward(p.native, nxt, {}, on);
    EXPECT_LT(rel_err(ln, le), 1e-4) << "step " << step;
  }
}

// Logits on a left-padded batch: native within 15% of the logit spread of the exact path (the
// only difference is 8-bit activations; measured 8-10% on this random model, whose random
// weights amplify rounding more than a trained model's).
TEST(Native, LogitsCloseToDequantisedForEachFormat) {
  at::NoGradGuard ng;
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q4_0}) {
    Pair p = load_pair(t, ggml_type_name(t));
    ASSERT_TRUE(p.native.native);
    EXPECT_FALSE(p.native.embed.defined());
    Batch b = make_batch({{1, 5, 9, 2, 7, 30, 11}, {4, 8, 15, 16}}, 0);
    const at::Tensor ref = forward(p.exact, b.tokens, b.mask);
    const at::Tensor got = forward(p.native, b.tokens, b.mask);
    ASSERT_EQ(got.sizes(), ref.sizes());
    const at::Tensor real = b.mask.to(at::kBool);
    const double err = rel_err(got.index({real}), ref.index({real}));
    std::printf("%s: max |logit diff| / std = %.4f\n", ggml_type_name(t), err);
    EXPECT_LT(err, 0.15) << ggml_type_name(t);
  }
}

TEST(Native, CachedDecodingEqualsRecompute) {
  at::NoGradGuard ng;
  Pair p = load_pair(GgmlType::Q4_1, "cache");
  const std::vector<int64_t> seq = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  const at::Tensor all = at::tensor(seq, at::kLong).view({1, -1});
  const at::Tensor full = forward(p.native, all, {});
  KVCache cache;
  ForwardOptions o;
  o.cache = &cache;
  at::Tensor pieces = forward(p.native, all.narrow(1, 0, 4), {}, o);
  for (int64_t t = 4; t < 10; ++t) pieces = at::cat({pieces, forward(p.native, all.narrow(1, t, 1), {}, o)}, 1);
  EXPECT_LT((pieces - full).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(cache.length, 10);
  // Last-only logits are the last column of All
  ForwardOptions last;
  last.logits = LogitsMode::Last;
  EXPECT_LT((forward(p.native, all, {}, last).select(1, 0) - full.select(1, 9)).abs().max().item<double>(), 1e-5);
}

TEST(Native, HooksCaptureSteerAndAblateLikeTheExactPath) {
  at::NoGradGuard ng;
  Pair p = load_pair(GgmlType::Q8_0, "hooks");
  const at::Tensor toks = at::tensor(std::vector<int64_t>{7, 3, 12, 40, 2}, at::kLong).view({1, -1});
  // capture: resid_post of every layer, close to the exact path
  Hooks ce(p.exact.config), cn(p.native.config);
  ce.capture("blocks.*.hook_resid_post");
  cn.capture("blocks.*.hook_resid_post");
  ForwardOptions oe, on;
  oe.hooks = &ce;
  on.hooks = &cn;
  forward(p.exact, toks, {}, oe);
  forward(p.native, toks, {}, on);
  for (int l = 0; l < 2; ++l) {
    const std::string n = "blocks." + std::to_string(l) + ".hook_resid_post";
    EXPECT_LT(rel_err(cn.get(n), ce.get(n)), 0.15) << n;  // measured 0.04-0.07
  }
  // steering: the same vector added at resid_post moves the logits the same way on both paths
  const at::Tensor vec = at::randn({64}, at::TensorOptions().dtype(at::kFloat)) * 2.0;
  auto delta = [&](Model& m) {
    Hooks h(m.config);
    h.add("blocks.0.hook_resid_post", vec, 1.0);
    ForwardOptions o;
    o.hooks = &h;
    return forward(m, toks, {}, o) - forward(m, toks, {});
  };
  const at::Tensor de = delta(p.exact), dn = delta(p.native);
  EXPECT_GT(de.abs().max().item<double>(), 0.1);  // the intervention matters
  EXPECT_LT(rel_err(dn, de), 0.25);  // measured 0.14
  // head ablation at hook_z (generate --ablate-head)
  auto ablated = [&](Model& m) {
    Hooks h(m.config);
    h.ablate_heads(1, {0, 2}, Ablation::Zero);
    ForwardOptions o;
    o.hooks = &h;
    return forward(m, toks, {}, o) - forward(m, toks, {});
  };
  const at::Tensor ae = ablated(p.exact), an = ablated(p.native);
  EXPECT_GT(ae.abs().max().item<double>(), 0.01);
  EXPECT_LT(rel_err(an, ae), 0.25);  // measured 0.14
  // a pattern hook needs the exact path and says so
  Hooks pat(p.native.config);
  pat.capture("blocks.0.attn.hook_pattern");
  ForwardOptions op;
  op.hooks = &pat;
  const std::string msg = error_of([&] { forward(p.native, toks, {}, op); });
  EXPECT_NE(msg.find("blocks.0.attn.hook_pattern"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--weights dequant"), std::string::npos) << msg;
}

TEST(Native, RefusesWhatItCannotDo) {
  Pair p = load_pair(GgmlType::Q8_0, "refuse");
  EXPECT_NE(error_of([&] { p.native.weight("model.layers.0.self_attn.q_proj.weight"); }).find("--weights dequant"),
            std::string::npos);
  EXPECT_NE(error_of([&] { p.native.make_trainable(); }).find("--weights dequant"), std::string::npos);
  EXPECT_NE(error_of([&] { forward(p.native, at::full({1, 1}, 999, at::kLong), {}); }).find("outside the vocabulary"),
            std::string::npos);
}

TEST(Native, GenerationReservesTheCacheAndMatchesGreedyOfTheExactPath) {
  Pair p = load_pair(GgmlType::Q8_0, "gen");
  GenerateOptions go;
  go.max_new_tokens = 12;
  go.stop_at_eos = false;
  auto gn = generate(p.native, nullptr, {{5, 6, 7}}, go);
  auto ge = generate(p.exact, nullptr, {{5, 6, 7}}, go);
  ASSERT_EQ(gn[0].tokens.size(), 12u);
  // the first tokens agree (later ones may diverge at near-ties of a random model)
  for (int i = 0; i < 3; ++i) EXPECT_EQ(gn[0].tokens[i], ge[0].tokens[i]) << i;
}

// The default model, when present: native logits vs the dequantised f32 forward, and greedy text.
TEST(Native, DefaultModelAgreesWithDequantisedForward) {
  const char* env = std::getenv("REASONSCOPE_MODEL");
  const std::string path = env && *env ? env : default_model_path();
  if (!std::ifstream(path).good()) GTEST_SKIP() << "default model not found: " << path;
  at::NoGradGuard ng;
  set_threads(1);
  const Model& exact = test::load_model_once(path);
  const Model& native = test::load_model_once(path, WeightFormat::Native);
  auto tok = tok::Tokenizer::from_model_path(path);
  std::vector<int32_t> ids = tok->encode("The capital of France is Paris. The capital of Germany is", false);
  const at::Tensor t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).view({1, -1});
  const at::Tensor le = at::log_softmax(forward(exact, t, {}), -1);
  const at::Tensor ln = at::log_softmax(forward(native, t, {}), -1);
  // log-probs of the tokens that follow, and the argmax at each position
  const at::Tensor next = t.narrow(1, 1, t.size(1) - 1).unsqueeze(-1);
  const at::Tensor lpe = le.narrow(1, 0, t.size(1) - 1).gather(-1, next);
  const at::Tensor lpn = ln.narrow(1, 0, t.size(1) - 1).gather(-1, next);
  const double max_lp = (lpe - lpn).abs().max().item<double>();
  std::printf("default model: max |log-prob diff| native vs dequant over %ld tokens = %.4f\n",
              static_cast<long>(t.size(1) - 1), max_lp);
  EXPECT_LT(max_lp, 0.35);
  EXPECT_TRUE(le.argmax(-1).select(1, t.size(1) - 1).equal(ln.argmax(-1).select(1, t.size(1) - 1)));
  GenerateOptions go;
  go.max_new_tokens = 4;
  std::vector<int64_t> p(ids.begin(), ids.end());
  auto g = generate(native, tok.get(), {p}, go);
  EXPECT_NE(g[0].text.find("Berlin"), std::string::npos) << g[0].text;
}

// llama.cpp's own quantised path on the same file (tools/make_native_golden.py: Q4_1 / Q8_0
// weights times 8-bit activations, F32 KV cache). The kernels quantise activations as ggml does
// (Q8_1 blocks for Q4_1, Q8_0 for Q8_0: round half to even, d and s rounded to f16), so at
// position 0 of each prompt, where attention returns the token's own value vector, every
// product, norm and activation is llama.cpp's arithmetic: measured 2026-12-05, max |dlogp|
// 4.9e-7 over next-token, top-16 and the random columns (the golden's rounding is 1e-6; the
// kernels before, with f32 scales and one block size: up to 0.034). That needs the f32 order of
// ggml's AVX kernels too (8-lane fused multiply-adds per block; every instruction set of ours
// follows it): summing the same integers in another f32 order put position 0 0.066 away, as a
// last-bit difference flips the 8-bit rounding of some later activation by a whole step.
// From position 1 on, attention sums in another order than ggml's (f32 dot products, softmax),
// and the two drift apart the same way: top-16 up to 0.29 already at position 1; next-token max
// 0.17, mean 0.03 nats over all positions (exact f32 forward: 0.29 / 0.05); with the scalar
// f32 vector code (RS_KERNEL_ISA=scalar, another attention order) next+top-16 reaches 0.78.
// Stated tolerances: 1e-5 at position 0; elsewhere next-token + top-16 within 0.8 (measured
// 0.53 AVX, 0.78 scalar), random columns within 1.0 (0.76 / 0.79), the same top-1 token at all
// but 3 of 62 positions (all but 2 / all but 1).
TEST(Native, DefaultModelAgreesWithLlamaCppQuantisedPath) {
  const char* env = std::getenv("REASONSCOPE_MODEL");
  const std::string path = env && *env ? env : default_model_path();
  if (!std::ifstream(path).good()) GTEST_SKIP() << "default model not found: " << path;
  const test::GoldenSet& g = test::load_golden("tests/golden/native/llamacpp_q4_1.json",
                                               {"prompts", "tokens", "next_logp", "top_ids", "top_logp", "cols_logp"});
  at::NoGradGuard ng;
  set_threads(1);
  const Model& native = test::load_model_once(path, WeightFormat::Native);
  const Model& exact = test::load_model_once(path);
  // worst |ours - llama.cpp| over next-token + top-16 log-probs, and over the random columns
  test::LogprobAgreement agree[2], first;
  for (const test::GoldenCase& c : g.cases) {
    const at::Tensor t = at::tensor(c.ids, at::kLong).view({1, -1});
    for (int which = 0; which < 2; ++which) {
      const Model& m = which == 0 ? native : exact;
      const at::Tensor lp = at::log_softmax(forward(m, t, {}).select(0, 0).to(at::kDouble), -1);
      agree[which].add(c, lp, 0, g.cols);
      if (which == 0) first.add(c, lp.narrow(0, 0, 1), 0, g.cols);
    }
  }
  std::printf("vs llama.cpp at position 0: max |dlogp| next+top16 %.2e, random columns %.2e\n",
              first.next_top, first.cols);
  EXPECT_LT(first.next_top, 1e-5);
  EXPECT_LT(first.cols, 1e-5);
  const double top[2] = {agree[0].next_top, agree[1].next_top}, tail[2] = {agree[0].cols, agree[1].cols};
  const int64_t argmax_same[2] = {agree[0].top1_same, agree[1].top1_same}, positions = agree[0].positions;
  std::printf("vs llama.cpp (%ld positions): max |dlogp| next+top16: native %.4f, exact %.4f; "
              "random columns: native %.4f, exact %.4f; top-1 agreement: native %ld, exact %ld\n",
              static_cast<long>(positions), top[0], top[1], tail[0], tail[1],
              static_cast<long>(argmax_same[0]), static_cast<long>(argmax_same[1]));
  EXPECT_LT(top[0], 0.8);
  EXPECT_LT(tail[0], 1.0);
  EXPECT_GE(argmax_same[0], positions - 3);
}
