// Gemma 3's SentencePiece vocabulary (262,144 pieces, 165 user-defined: runs of spaces, tabs and
// newlines, HTML tags) against transformers' tokenizer built from the same GGUF and llama.cpp's
// (tools/make_gemma_golden.py -> tests/golden/gemma3/tokenizer.jsonl): >= 200 strings with
// whitespace runs, code indentation, multilingual text, emoji and digits. Skips when the Gemma
// file is absent (`scripts/setup.sh --with gemma3`; CI installs it).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/paths.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using rs::tok::Tokenizer;

class Gemma3Tokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    struct stat st{};
    if (::stat(rs::gemma3_model_path().c_str(), &st) != 0) return;
    const auto t0 = std::chrono::steady_clock::now();
    tok_ = Tokenizer::from_gguf_path(rs::gemma3_model_path()).release();
    std::printf("tokenizer construction %.0f ms\n",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  void SetUp() override {
    if (!tok_)
      GTEST_SKIP() << "Gemma 3 file absent (" << rs::gemma3_model_path()
                   << "); install it with scripts/setup.sh --with gemma3";
  }
  static Tokenizer* tok_;
};
Tokenizer* Gemma3Tokenizer::tok_ = nullptr;

TEST_F(Gemma3Tokenizer, Metadata) {
  EXPECT_EQ(tok_->model_kind(), "llama");
  EXPECT_EQ(tok_->n_vocab(), 262144);
  EXPECT_EQ(tok_->bos_id(), 2);
  EXPECT_EQ(tok_->eos_id(), 1);
  EXPECT_TRUE(tok_->add_bos());
  // The base model's file has no chat template; its turn markers select the Gemma format.
  EXPECT_EQ(tok_->chat_format(), rs::tok::ChatFormat::Gemma);
  EXPECT_EQ(tok_->stop_ids(), (std::vector<int32_t>{1, 106}));  // <eos>, <end_of_turn>
  int user_defined = 0;
  for (int32_t i = 0; i < tok_->n_vocab(); ++i) user_defined += tok_->token_type(i) == rs::tok::TokenType::UserDefined;
  EXPECT_EQ(user_defined, 165);
}

TEST_F(Gemma3Tokenizer, UserDefinedSpacesAreMatchedInTheRawText) {
  // The example: the two spaces are the user-defined piece 138, not "▁" + "▁world".
  EXPECT_EQ(tok_->encode("Hello  world", false, false), (std::vector<int32_t>{9259, 138, 12392}));
  EXPECT_EQ(tok_->encode("Hello  world", false, true), (std::vector<int32_t>{9259, 138, 12392}));
  EXPECT_EQ(tok_->encode("Hello  world", true, false), (std::vector<int32_t>{2, 9259, 138, 12392}));
}

// Two references per string: transformers' tokenizer built from the GGUF and llama.cpp's (vocab
// only). They agree except on runs of more than 31 spaces, where llama.cpp takes the longest
// user-defined piece first (40 spaces = 31 + 9, as SentencePiece's longest-prefix matching) and
// transformers splits by merges (16 + 24). We follow llama.cpp: identical to it on every string,
// and to transformers wherever the two agree.
TEST_F(Gemma3Tokenizer, GoldenIdsAgreeWithTransformersAndLlamaCpp) {
  std::ifstream in(std::string(RS_SOURCE_DIR) + "/tests/golden/gemma3/tokenizer.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t n = 0, same_hf = 0, same_llamacpp = 0, refs_differ = 0, round_trip = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json r = json::parse(line);
    const std::string text = r["text"];
    const auto hf = r["ids"].get<std::vector<int32_t>>();
    const auto lc = r["ids_llamacpp"].get<std::vector<int32_t>>();
    // Both references split control-token text out of plain text (parse_special here); strings
    // without control tokens must give the same ids without parse_special (user-defined pieces
    // are matched either way).
    const auto ids = tok_->encode(text, /*add_special=*/false, /*parse_special=*/true);
    bool has_control = false;
    for (int32_t id : lc) has_control |= tok_->token_type(id) == rs::tok::TokenType::Control;
    if (!has_control) {
      EXPECT_EQ(tok_->encode(text, false, /*parse_special=*/false), ids) << "text: " << json(text).dump();
    }
    ++n;
    same_hf += ids == hf;
    same_llamacpp += ids == lc;
    refs_differ += hf != lc;
    EXPECT_EQ(ids, lc) << "llama.cpp, text: " << json(text).dump();
    if (hf == lc) {
      EXPECT_EQ(ids, hf) << "transformers, text: " << json(text).dump();
    }
    round_trip += tok_->decode(ids) == text;
  }
  std::printf("%zu strings: %zu identical to transformers, %zu to llama.cpp (the references differ on %zu), "
              "%zu round-trip exactly\n", n, same_hf, same_llamacpp, refs_differ, round_trip);
  EXPECT_GE(n, 200u);
  EXPECT_GE(same_hf, 200u);
  EXPECT_EQ(round_trip, n);
}

TEST_F(Gemma3Tokenizer, ChatPromptUsesTheGemmaFormat) {
  const std::string p = tok_->apply_chat({{"user", "Hi"}}, /*add_generation_prompt=*/true);
  EXPECT_EQ(p, "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  const auto ids = tok_->encode(p, /*add_special=*/false, /*parse_special=*/true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], 2);                                   // <bos>
  EXPECT_EQ(ids[1], tok_->find_token("<start_of_turn>"));
  EXPECT_EQ(ids.back(), 107);                             // "\n" is user-defined
}

}  // namespace
