// ModelConfig from GGUF metadata and HF config.json; RoPE frequencies with scaling; refusals.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "hooks/hooks.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "tiny_model.h"

using namespace rs;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, FromGgufMetadata) {
  Model m = test::tiny_model(test::tiny_config("qwen2", false), 2);
  const std::string path = test::temp_path("cfg_qwen2.gguf");
  test::write_gguf(m, path);
  auto f = gguf::File::open(path);
  const ModelConfig c = config_from_gguf(*f);
  EXPECT_EQ(c.arch, "qwen2");
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.d_model, 32);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.d_head, 8);
  EXPECT_EQ(c.d_ff, 48);
  EXPECT_EQ(c.n_vocab, 61);
  EXPECT_EQ(c.n_ctx_train, 256);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_TRUE(c.attn_qkv_bias);
  EXPECT_EQ(c.n_params(), m.n_params());
  std::remove(path.c_str());
}

TEST(Config, UnknownArchitectureRefusedByName) {
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::of_string("mamba"));
  const std::string path = test::temp_path("cfg_mamba.gguf");
  w.write(path);
  const std::string msg = error_of([&] { load_model(path); });
  EXPECT_NE(msg.find("unsupported architecture 'mamba' in " + path + " (supported: llama, qwen2, gemma3)"), std::string::npos) << msg;
  std::remove(path.c_str());
  const std::string msg2 = error_of([&] { config_from_hf_json(R"({"model_type": "gpt2"})", "x/config.json"); });
  EXPECT_NE(msg2.find("unsupported architecture 'gpt2' in x/config.json"), std::string::npos) << msg2;
}

TEST(Config, WrongTensorShapeNamesTensorAndFile) {
  Model m = test::tiny_model(test::tiny_config("llama"), 2);
  m.layers[1].down = at::zeros({32, 40});  // F should be 48
  const std::string path = test::temp_path("cfg_shape.gguf");
  test::write_gguf(m, path);
  const std::string msg = error_of([&] { load_model(path); });
  EXPECT_NE(msg.find(path + ": tensor blk.1.ffn_down.weight: expected ne [48, 32], found [40, 32]"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST(Config, FromHfJsonWithLlama3Scaling) {
  const std::string json = R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
    "intermediate_size": 8192, "num_attention_heads": 32, "num_hidden_layers": 16,
    "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "max_position_embeddings": 131072, "tie_word_embeddings": true, "vocab_size": 128256,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
  const ModelConfig c = config_from_hf_json(json, "llama32/config.json");
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.n_head_kv, 8);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope.scaling, RopeScalingType::Llama3);
  EXPECT_DOUBLE_EQ(c.rope.factor, 32.0);
  // llama3 rule per frequency (transformers modeling_rope_utils): wavelength > 8192 -> /32,
  // < 2048 -> unchanged, else interpolated.
  Model m;
  m.config = c;
  init_rope(m);
  const auto inv = test::to_vec(m.inv_freq);
  ASSERT_EQ(inv.size(), 32u);
  for (size_t i = 0; i < inv.size(); ++i) {
    const double base = 1.0 / std::pow(500000.0f, static_cast<float>(2 * i) / 64.0f);
    const double wl = 2 * M_PI / base;
    double expect = base;
    if (wl > 8192) expect = base / 32;
    else if (wl >= 2048) {
      const double s = (8192 / wl - 1) / 3;
      expect = (1 - s) * base / 32 + s * base;
    }
    EXPECT_NEAR(inv[i], expect, 1e-6 * base) << i;
  }
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  EXPECT_NEAR(inv[31], (1.0 / std::pow(500000.0, 62.0 / 64)) / 32, 1e-12);
}

TEST(Config, LinearScalingDividesFrequencies) {
  ModelConfig c = test::tiny_config();
  Model m = make_random_model(c, 1);
  const auto plain = test::to_vec(m.inv_freq);
  m.config.rope.scaling = RopeScalingType::Linear;
  m.config.rope.factor = 4.0;
  init_rope(m);
  const auto scaled = test::to_vec(m.inv_freq);
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_FLOAT_EQ(scaled[i], plain[i] / 4.0f);
}

TEST(Config, InconsistentSizesRefused) {
  ModelConfig c = test::tiny_config();
  c.n_head_kv = 3;
  EXPECT_NE(error_of([&] { c.validate(); }).find("not a multiple of head_count_kv 3"), std::string::npos);
}

TEST(Config, RopeMatchesRotateHalfDefinition) {
  // One head, positions 0..3: out[i] = x[i] cos(p w_i) - x[i+h] sin(p w_i),
  // out[i+h] = x[i+h] cos(p w_i) + x[i] sin(p w_i), w_i = theta^(-2i/d)  (HF rotate_half).
  ModelConfig c = test::tiny_config();
  Model m = make_random_model(c, 1);
  Hooks h(c);
  h.capture("blocks.0.attn.hook_q");
  h.capture("blocks.0.attn.hook_rot_q");
  ForwardOptions o;
  o.hooks = &h;
  at::NoGradGuard ng;
  forward(m, at::tensor(std::vector<int64_t>{1, 2, 3, 4}, at::kLong).view({1, 4}), {}, o);
  const at::Tensor q = h.get("blocks.0.attn.hook_q")[0], r = h.get("blocks.0.attn.hook_rot_q")[0];
  const int64_t d = c.d_head, half = d / 2;
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const double w = 1.0 / std::pow(10000.0, 2.0 * i / d);
      const double cs = std::cos(p * w), sn = std::sin(p * w);
      const double x1 = q[p][2][i].item<double>(), x2 = q[p][2][i + half].item<double>();
      EXPECT_NEAR(r[p][2][i].item<double>(), x1 * cs - x2 * sn, 1e-5);
      EXPECT_NEAR(r[p][2][i + half].item<double>(), x2 * cs + x1 * sn, 1e-5);
    }
}

