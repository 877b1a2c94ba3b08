// UTF-8 helpers and the GPT-2 byte <-> unicode table used by byte-level BPE.
// Byte table fact: GPT-2's encoder.py bytes_to_unicode(): the printable bytes 33..126, 161..172
// and 174..255 stand for themselves; the other 68 bytes map, in increasing order, to 256, 257, ...
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace rs::tok {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not valid
// UTF-8 (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_valid_len(std::string_view s, size_t i);
bool is_valid_utf8(std::string_view s);
// Decode the code point at s[i] (must be valid; see utf8_valid_len).
uint32_t utf8_decode(std::string_view s, size_t i, size_t len);
void utf8_append(std::string& out, uint32_t cp);

struct ByteUnicode {
  std::array<uint32_t, 256> byte_to_cp;
  std::array<std::string, 256> byte_to_utf8;  // byte_to_cp as UTF-8
  std::array<int16_t, 324> cp_to_byte;        // -1 where a code point is not in the table
};
const ByteUnicode& byte_unicode();

// The byte-level form of raw bytes: each byte becomes its table character.
std::string bytes_to_byte_level(std::string_view raw);
// Inverse: table characters back to bytes; characters outside the table keep their UTF-8.
std::string byte_level_to_bytes(std::string_view text);

}  // namespace rs::tok
