// Byte-level BPE (GPT-2; Sennrich et al. 2016, "Neural Machine Translation of Rare Words with
// Subword Units"): a pre-token's bytes start as one symbol each and the adjacent pair with the
// lowest merge rank is merged until no ranked pair is left. Ties go to the leftmost pair, as in
// the Hugging Face `tokenizers` BPE model (priority by rank, then position).
#include <algorithm>
#include <functional>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace rs::tok {

void Tokenizer::Impl::bpe_word(std::string_view raw, std::vector<int32_t>& out) const {
  const size_t n = raw.size();
  if (n == 0) return;
  if (spec.ignore_merges) {
    int32_t whole = token_to_id.find(bytes_to_byte_level(raw));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  if (n == 1) {
    int32_t b = byte_token[static_cast<uint8_t>(raw[0])];
    if (b >= 0 || spec.unk_id >= 0) out.push_back(b >= 0 ? b : spec.unk_id);
    return;
  }
  std::vector<int32_t> id(n), prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    id[i] = byte_token[static_cast<uint8_t>(raw[i])];
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  // Candidates are (rank << 32 | left symbol index) in a min-heap: lowest rank first, then
  // leftmost. A candidate is checked when popped: its left symbol must still be alive and the
  // pair it now forms with its right neighbour must still have that rank (each rank is one
  // merge pair, and a merged symbol never equals its left part, so the check is exact).
  std::vector<uint64_t> heap;
  heap.reserve(n);
  auto rank_of = [&](int32_t l) -> const MergeTable::Entry* {
    if (l < 0 || next[l] < 0 || id[l] < 0 || id[next[l]] < 0) return nullptr;
    return merges.find(id[l], id[next[l]]);
  };
  auto push = [&](int32_t l) {
    if (const MergeTable::Entry* e = rank_of(l)) {
      heap.push_back((static_cast<uint64_t>(e->rank) << 32) | static_cast<uint32_t>(l));
      std::push_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) {
    if (const MergeTable::Entry* e = rank_of(static_cast<int32_t>(i)))
      heap.push_back((static_cast<uint64_t>(e->rank) << 32) | i);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
  std::vector<char> alive(n, 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
    const uint64_t c = heap.back();
    heap.pop_back();
    const int32_t left = static_cast<int32_t>(c & 0xffffffffu);
    const int32_t rank = static_cast<int32_t>(c >> 32);
    if (!alive[left]) continue;
    const MergeTable::Entry* e = rank_of(left);
    if (!e || e->rank != rank) continue;  // stale
    const int32_t right = next[left];
    id[left] = e->result;
    alive[right] = 0;
    next[left] = next[right];
    if (next[left] >= 0) prev[next[left]] = left;
    if (prev[left] >= 0) push(prev[left]);
    push(left);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) {
    if (id[i] >= 0)
      out.push_back(id[i]);
    else if (spec.unk_id >= 0)
      out.push_back(spec.unk_id);  // a byte the vocab lacks
  }
}

}  // namespace rs::tok
