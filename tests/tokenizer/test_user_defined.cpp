// User-defined tokens (token type 4) on tiny hand-made vocabularies: matched in the raw text
// before merging, leftmost-longest, whether or not special tokens are parsed (as SentencePiece
// and llama.cpp do); control tokens still split out only with parse_special.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace rs::tok;
using Ids = std::vector<int32_t>;

const std::string kSp = "\xE2\x96\x81";  // U+2581

// SentencePiece-style (Gemma-like: no dummy prefix): <unk> <s> </s> <ctl>, 256 byte pieces, then
// normal pieces, then user-defined runs of spaces / newlines. Ids of the interesting pieces:
//   sp=260 a=261 b=262 sp_b=263 sp_sp=264 (a *normal* "▁▁" piece that merging would prefer)
//   ud2=265 "  "   ud3=266 "   "   udnl=267 "\n"   ud_ab=268 "ab"
std::unique_ptr<Tokenizer> spm(bool add_space_prefix) {
  VocabSpec s;
  s.source = "spm-user-defined";
  s.model = "llama";
  s.tokens = {"<unk>", "<s>", "</s>", "<ctl>"};
  s.token_types = {2, 3, 3, 3};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    s.tokens.push_back(buf);
    s.token_types.push_back(6);
  }
  for (const std::string& t : {kSp, std::string("a"), std::string("b"), kSp + "b", kSp + kSp}) {
    s.tokens.push_back(t);
    s.token_types.push_back(1);
  }
  for (const char* t : {"  ", "   ", "\n", "ab"}) {
    s.tokens.push_back(t);
    s.token_types.push_back(4);
  }
  s.scores.assign(s.tokens.size(), 0.0f);
  s.scores[264] = 10.0f;  // "▁▁" would win every merge if the spaces reached the merger
  s.bos_id = 1;
  s.eos_id = 2;
  s.unk_id = 0;
  s.add_bos = true;
  s.add_space_prefix = add_space_prefix;
  return Tokenizer::from_spec(s);
}

TEST(UserDefined, SentencePieceMatchesRunsInTheRawText) {
  auto tok = spm(false);
  const int32_t sp = 260, a = 261, b = 262, sp_b = 263, ud2 = 265, ud3 = 266, nl = 267, ab = 268;
  (void)sp;
  // "a  b": the two spaces are the user-defined "  ", not "▁▁" (score 10) nor two "▁".
  for (bool parse_special : {false, true}) {
    EXPECT_EQ(tok->encode("a  b", false, parse_special), (Ids{a, ud2, b})) << parse_special;
    // Leftmost-longest: five spaces are "   " + "  ".
    EXPECT_EQ(tok->encode("a     b", false, parse_special), (Ids{a, ud3, ud2, b}));
    // A single space is no user-defined piece: ordinary merging ("▁b").
    EXPECT_EQ(tok->encode("a b", false, parse_special), (Ids{a, sp_b}));
    EXPECT_EQ(tok->encode("a\nb", false, parse_special), (Ids{a, nl, b}));
    // "ab" is user-defined and wins over the normal pieces; "aab" = a + ab.
    EXPECT_EQ(tok->encode("aab", false, parse_special), (Ids{a, ab}));
  }
  // Control tokens follow parse_special: "<ctl>" is one token only when parsing special tokens.
  EXPECT_EQ(tok->encode("a<ctl>", false, true), (Ids{a, 3}));
  const Ids plain = tok->encode("a<ctl>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 3), 0);
  EXPECT_EQ(tok->decode(plain), "a<ctl>");
  // Round trip, with and without BOS (user-defined text is kept even with skip_special).
  for (std::string s : {"a  b", "  ", "\n\n  a", "ab   ab", "a \n b"}) {
    EXPECT_EQ(tok->decode(tok->encode(s, false, false)), s) << s;
    EXPECT_EQ(tok->decode(tok->encode(s, true, false), /*skip_special=*/true), s) << s;
  }
  EXPECT_TRUE(tok->is_special(ud2));
  EXPECT_EQ(tok->token_type(ud2), TokenType::UserDefined);
}

TEST(UserDefined, SentencePieceDummyPrefixAfterAPieceAsLlamaCpp) {
  // With add_space_prefix, llama.cpp starts every raw-text fragment after a split-out token with
  // a space (as after control tokens); decode removes it again.
  auto tok = spm(true);
  const int32_t a = 261, sp_b = 263, ud2 = 265;
  // "  b" -> "  " then the fragment "b" gets its dummy prefix: "▁b".
  EXPECT_EQ(tok->encode("  b", false, false), (Ids{ud2, sp_b}));
  EXPECT_EQ(tok->decode({ud2, sp_b}), "  b");
  (void)a;
}

// Byte-level BPE: 256 byte symbols, merges for "a b" -> "ab" and the space pair, user-defined
// "<tab4>" and a run of three spaces; control "<|c|>".
std::unique_ptr<Tokenizer> bpe() {
  VocabSpec s;
  s.source = "bpe-user-defined";
  s.model = "gpt2";
  s.pre = "gpt-2";
  const ByteUnicode& bu = byte_unicode();
  for (int b = 0; b < 256; ++b) {
    s.tokens.push_back(bu.byte_to_utf8[b]);
    s.token_types.push_back(1);
  }
  const std::string space = bu.byte_to_utf8[' '];
  s.tokens.push_back("ab");                 // 256
  s.tokens.push_back(space + space);        // 257: a normal merged pair of spaces
  s.token_types.insert(s.token_types.end(), {1, 1});
  s.merges = {"a b", space + " " + space};
  s.tokens.push_back("<tab4>");             // 258 user-defined
  s.tokens.push_back("   ");                // 259 user-defined: three raw spaces
  s.tokens.push_back("<|c|>");              // 260 control
  s.token_types.insert(s.token_types.end(), {4, 4, 3});
  return Tokenizer::from_spec(s);
}

TEST(UserDefined, ByteLevelBpeMatchesBeforePreTokenizing) {
  auto tok = bpe();
  const int32_t ab = 256, ud_tab = 258, ud3 = 259, ctl = 260;
  for (bool parse_special : {false, true}) {
    // "x<tab4>ab": the piece splits the text; "ab" still merges.
    EXPECT_EQ(tok->encode("x<tab4>ab", false, parse_special), (Ids{'x', ud_tab, ab})) << parse_special;
    // Three raw spaces are one piece, whatever the pre-tokenizer would have split.
    EXPECT_EQ(tok->encode("ab   ab", false, parse_special), (Ids{ab, ud3, ab}));
  }
  EXPECT_EQ(tok->encode("ab<|c|>", false, true), (Ids{ab, ctl}));
  const Ids plain = tok->encode("ab<|c|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), ctl), 0);
  for (std::string s : {"x<tab4>ab", "ab   ab", "      ", "<|c|>"})
    EXPECT_EQ(tok->decode(tok->encode(s, false, false)), s) << s;
}

}  // namespace
