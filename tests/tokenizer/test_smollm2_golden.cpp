// The default model's tokenizer against goldens from an independent reference (the PyPI
// `tokenizers` library built from the same GGUF vocab and merges with SmolLM2's pre-tokenizer;
// tools/make_tokenizer_golden.py): token ids on >= 500 varied strings, decode(encode(s)) == s,
// and the chat template rendered by jinja2.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/paths.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;
using rs::tok::Tokenizer;

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

class SmolLM2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = rs::default_model_path();
    auto t0 = std::chrono::steady_clock::now();
    file_ = rs::gguf::File::open(path).release();
    auto t1 = std::chrono::steady_clock::now();
    tok_ = Tokenizer::from_gguf(*file_).release();
    auto t2 = std::chrono::steady_clock::now();
    using ms = std::chrono::duration<double, std::milli>;
    std::printf("GGUF open %.1f ms, tokenizer construction %.1f ms (%s)\n", ms(t1 - t0).count(),
                ms(t2 - t1).count(), path.c_str());
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete file_;
  }
  static rs::gguf::File* file_;
  static Tokenizer* tok_;
};
rs::gguf::File* SmolLM2::file_ = nullptr;
Tokenizer* SmolLM2::tok_ = nullptr;

TEST_F(SmolLM2, Metadata) {
  EXPECT_EQ(tok_->model_kind(), "gpt2");
  EXPECT_EQ(tok_->pre_type(), "smollm");
  EXPECT_EQ(tok_->n_vocab(), 49152);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_EQ(tok_->pad_id(), 2);
  EXPECT_EQ(tok_->eot_id(), -1);  // the file declares none
  EXPECT_FALSE(tok_->add_bos());
  EXPECT_FALSE(tok_->add_eos());
  EXPECT_EQ(tok_->chat_format(), rs::tok::ChatFormat::ChatML);
  EXPECT_EQ(tok_->piece(1), "<|im_start|>");
  EXPECT_TRUE(tok_->is_special(2));
  EXPECT_FALSE(tok_->is_special(100));
  EXPECT_EQ(tok_->stop_ids(), (std::vector<int32_t>{2}));
}

TEST_F(SmolLM2, GoldenIdsAgreeWithReference) {
  auto rows = read_jsonl(std::string(RS_SOURCE_DIR) + "/tests/golden/tokenizer/smollm2.jsonl");
  ASSERT_GE(rows.size(), 500u);
  size_t agree = 0, round_trip = 0;
  for (const auto& r : rows) {
    const std::string text = r["text"];
    const bool parse_special = r["parse_special"];
    const auto expected = r["ids"].get<std::vector<int32_t>>();
    auto ids = tok_->encode(text, /*add_special=*/false, parse_special);
    EXPECT_EQ(ids, expected) << "text: " << json(text).dump() << " parse_special=" << parse_special;
    agree += ids == expected;
    std::string back = tok_->decode(ids);
    EXPECT_EQ(back, text) << "round trip of " << json(text).dump();
    round_trip += back == text;
  }
  std::printf("golden agreement: %zu/%zu ids exact, %zu/%zu decode(encode(s)) == s\n", agree,
              rows.size(), round_trip, rows.size());
}

TEST_F(SmolLM2, ChatTemplateMatchesJinjaRendering) {
  auto rows = read_jsonl(std::string(RS_SOURCE_DIR) + "/tests/golden/tokenizer/chat_smollm2.jsonl");
  ASSERT_GE(rows.size(), 10u);
  for (const auto& r : rows) {
    std::vector<rs::tok::ChatMessage> msgs;
    for (const auto& m : r["messages"]) msgs.push_back({m["role"], m["content"]});
    std::string text = tok_->apply_chat(msgs, r["add_generation_prompt"]);
    EXPECT_EQ(text, r["text"].get<std::string>());
    EXPECT_EQ(tok_->encode(text, false, true), r["ids"].get<std::vector<int32_t>>());
  }
}

