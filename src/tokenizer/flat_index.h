// Flat open-addressing hash tables for the vocabulary (text -> id) and the BPE merges
// ((left id, right id) -> rank, merged id). Node-based std::unordered_map made tokenizer
// construction cache-miss bound (~60 ms for 49k tokens + 49k merges); these are one array each.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rs::tok {

inline uint64_t mix64(uint64_t x) {  // splitmix64 finaliser (Steele et al. 2014)
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t hash_bytes(std::string_view s) {  // FNV-1a 64, then mixed
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

// Text -> token id over a token list owned elsewhere (which must outlive the index).
class TokenIndex {
 public:
  // Later ids win when two tokens have the same text (as llama.cpp's token_to_id map does).
  void build(const std::vector<std::string>& tokens) {
    tokens_ = &tokens;
    size_t cap = 16;
    while (cap < tokens.size() * 2) cap <<= 1;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    for (size_t id = 0; id < tokens.size(); ++id) {
      const std::string& s = tokens[id];
      uint64_t h = hash_bytes(s);
      uint64_t tag = h >> 32;
      for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
        uint64_t slot = slots_[i];
        if (slot == 0 || ((slot >> 32) == tag && tokens[(slot & 0xffffffffu) - 1] == s)) {
          slots_[i] = (tag << 32) | (id + 1);
          break;
        }
      }
    }
  }
  int32_t find(std::string_view s) const {
    if (slots_.empty()) return -1;
    uint64_t h = hash_bytes(s);
    uint64_t tag = h >> 32;
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      uint64_t slot = slots_[i];
      if (slot == 0) return -1;
      if ((slot >> 32) == tag) {
        uint32_t id = static_cast<uint32_t>(slot & 0xffffffffu) - 1;
        if ((*tokens_)[id] == s) return static_cast<int32_t>(id);
      }
    }
  }

 private:
  const std::vector<std::string>* tokens_ = nullptr;
  std::vector<uint64_t> slots_;  // (hash tag << 32) | (id + 1); 0 = empty
  uint64_t mask_ = 0;
};

// (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t result = 0;
  };
  static uint64_t key_of(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Entry{});
    mask_ = cap - 1;
  }
  // Keeps the first (lowest-rank) entry for a pair.
  void insert(int32_t l, int32_t r, int32_t rank, int32_t result) {
    uint64_t k = key_of(l, r);
    for (uint64_t i = mix64(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = Entry{k, rank, result};
        return;
      }
    }
  }
  const Entry* find(int32_t l, int32_t r) const {
    if (slots_.empty()) return nullptr;
    uint64_t k = key_of(l, r);
    for (uint64_t i = mix64(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return &slots_[i];
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;  // ids are < 2^31, so no real key is all ones
  std::vector<Entry> slots_;
  uint64_t mask_ = 0;
};

}  // namespace rs::tok
