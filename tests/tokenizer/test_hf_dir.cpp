// Loading from a Hugging Face directory (tokenizer.json + tokenizer_config.json). The directory
// is written here from the default GGUF's own vocab and merges, with SmolLM2's tokenizer.json
// pre-tokenizer (Sequence[Digits(individual_digits), ByteLevel]); it must give the golden ids.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/paths.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rs_tok_hf_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << text;
  }

 private:
  std::string path_;
};

json tokenizer_json_from_gguf(const rs::gguf::File& f) {
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  auto types = f.get_int_array("tokenizer.ggml.token_type");
  json vocab = json::object(), added = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    vocab[tokens[i]] = i;
    if (types[i] == 3)
      added.push_back({{"id", i}, {"content", tokens[i]}, {"special", true}, {"normalized", false}});
  }
  json merges = json::array();
  for (auto& m : f.get_string_array("tokenizer.ggml.merges")) {
    size_t sp = m.find(' ', 1);
    merges.push_back({m.substr(0, sp), m.substr(sp + 1)});  // the newer [a, b] merge form
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Digits"}, {"individual_digits", true}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}}}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", false}}}};
}

TEST(HfDir, SmolLM2FromTokenizerJsonMatchesGolden) {
  auto f = rs::gguf::File::open(rs::default_model_path());
  TempDir dir;
  dir.write("tokenizer.json", tokenizer_json_from_gguf(*f).dump());
  json cfg = {{"bos_token", "<|im_start|>"}, {"eos_token", {{"content", "<|im_end|>"}}},
              {"pad_token", "<|im_end|>"}, {"add_bos_token", false},
              {"chat_template", f->get_string("tokenizer.chat_template")}};
  dir.write("tokenizer_config.json", cfg.dump());

  auto tok = rs::tok::Tokenizer::from_model_path(dir.path());
  EXPECT_EQ(tok->pre_type(), "smollm");
  EXPECT_EQ(tok->n_vocab(), 49152);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->chat_format(), rs::tok::ChatFormat::ChatML);

  std::ifstream in(std::string(RS_SOURCE_DIR) + "/tests/golden/tokenizer/smollm2.jsonl");
  std::string line;
  size_t n = 0, agree = 0;
  while (std::getline(in, line)) {
    json r = json::parse(line);
    auto ids = tok->encode(r["text"].get<std::string>(), false, r["parse_special"].get<bool>());
    EXPECT_EQ(ids, r["ids"].get<std::vector<int32_t>>()) << r["text"].dump();
    agree += ids == r["ids"].get<std::vector<int32_t>>();
    ++n;
  }
  EXPECT_GE(n, 500u);
  std::printf("tokenizer.json path: %zu/%zu golden strings exact\n", agree, n);
}

TEST(HfDir, PostProcessorBosAndJinjaFile) {
  // A tiny Llama-3-like directory: BOS comes from the post_processor template, the chat template
  // from chat_template.jinja, digits grouped by three by the Split regex.
  TempDir dir;
  json vocab = json::object();
  const char* pieces[] = {"1", "2", "3", "4", "12", "123", "a", "b", "ab"};
  int id = 0;
  for (const char* p : pieces) vocab[p] = id++;
  json tj = {
      {"added_tokens", {{{"id", 9}, {"content", "<|begin_of_text|>"}, {"special", true}},
                        {{"id", 10}, {"content", "<|eot_id|>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"1 2", "12 3", "a b"}}, {"ignore_merges", true}}}};
  dir.write("tokenizer.json", tj.dump());
  dir.write("tokenizer_config.json", json({{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}}).dump());
  dir.write("chat_template.jinja", "{{ '<|start_header_id|>' + message['role'] }}");
  auto tok = rs::tok::Tokenizer::from_hf_dir(dir.path());
  EXPECT_TRUE(tok->add_bos());
  EXPECT_FALSE(tok->add_eos());
  EXPECT_EQ(tok->chat_format(), rs::tok::ChatFormat::Llama3);
  EXPECT_EQ(tok->pre_type(), "llama3");
  // Digits in threes: 123 4, then ab, then 123 4.
  EXPECT_EQ(tok->encode("1234ab1234"), (std::vector<int32_t>{9, 5, 3, 8, 5, 3}));
}

TEST(HfDir, BadJsonNamesFileAndOffset) {
  TempDir dir;
  dir.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\",, }");
  try {
    rs::tok::Tokenizer::from_hf_dir(dir.path());
    FAIL() << "no error";
  } catch (const rs::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte 26"), std::string::npos) << msg;
  }
}

TEST(HfDir, VocabWithAGapIsAnError) {
  TempDir dir;
  json tj = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 2}}}, {"merges", json::array()}}},
             {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}}};
  dir.write("tokenizer.json", tj.dump());
  try {
    rs::tok::Tokenizer::from_hf_dir(dir.path());
    FAIL() << "no error";
  } catch (const rs::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("model.vocab"), std::string::npos) << msg;
    EXPECT_NE(msg.find("has id 2, out of range [0, 2)"), std::string::npos) << msg;
  }
}

// An id is checked against the number of entries before any table is sized by it: one entry
// with id 2^24 used to allocate a 16M-entry vocabulary (~540 MB) before the gap was noticed.
TEST(HfDir, HugeTokenIdIsRefusedBeforeAllocating) {
  TempDir dir;
  json tj = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 1 << 24}}}, {"merges", json::array()}}},
             {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}}};
  dir.write("tokenizer.json", tj.dump());
  try {
    rs::tok::Tokenizer::from_hf_dir(dir.path());
    FAIL() << "no error";
  } catch (const rs::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("has id 16777216, out of range [0, 1)"), std::string::npos) << msg;
  }
}

// Found by fuzz_hf_tokenizer (fuzz/corpus/hf_tokenizer/edge_post_processor): a post_processor
// whose SpecialToken is not an object escaped as a nlohmann::json exception.
TEST(HfDir, MalformedPostProcessorIsOneError) {
  json tj = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}}},
             {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
             {"post_processor", {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", 3}}}}}}};
  try {
    rs::tok::Tokenizer::from_hf_texts(tj.dump(), std::nullopt, "", "dir");
    FAIL() << "no error";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dir/tokenizer.json: post_processor: unexpected structure"),
              std::string::npos) << e.what();
  }
  // fuzz/corpus/hf_tokenizer/crash_float_id: an id of 6.7e20 was cast to int64 (undefined).
  tj.erase("post_processor");
  tj["model"]["vocab"]["a"] = 6.7e20;
  try {
    rs::tok::Tokenizer::from_hf_texts(tj.dump(), std::nullopt, "", "dir");
    FAIL() << "no error";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dir/tokenizer.json: model.vocab: token \"a\" has id 6.7e+20, expected an integer"),
              std::string::npos) << e.what();
  }
}

TEST(HfDir, MissingDirectoryIsAnError) {
  EXPECT_THROW(rs::tok::Tokenizer::from_model_path("/nonexistent/model/dir"), rs::Error);
}

}  // namespace