// A Hugging Face directory (config.json + safetensors written by our writer) loads to the same
// weights and logits as the model it was written from.
TEST(Config, LoadsHfSafetensorsDirectory) {
  for (const std::string arch : {"llama", "qwen2"}) {
    Model m = test::tiny_model(test::tiny_config(arch, arch == "llama"), 4);
    const std::string dir = test::temp_path("hf_" + arch);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    SafetensorsWriter w;
    for (const auto& [name, t] : m.named_weights()) {
      at::Tensor c = t.contiguous();
      w.add(name, StDtype::F32, c.sizes().vec(), c.data_ptr<float>());
    }
    w.write(dir + "/model.safetensors");
    const ModelConfig& c = m.config;
    std::ofstream(dir + "/config.json")
        << "{\"model_type\": \"" << arch << "\", \"hidden_size\": " << c.d_model
        << ", \"intermediate_size\": " << c.d_ff << ", \"num_attention_heads\": " << c.n_head
        << ", \"num_hidden_layers\": " << c.n_layer << ", \"num_key_value_heads\": " << c.n_head_kv
        << ", \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"max_position_embeddings\": 256"
        << ", \"tie_word_embeddings\": " << (c.tied_embeddings ? "true" : "false")
        << ", \"vocab_size\": " << c.n_vocab << "}";
    Model h = load_model(dir);
    EXPECT_EQ(h.config.tied_embeddings, c.tied_embeddings);
    EXPECT_EQ(h.config.attn_qkv_bias, c.attn_qkv_bias);
    const auto a = m.named_weights(), b = h.named_weights();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
    at::NoGradGuard ng;
    const at::Tensor tok = at::tensor(std::vector<int64_t>{3, 1, 4, 1, 5}, at::kLong).view({1, 5});
    EXPECT_TRUE(at::equal(forward(m, tok, {}), forward(h, tok, {})));
    std::remove((dir + "/model.safetensors").c_str());
    std::remove((dir + "/config.json").c_str());
    ::rmdir(dir.c_str());
  }
}

// Found by fuzz_hf_config (fuzz/corpus/hf_config/crash_*): sizes whose parameter count
// overflows int64 (signed overflow in n_params), and an original_max_position_embeddings of
// 1e300 (a double -> int64 cast out of range). Both are undefined behaviour; both are now one
// error naming the file.
TEST(Config, HfJsonOutOfRangeSizesAreErrors) {
  const std::string base = R"({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
    "intermediate_size": 128, "num_attention_heads": 4, "vocab_size": 300)";
  EXPECT_GT(config_from_hf_json(base + "}", "c.json").n_params(), 0);
  const std::string huge = R"({"model_type": "llama", "num_hidden_layers": 9223372036854775807,
    "hidden_size": 4611686018427387904, "intermediate_size": 128, "num_attention_heads": 4,
    "head_dim": 16, "vocab_size": 300})";
  EXPECT_NE(error_of([&] { config_from_hf_json(huge, "c.json"); }).find("c.json: model config: the sizes"),
            std::string::npos);
  const std::string omp = base + R"(, "rope_scaling": {"rope_type": "llama3",
    "original_max_position_embeddings": 1e300}})";
  EXPECT_NE(error_of([&] { config_from_hf_json(omp, "c.json"); })
                .find("c.json: key \"rope_scaling.original_max_position_embeddings\""),
            std::string::npos);
}

// Found by fuzz_gguf (fuzz/corpus/gguf/slow_block_count.gguf): a 15 KB file whose block_count says
// 117 million took 12 s and 21 GB in `info`, allocating per-block structures before finding a
// tensor missing. A file cannot hold more blocks than tensors; the config now says so first,
// for GGUF files and for Hugging Face directories alike.
TEST(Config, BlockCountBeyondTheTensorsIsRefusedBeforeAllocating) {
  Model m = test::tiny_model(test::tiny_config("llama"), 2);
  m.config.n_layer = 117440514;  // written as block_count; the file still holds 2 blocks
  const std::string path = test::temp_path("cfg_blocks.gguf");
  test::write_gguf(m, path);
  const std::string msg = error_of([&] { load_model(path); });
  EXPECT_NE(msg.find(path + ": model config: 117440514 blocks, but the weights hold only"), std::string::npos) << msg;
  std::remove(path.c_str());

  Model g = test::tiny_model(test::tiny_config("llama"), 2);
  const std::string dir = test::temp_path("hf_blocks");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  SafetensorsWriter w;
  for (const auto& [name, t] : g.named_weights()) {
    at::Tensor c = t.contiguous();
    w.add(name, StDtype::F32, c.sizes().vec(), c.data_ptr<float>());
  }
  w.write(dir + "/model.safetensors");
  const ModelConfig& c = g.config;
  std::ofstream(dir + "/config.json")
      << "{\"model_type\": \"llama\", \"hidden_size\": " << c.d_model << ", \"intermediate_size\": " << c.d_ff
      << ", \"num_attention_heads\": " << c.n_head << ", \"num_hidden_layers\": 50000000"
      << ", \"num_key_value_heads\": " << c.n_head_kv << ", \"vocab_size\": " << c.n_vocab << "}";
  const std::string msg2 = error_of([&] { load_model(dir); });
  EXPECT_NE(msg2.find("model config: 50000000 blocks, but the weights hold only"), std::string::npos) << msg2;
  std::remove((dir + "/model.safetensors").c_str());
  std::remove((dir + "/config.json").c_str());
  ::rmdir(dir.c_str());
}
