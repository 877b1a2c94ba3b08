// The Qwen2.5-Coder tokenizer (byte-level BPE, pre-tokenizer "qwen2", 151,936 ids) of both
// installable Qwen models against llama.cpp's and transformers' (tools/make_qwen_golden.py ->
// tests/golden/qwen/tokenizer.jsonl): >= 300 strings with code indentation, CJK, emoji, digits,
// long whitespace runs and special-token text. The generator checked that the two files'
// vocabularies give llama.cpp the same ids, so one golden serves both. Each model's cases skip
// only when its file is absent (`scripts/setup.sh --with qwen2.5-coder-0.5b`, which CI runs;
// the 1.5B runs where installed).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/paths.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using rs::tok::Tokenizer;

class QwenTokenizer : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const rs::KnownModel* m = rs::find_known_model(GetParam());
    ASSERT_NE(m, nullptr);
    path_ = rs::known_model_path(*m);
    struct stat st{};
    if (::stat(path_.c_str(), &st) != 0)
      GTEST_SKIP() << GetParam() << " absent (" << path_ << "); install it with " << rs::install_command(*m);
    tok_ = Tokenizer::from_gguf_path(path_);
  }
  std::string path_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_P(QwenTokenizer, Metadata) {
  EXPECT_EQ(tok_->n_vocab(), 151936);
  EXPECT_FALSE(tok_->add_bos());
  EXPECT_EQ(tok_->chat_format(), rs::tok::ChatFormat::ChatML);
  EXPECT_EQ(tok_->find_token("<|im_start|>"), 151644);
  EXPECT_EQ(tok_->find_token("<|im_end|>"), 151645);
  EXPECT_EQ(tok_->find_token("<|endoftext|>"), 151643);
}

// We follow llama.cpp: identical to it on every string. transformers' GGUF-built tokenizer is a
// second reference wherever it agrees with llama.cpp (the generator prints where they differ).
TEST_P(QwenTokenizer, GoldenIdsAgreeWithLlamaCppAndTransformers) {
  std::ifstream in(std::string(RS_SOURCE_DIR) + "/tests/golden/qwen/tokenizer.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t n = 0, same_hf = 0, same_llamacpp = 0, refs_differ = 0, round_trip = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json r = json::parse(line);
    const std::string text = r["text"];
    const auto lc = r["ids"].get<std::vector<int32_t>>();
    const auto hf = r["ids_hf"].get<std::vector<int32_t>>();
    const auto ids = tok_->encode(text, /*add_special=*/false, /*parse_special=*/true);
    ++n;
    same_llamacpp += ids == lc;
    same_hf += ids == hf;
    refs_differ += hf != lc;
    EXPECT_EQ(ids, lc) << "llama.cpp, text: " << json(text).dump();
    if (hf == lc) {
      EXPECT_EQ(ids, hf) << "transformers, text: " << json(text).dump();
    }
    round_trip += tok_->decode(ids) == text;
  }
  std::printf("%s: %zu strings: %zu identical to llama.cpp, %zu to transformers (the references differ on "
              "%zu), %zu round-trip exactly\n", GetParam(), n, same_llamacpp, same_hf, refs_differ, round_trip);
  EXPECT_GE(n, 300u);
  EXPECT_EQ(round_trip, n);
}

TEST_P(QwenTokenizer, ChatPromptUsesChatML) {
  const std::string p = tok_->apply_chat({{"user", "Hi"}}, /*add_generation_prompt=*/true);
  EXPECT_NE(p.find("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), std::string::npos) << p;
  const auto ids = tok_->encode(p, /*add_special=*/false, /*parse_special=*/true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[ids.size() - 3], 151644);  // <|im_start|> assistant \n
}

INSTANTIATE_TEST_SUITE_P(Models, QwenTokenizer, ::testing::Values("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
