// Internal state of rs::tok::Tokenizer (shared by tokenizer.cpp, bpe.cpp, spm.cpp, chat.cpp).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/flat_index.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace rs::tok {

// Byte trie over the text of the tokens split out of the raw text before merging (control,
// user-defined, unknown), for leftmost-longest matching.
class SpecialTrie {
 public:
  void insert(std::string_view text, int32_t id);
  // Longest special token starting at text[pos]: (id, length) or (-1, 0).
  std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;
  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;
    int32_t token = -1;
  };
  std::vector<Node> nodes_{1};
};

struct Tokenizer::Impl {
  VocabSpec spec;
  bool is_spm = false;  // model "llama": SentencePiece-style; else byte-level BPE
  TokenIndex token_to_id;  // text -> id over spec.tokens
  std::vector<TokenType> types;
  std::vector<float> scores;
  // gpt2: id of the byte-level character of each byte; llama: id of <0xXX>. -1 if absent.
  std::array<int32_t, 256> byte_token{};
  MergeTable merges;  // (left id, right id) -> rank, merged id
  std::unique_ptr<PreTokenizer> pre;
  SpecialTrie specials;      // control + user-defined + unknown: split out when parse_special
  SpecialTrie user_defined;  // user-defined only: always split out (SentencePiece, llama.cpp)
  ChatFormat chat = ChatFormat::None;

  void build();  // validate spec and fill the tables; throws rs::Error naming spec.source

  // Byte-level BPE of one pre-token (raw bytes), appending ids.
  void bpe_word(std::string_view raw, std::vector<int32_t>& out) const;
  // SentencePiece-style merging of text already escaped (spaces -> U+2581), appending ids.
  void spm_text(std::string_view escaped, std::vector<int32_t>& out) const;
  // One fragment of plain text (no special tokens in it).
  void encode_fragment(std::string_view text, bool after_special, std::vector<int32_t>& out) const;

  bool is_splittable_special(int32_t id) const {
    TokenType t = types[id];
    return t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
  }
  std::string normal_text(int32_t id) const;  // decoded bytes of a normal/byte token
};

}  // namespace rs::tok
