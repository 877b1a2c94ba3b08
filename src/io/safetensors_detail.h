// Small helpers shared by the safetensors reader, model loader and writer (not public API).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace rs::st_detail {

// The reference implementation refuses headers above 100 MB (safetensors/src/tensor.rs,
// MAX_HEADER_SIZE). We refuse above 16 MiB, before allocating anything: the parsed JSON tree
// costs up to ~20x the header (measured 2026-12-05: 99 MB of short __metadata__ pairs took
// 2.0 GB, 99 MB of empty tensors 1.7 GB), and real headers take a few hundred bytes per
// tensor (tens of thousands of tensors stay under 16 MiB).
inline constexpr uint64_t kMaxHeaderBytes = 16ull << 20;
// A valid header nests 3 deep ({name: {shape: [..]}}); allow some slack for unknown extras.
inline constexpr int kMaxHeaderDepth = 16;
// Longest array a header may hold: a shape (rank) or data_offsets (2). Real tensors have at
// most a handful of dimensions; 64 leaves room for any framework's limit.
inline constexpr int64_t kMaxArrayItems = 64;

inline uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void put_u64_le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}


// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error
// ..." without the prefix (we report the file offset ourselves).
inline std::string parse_error_detail(const std::string& msg) {
  size_t p = msg.find("column ");
  if (p != std::string::npos) {
    size_t colon = msg.find(": ", p);
    if (colon != std::string::npos) return msg.substr(colon + 2);
  }
  return msg;
}

// Any other nlohmann exception text without its "[json.exception.x.y] " tag.
inline std::string json_error_detail(const std::string& msg) {
  size_t p = msg.find("] ");
  return p != std::string::npos && msg.rfind("[json.exception", 0) == 0 ? msg.substr(p + 2) : msg;
}

}  // namespace rs::st_detail

