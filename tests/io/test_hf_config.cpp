// HfConfig: typed getters over config.json, errors naming the file and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/hf_config.h"

using rs::HfConfig;

namespace {

// The shape of a Llama 3.x config.json (values illustrative).
const char* kLlama3 = R"({
  "architectures": ["LlamaForCausalLM"],
  "model_type": "llama",
  "hidden_size": 2048,
  "intermediate_size": 8192,
  "num_hidden_layers": 16,
  "num_attention_heads": 32,
  "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "tie_word_embeddings": true,
  "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009],
  "head_dim": null,
  "vocab_size": 128256
})";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HfConfig, TypedGetters) {
  auto c = HfConfig::parse(kLlama3, "cfg/config.json");
  EXPECT_EQ(c.get_int("num_hidden_layers"), 16);
  EXPECT_EQ(c.get_string("model_type"), "llama");
  EXPECT_DOUBLE_EQ(c.get_float("rope_theta"), 500000.0);
  EXPECT_DOUBLE_EQ(c.get_float("hidden_size"), 2048.0);  // ints are numbers too
  EXPECT_DOUBLE_EQ(c.get_float("rms_norm_eps"), 1e-5);
  EXPECT_TRUE(c.get_bool("tie_word_embeddings"));
  EXPECT_EQ(c.get_string_array("architectures"), std::vector<std::string>{"LlamaForCausalLM"});
  EXPECT_EQ(c.get_int_list("eos_token_id"), (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.get_int_list("bos_token_id"), (std::vector<int64_t>{128000}));
  // Absent and null both take the default.
  EXPECT_EQ(c.get_int_or("head_dim", 64), 64);
  EXPECT_EQ(c.get_int_or("sliding_window", 0), 0);
  EXPECT_FALSE(c.has("head_dim"));
  EXPECT_TRUE(c.has("vocab_size"));
  EXPECT_EQ(c.get_string_or("hidden_act", "silu"), "silu");
  EXPECT_FALSE(c.object_or_null("head_dim").has_value());
}

TEST(HfConfig, NestedObjects) {
  auto c = HfConfig::parse(kLlama3, "cfg/config.json");
  auto rs_opt = c.object_or_null("rope_scaling");
  ASSERT_TRUE(rs_opt.has_value());
  EXPECT_EQ(rs_opt->get_string("rope_type"), "llama3");
  EXPECT_DOUBLE_EQ(rs_opt->get_float("factor"), 32.0);
  EXPECT_EQ(rs_opt->get_int("original_max_position_embeddings"), 8192);
  // Errors inside the nested object name the full key path.
  EXPECT_EQ(error_of([&] { rs_opt->get_int("factor"); }),
            "cfg/config.json: key 'rope_scaling.factor': expected an integer, found number 32.0");
  EXPECT_EQ(error_of([&] { rs_opt->get_string("type"); }),
            "cfg/config.json: key 'rope_scaling.type': missing (expected a string)");
}

TEST(HfConfig, ErrorsNameFileAndKey) {
  auto c = HfConfig::parse(kLlama3, "cfg/config.json");
  EXPECT_EQ(error_of([&] { c.get_int("num_layers"); }),
            "cfg/config.json: key 'num_layers': missing (expected an integer)");
  EXPECT_EQ(error_of([&] { c.get_int("model_type"); }),
            "cfg/config.json: key 'model_type': expected an integer, found string \"llama\"");
  EXPECT_EQ(error_of([&] { c.get_string("hidden_size"); }),
            "cfg/config.json: key 'hidden_size': expected a string, found number 2048");
  EXPECT_EQ(error_of([&] { c.get_bool("rope_theta"); }),
            "cfg/config.json: key 'rope_theta': expected true or false, found number 500000.0");
  EXPECT_EQ(error_of([&] { c.object("architectures"); }),
            "cfg/config.json: key 'architectures': expected an object, found array");
  EXPECT_EQ(error_of([&] { c.get_int_array("architectures"); }),
            "cfg/config.json: key 'architectures[0]': expected an integer, found string "
            "\"LlamaForCausalLM\"");
  // Wrong type is an error even for the _or getters.
  EXPECT_NE(error_of([&] { c.get_int_or("model_type", 3); }), "");
}

TEST(HfConfig, BadFiles) {
  EXPECT_EQ(error_of([] { HfConfig::parse("[1]", "x.json"); }),
            "x.json: expected a JSON object at the top level, found array");
  std::string m = error_of([] { HfConfig::parse("{\"a\": 1,", "x.json"); });
  EXPECT_EQ(m.rfind("x.json: offset ", 0), 0u) << m;
  EXPECT_NE(m.find("invalid JSON"), std::string::npos) << m;
  EXPECT_EQ(error_of([] { HfConfig::parse("{\"a\": -1e400}", "x.json"); }),
            "x.json: invalid JSON: number overflow parsing '-1e400'");
  EXPECT_NE(error_of([] { HfConfig::parse(std::string(1000, '['), "x.json"); }).find("nested"),
            std::string::npos);
  m = error_of([] { HfConfig::load("/nonexistent/model"); });
  EXPECT_NE(m.find("/nonexistent/model"), std::string::npos) << m;
}

TEST(HfConfig, LoadFromDirectory) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("rs_hfcfg_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << kLlama3;
  auto c = HfConfig::load(dir.string());
  EXPECT_EQ(c.path(), (dir / "config.json").string());
  EXPECT_EQ(c.get_int("vocab_size"), 128256);
  auto c2 = HfConfig::load((dir / "config.json").string());
  EXPECT_EQ(c2.get_int("num_key_value_heads"), 8);
  fs::remove_all(dir);
}
