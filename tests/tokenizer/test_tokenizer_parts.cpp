// Pieces of the tokenizer on small hand-made vocabularies: UTF-8 and the GPT-2 byte table,
// pre-tokenizer splits, SentencePiece-style merging with byte fallback, chat formats.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace rs::tok;

std::vector<std::string> pieces(const PreTokenizer& p, const std::string& s) {
  std::vector<std::string> out;
  for (auto [off, len] : p.split(s)) out.push_back(s.substr(off, len));
  return out;
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(is_valid_utf8("héllo 你好 🚀"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
}

TEST(ByteTable, IsABijectionKeepingPrintableBytes) {
  const ByteUnicode& t = byte_unicode();
  std::set<uint32_t> seen(t.byte_to_cp.begin(), t.byte_to_cp.end());
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(t.byte_to_cp['A'], uint32_t('A'));
  EXPECT_EQ(t.byte_to_cp[' '], 0x120u);  // "Ġ"
  EXPECT_EQ(t.byte_to_cp['\n'], 0x10Au);  // "Ċ"
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(byte_level_to_bytes(bytes_to_byte_level(all)), all);
}

TEST(PreTokenizer, Gpt2) {
  PreTokenizer p(pretokenizer_patterns("gpt-2", "t"));
  EXPECT_EQ(pieces(p, "Hello world's  123!!"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " 123", "!!"}));
  EXPECT_EQ(pieces(p, "a   \n"), (std::vector<std::string>{"a", "   \n"}));
}

TEST(PreTokenizer, SmolLMSplitsDigitsOneByOne) {
  PreTokenizer p(pretokenizer_patterns("smollm", "t"));
  EXPECT_EQ(pieces(p, "abc 123"), (std::vector<std::string>{"abc", " ", "1", "2", "3"}));
  EXPECT_EQ(pieces(p, "x٣٤"), (std::vector<std::string>{"x", "٣", "٤"}));  // Arabic-Indic digits
}

TEST(PreTokenizer, Llama3GroupsDigitsByThree) {
  PreTokenizer p(pretokenizer_patterns("llama-bpe", "t"));
  EXPECT_EQ(pieces(p, "Hello 12345 I'LL"),
            (std::vector<std::string>{"Hello", " ", "123", "45", " I", "'LL"}));
  EXPECT_EQ(pieces(p, "a\n\n  b"), (std::vector<std::string>{"a", "\n\n", " ", " b"}));
}

TEST(PreTokenizer, Qwen2SingleDigits) {
  PreTokenizer p(pretokenizer_patterns("qwen2", "t"));
  EXPECT_EQ(pieces(p, "x=12"), (std::vector<std::string>{"x", "=", "1", "2"}));
}

TEST(PreTokenizer, InvalidUtf8IsKept) {
  PreTokenizer p(pretokenizer_patterns("gpt-2", "t"));
  std::string s = "ab\xff" "cd";
  std::string joined;
  for (auto& x : pieces(p, s)) joined += x;
  EXPECT_EQ(joined, s);
}

TEST(PreTokenizer, UnknownNameIsAnError) {
  EXPECT_THROW(pretokenizer_patterns("mystery", "m.gguf"), rs::Error);
}

// SentencePiece-style vocab: <unk> <s> </s>, 256 byte tokens, then pieces with scores.
std::unique_ptr<Tokenizer> small_spm(bool add_space_prefix = true) {
  VocabSpec s;
  s.source = "spm-test";
  s.model = "llama";
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.token_types = {2, 3, 3};
  s.scores = {0, 0, 0};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    s.tokens.push_back(buf);
    s.token_types.push_back(6);
    s.scores.push_back(0);
  }
  const std::string sp = "\xE2\x96\x81";
  for (auto [t, score] : std::vector<std::pair<std::string, float>>{
           {sp, -1}, {"a", -2}, {"b", -3}, {sp + "a", -4}, {"ab", -5}, {sp + "ab", -6}, {"c", -7}}) {
    s.tokens.push_back(t);
    s.token_types.push_back(1);
    s.scores.push_back(score);
  }
  s.bos_id = 1;
  s.eos_id = 2;
  s.unk_id = 0;
  s.add_bos = true;
  s.add_space_prefix = add_space_prefix;
  return Tokenizer::from_spec(s);
}

