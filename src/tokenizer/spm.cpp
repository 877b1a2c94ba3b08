// SentencePiece-style encoding for GGUF "llama" vocabularies (Kudo & Richardson 2018,
// "SentencePiece"; the BPE model type used by Llama 2, Mistral and Gemma): the escaped text
// starts as one symbol per UTF-8 character; repeatedly the adjacent pair whose concatenation is
// a vocabulary piece with the highest score is merged (ties: leftmost). A final symbol that is
// not a piece falls back to its bytes as <0xXX> tokens.
#include <queue>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace rs::tok {

namespace {
struct Bigram {
  float score;
  int32_t left, right;
  size_t size;
  bool operator<(const Bigram& o) const {  // max-heap: highest score, then smallest left
    return score != o.score ? score < o.score : left > o.left;
  }
};
struct Symbol {
  size_t start, len;
  int32_t prev, next;
};
}  // namespace

void Tokenizer::Impl::spm_text(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> sym;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_valid_len(text, i);
    if (len == 0) len = 1;  // an invalid byte is a symbol of its own
    int32_t idx = static_cast<int32_t>(sym.size());
    sym.push_back({i, len, idx - 1, -1});
    if (idx > 0) sym[idx - 1].next = idx;
    i += len;
  }
  std::priority_queue<Bigram> heap;
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    size_t size = sym[l].len + sym[r].len;
    int32_t id = token_to_id.find(text.substr(sym[l].start, size));
    if (id < 0) return;
    TokenType t = types[id];
    if (t == TokenType::Control || t == TokenType::Unknown || t == TokenType::Byte ||
        t == TokenType::Unused)
      return;
    heap.push({scores[id], l, r, size});
  };
  for (size_t i = 1; i < sym.size(); ++i)
    consider(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  while (!heap.empty()) {
    Bigram b = heap.top();
    heap.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    consider(l.prev, b.left);
    consider(b.left, l.next);
  }
  for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
    std::string_view piece = text.substr(sym[i].start, sym[i].len);
    int32_t id = token_to_id.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {  // byte fallback
      int32_t b = byte_token[static_cast<uint8_t>(c)];
      if (b >= 0)
        out.push_back(b);
      else if (spec.unk_id >= 0)
        out.push_back(spec.unk_id);
    }
  }
}

}  // namespace rs::tok