TEST_F(SmolLM2, SpecialTokensSplitOnlyWhenParsed) {
  EXPECT_EQ(tok_->encode("<|im_start|>", false, true), (std::vector<int32_t>{1}));
  auto plain = tok_->encode("<|im_start|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(tok_->decode(plain), "<|im_start|>");
  // Leftmost-longest: "<|im_start|>" inside text, and a truncated one stays text.
  auto ids = tok_->encode("a<|im_start|>b<|im_sta", false, true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[1], 1);
  EXPECT_EQ(tok_->decode(ids), "a<|im_start|>b<|im_sta");
  EXPECT_EQ(tok_->decode(ids, /*skip_special=*/true), "ab<|im_sta");
}

TEST_F(SmolLM2, InvalidUtf8SurvivesRoundTrip) {
  // Lone continuation bytes, truncated sequences, an encoded surrogate, an overlong form.
  const std::string raw = "ok \x80\xbf x\xc3(\xe2\x82 end \xed\xa0\x80 \xe0\x80\xaf \xf0\x9f\x98";
  ASSERT_TRUE(tok_->covers_bytes(raw));
  auto ids = tok_->encode(raw, false, true);
  EXPECT_EQ(tok_->decode(ids), raw);
  // Byte tokens decoded one by one give the bytes, even when a single one is not UTF-8.
  std::string joined;
  for (int32_t id : ids) joined += tok_->token_text(id);
  EXPECT_EQ(joined, raw);
}

TEST_F(SmolLM2, BytesWithoutATokenBecomeUnknown) {
  // SmolLM2's vocab has no token for byte 0xFF (never in UTF-8) nor for control byte 0x04.
  EXPECT_FALSE(tok_->covers_bytes("\xff"));
  EXPECT_FALSE(tok_->covers_bytes("a\x04"));
  EXPECT_TRUE(tok_->covers_bytes("plain text \n\t"));
  auto ids = tok_->encode("a\xff" "b", false, false);
  EXPECT_EQ(ids, (std::vector<int32_t>{tok_->find_token("a"), 0, tok_->find_token("b")}));
}

TEST_F(SmolLM2, LongPathologicalInputsRoundTrip) {
  // One huge pre-token (letters), one huge whitespace run (the \s+(?!\S) backtracking case),
  // digits, emoji, and many tiny pre-tokens: all must finish and come back exactly.
  std::string emoji;
  for (int i = 0; i < 20000; ++i) emoji += "\xF0\x9F\x9A\x80";
  std::string words;
  for (int i = 0; i < 50000; ++i) words += "a ";
  const std::vector<std::string> inputs = {std::string(200000, 'a'), std::string(200000, ' ') + "x",
                                           std::string(100000, '7'), emoji, words,
                                           std::string(50000, '\n') + std::string(50000, '\t')};
  size_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& s : inputs) {
    auto ids = tok_->encode(s, false, true);
    EXPECT_FALSE(ids.empty());
    EXPECT_LT(ids.size(), s.size() + 1);
    EXPECT_TRUE(tok_->decode(ids) == s) << "round trip failed for a long input of " << s.size() << " bytes";
    bytes += s.size();
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("long inputs: %zu bytes encoded+decoded in %.0f ms\n", bytes, ms);
}

TEST_F(SmolLM2, AddSpecialFollowsTheFile) {
  // The file says add_bos_token = false and no add_eos: add_special adds nothing.
  EXPECT_EQ(tok_->encode("Hello", true), tok_->encode("Hello", false));
}

TEST_F(SmolLM2, OutOfRangeIdsAreErrors) {
  EXPECT_THROW(tok_->decode({0, 49152}), rs::Error);
  EXPECT_THROW(tok_->decode({-1}), rs::Error);
  EXPECT_THROW(tok_->piece(49152), rs::Error);
}

}  // namespace