TEST(SentencePiece, MergesByScoreAndFallsBackToBytes) {
  auto tok = small_spm();
  const int32_t sp = 259, a = 260, b = 261, sp_a = 262, ab = 263, sp_ab = 264, c = 265;
  (void)a; (void)b; (void)ab;
  // "ab c" -> "▁ab▁c": ▁a (score -4) merges before ab (-5); then ▁a+b -> ▁ab.
  EXPECT_EQ(tok->encode("ab c", false), (std::vector<int32_t>{sp_ab, sp, c}));
  EXPECT_EQ(tok->encode("a", true), (std::vector<int32_t>{1, sp_a}));  // BOS from add_bos
  // "é" is not a piece: its two UTF-8 bytes as <0xC3><0xA9>.
  EXPECT_EQ(tok->encode("é", false), (std::vector<int32_t>{sp, 3 + 0xC3, 3 + 0xA9}));
  for (std::string s : {"ab c", "é", " a  b", "", "a\nb", "c<s>a"}) {
    EXPECT_EQ(tok->decode(tok->encode(s, false)), s) << s;
    if (s.find("<s>") == std::string::npos) {  // skip_special also drops the BOS added here
      EXPECT_EQ(tok->decode(tok->encode(s, true), true), s) << s;
    }
  }
  EXPECT_EQ(tok->decode(tok->encode("c<s>a", true), true), "ca");
  EXPECT_EQ(tok->model_kind(), "llama");
}

TEST(SentencePiece, NoDummyPrefixWhenTheFileSaysSo) {
  auto tok = small_spm(false);
  EXPECT_EQ(tok->encode("ab", false), (std::vector<int32_t>{263}));
  EXPECT_EQ(tok->decode({263}), "ab");
}

// A byte-level vocab with the given chat template and the control tokens it needs.
std::unique_ptr<Tokenizer> with_template(const std::string& tmpl, std::vector<std::string> specials,
                                         int32_t bos = -1, int32_t eos = -1) {
  VocabSpec s;
  s.source = "chat-test";
  s.model = "gpt2";
  s.pre = "gpt-2";
  const ByteUnicode& t = byte_unicode();
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(t.byte_to_utf8[b]);
    s.token_types.push_back(1);
  }
  for (auto& sp : specials) {
    s.tokens.push_back(sp);
    s.token_types.push_back(3);
  }
  if (bos >= 0) s.bos_id = 256 + bos;
  if (eos >= 0) s.eos_id = 256 + eos;
  s.chat_template = tmpl;
  return Tokenizer::from_spec(s);
}

TEST(ChatFormat, Detection) {
  EXPECT_EQ(detect_chat_format("{{'<|im_start|>' + m['role']}}"), ChatFormat::ChatML);
  EXPECT_EQ(detect_chat_format("{{ '<|start_header_id|>' + role }}"), ChatFormat::Llama3);
  EXPECT_EQ(detect_chat_format("{{ bos_token + '[INST] ' + c + ' [/INST]' }}"), ChatFormat::Llama2);
  EXPECT_EQ(detect_chat_format("{{ '<start_of_turn>' + role }}"), ChatFormat::Gemma);
  EXPECT_EQ(detect_chat_format("{{ messages }}"), ChatFormat::None);
  EXPECT_EQ(detect_chat_format(""), ChatFormat::None);
}

const std::vector<ChatMessage> kConv = {
    {"system", "Be brief."}, {"user", "Hi there "}, {"assistant", "Hello."}, {"user", "Bye"}};

TEST(ChatFormat, ChatMLWithoutDefaultSystem) {
  auto tok = with_template("{{'<|im_start|>' + message['role'] + '\\n'}}", {"<|im_start|>", "<|im_end|>"});
  EXPECT_EQ(tok->apply_chat({{"user", "Hi"}}, true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto ids = tok->encode(tok->apply_chat({{"user", "Hi"}}, false), false, true);
  EXPECT_EQ(ids.front(), 256);
  EXPECT_EQ(tok->stop_ids(), (std::vector<int32_t>{257}));
}

TEST(ChatFormat, Llama3) {
  auto tok = with_template("{{ '<|start_header_id|>' }}",
                           {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}, 0);
  EXPECT_EQ(tok->apply_chat(kConv, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatFormat, Llama2WithSys) {
  auto tok = with_template("{{ '<<SYS>>\\n' }}{{ bos_token + '[INST] ' }}", {"<s>", "</s>"}, 0, 1);
  EXPECT_EQ(tok->apply_chat(kConv, true),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello. </s><s>[INST] Bye [/INST]");
}

TEST(ChatFormat, MistralInst) {
  auto tok = with_template("{{ bos_token }}{{ '[INST] ' + m + ' [/INST]' }}", {"<s>", "</s>"}, 0, 1);
  EXPECT_EQ(tok->apply_chat({{"user", "Hi"}, {"assistant", "Yo"}, {"user", "Bye"}}, true),
            "<s>[INST] Hi [/INST]Yo</s>[INST] Bye [/INST]");
}

TEST(ChatFormat, Gemma) {
  auto tok = with_template("{{ '<start_of_turn>' + role }}", {"<bos>", "<start_of_turn>", "<end_of_turn>"}, 0);
  EXPECT_EQ(tok->apply_chat(kConv, true),
            "<bos><start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n"
            "<start_of_turn>model\nHello.<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatFormat, NoTemplateIsAnError) {
  auto tok = with_template("", {});
  EXPECT_EQ(tok->chat_format(), ChatFormat::None);
  EXPECT_THROW(tok->apply_chat({{"user", "x"}}, true), rs::Error);
}

}  // namespace
