// ggml type table and the scalar float conversions (f16, bf16).
// Block sizes and bytes per block: ggml.c type_traits, mirrored in the PyPI gguf package
// (constants.py GGML_QUANT_SIZES). f16 = IEEE 754 binary16; bf16 = the top 16 bits of a
// binary32.
#include "io/ggml_types.h"

#include <cstring>

#include "core/error.h"

namespace rs {
namespace {

struct TypeTraits {
  GgmlType type;
  const char* name;
  int64_t block;    // elements per block
  uint64_t bytes;   // bytes per block
  bool dequant;     // dequantize() handles it
};

// QK_K = 256 for the k-quants and most i-quants.
constexpr TypeTraits kTraits[] = {
    {GgmlType::F32, "F32", 1, 4, true},
    {GgmlType::F16, "F16", 1, 2, true},
    {GgmlType::Q4_0, "Q4_0", 32, 2 + 16, true},
    {GgmlType::Q4_1, "Q4_1", 32, 2 + 2 + 16, true},
    {GgmlType::Q5_0, "Q5_0", 32, 2 + 4 + 16, true},
    {GgmlType::Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16, true},
    {GgmlType::Q8_0, "Q8_0", 32, 2 + 32, true},
    {GgmlType::Q8_1, "Q8_1", 32, 4 + 4 + 32, false},
    {GgmlType::Q2_K, "Q2_K", 256, 2 + 2 + 16 + 64, false},
    {GgmlType::Q3_K, "Q3_K", 256, 2 + 64 + 32 + 12, false},
    {GgmlType::Q4_K, "Q4_K", 256, 2 + 2 + 12 + 128, true},
    {GgmlType::Q5_K, "Q5_K", 256, 2 + 2 + 12 + 32 + 128, true},
    {GgmlType::Q6_K, "Q6_K", 256, 128 + 64 + 16 + 2, true},
    {GgmlType::Q8_K, "Q8_K", 256, 4 + 256 + 32, false},
    {GgmlType::IQ2_XXS, "IQ2_XXS", 256, 2 + 64, false},
    {GgmlType::IQ2_XS, "IQ2_XS", 256, 2 + 64 + 8, false},
    {GgmlType::IQ3_XXS, "IQ3_XXS", 256, 2 + 64 + 32, false},
    {GgmlType::IQ1_S, "IQ1_S", 256, 2 + 32 + 16, false},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 2 + 16, false},
    {GgmlType::IQ3_S, "IQ3_S", 256, 2 + 64 + 32 + 8 + 4, false},
    {GgmlType::IQ2_S, "IQ2_S", 256, 2 + 64 + 16, false},
    {GgmlType::IQ4_XS, "IQ4_XS", 256, 2 + 2 + 128 + 4, false},
    {GgmlType::I8, "I8", 1, 1, false},
    {GgmlType::I16, "I16", 1, 2, false},
    {GgmlType::I32, "I32", 1, 4, false},
    {GgmlType::I64, "I64", 1, 8, false},
    {GgmlType::F64, "F64", 1, 8, false},
    {GgmlType::IQ1_M, "IQ1_M", 256, 32 + 16 + 8, false},
    {GgmlType::BF16, "BF16", 1, 2, true},
    {GgmlType::TQ1_0, "TQ1_0", 256, 2 + 4 * 13, false},
    {GgmlType::TQ2_0, "TQ2_0", 256, 2 + 64, false},
    {GgmlType::MXFP4, "MXFP4", 32, 1 + 16, false},
};

// Direct lookup by id: dequantize() is called per row by the loaders, so this stays O(1).
constexpr uint32_t kMaxTypeId = 64;
struct TraitsIndex {
  const TypeTraits* by_id[kMaxTypeId] = {};
  TraitsIndex() {
    for (const auto& t : kTraits) by_id[static_cast<uint32_t>(t.type)] = &t;
  }
};

const TypeTraits* find_traits(uint32_t id) {
  static const TraitsIndex index;
  return id < kMaxTypeId ? index.by_id[id] : nullptr;
}

const TypeTraits& traits(GgmlType t) {
  const TypeTraits* tr = find_traits(static_cast<uint32_t>(t));
  if (!tr) fail("ggml type id ", static_cast<uint32_t>(t), ": unknown type");
  return *tr;
}

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

bool ggml_type_known(uint32_t id) { return find_traits(id) != nullptr; }

bool ggml_type_dequant_supported(GgmlType t) {
  const TypeTraits* tr = find_traits(static_cast<uint32_t>(t));
  return tr && tr->dequant;
}

const char* ggml_type_name(GgmlType t) {
  const TypeTraits* tr = find_traits(static_cast<uint32_t>(t));
  return tr ? tr->name : "unknown";
}

int64_t ggml_block_size(GgmlType t) { return traits(t).block; }
uint64_t ggml_type_size(GgmlType t) { return traits(t).bytes; }

uint64_t ggml_row_bytes(GgmlType t, int64_t n) {
  const TypeTraits& tr = traits(t);
  if (n < 0 || n % tr.block != 0)
    fail("ggml type ", tr.name, ": expected an element count that is a multiple of ", tr.block,
         ", found ", n);
  // n / block * bytes cannot overflow: n <= 2^63 and bytes/block <= 8 for block 1, and for
  // block >= 32 bytes/block < 2.
  return static_cast<uint64_t>(n / tr.block) * tr.bytes;
}

uint64_t ggml_nbytes(GgmlType t, const std::vector<int64_t>& ne) {
  const TypeTraits& tr = traits(t);
  if (ne.empty()) fail("ggml type ", tr.name, ": expected at least one dimension, found none");
  for (size_t i = 0; i < ne.size(); ++i)
    if (ne[i] <= 0) fail("ggml type ", tr.name, ": dimension ", i, " is ", ne[i], ", expected > 0");
  if (ne[0] % tr.block != 0)
    fail("ggml type ", tr.name, ": ne[0] = ", ne[0], " is not a multiple of the block size ",
         tr.block);
  // bytes = (ne[0] / block) * bytes_per_block * ne[1] * ... with overflow checks; the total
  // must also fit an int64 element count so that n_elements() is meaningful.
  unsigned __int128 bytes = static_cast<unsigned __int128>(ne[0] / tr.block) * tr.bytes;
  unsigned __int128 elems = static_cast<unsigned __int128>(ne[0]);
  const unsigned __int128 limit = static_cast<unsigned __int128>(INT64_MAX);
  for (size_t i = 1; i < ne.size(); ++i) {
    bytes *= static_cast<uint64_t>(ne[i]);
    elems *= static_cast<uint64_t>(ne[i]);
    if (bytes > limit || elems > limit)
      fail("ggml type ", tr.name, ": element count overflows (dimension ", i, " = ", ne[i], ")");
  }
  if (bytes > limit || elems > limit) fail("ggml type ", tr.name, ": element count overflows");
  return static_cast<uint64_t>(bytes);
}

// binary16 -> binary32, exact for every input (subnormals, inf, NaN payloads kept).
// Normal numbers re-bias the exponent (15 -> 127); subnormals m * 2^-24 are computed as a
// float subtraction, which is exact: (0x38800000 | m<<13) as float is 2^-14 * (1 + m/1024).
float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    const float magnitude = f32_from_bits(0x38800000u | (man << 13)) - f32_from_bits(0x38800000u);
    bits = sign | f32_bits(magnitude);
  } else {
    bits = sign | ((exp + (127 - 15)) << 23) | (man << 13);
  }
  return f32_from_bits(bits);
}

// binary32 -> binary16, round to nearest, ties to even; overflow -> inf; NaN stays NaN
// (quiet bit set so a payload that only lives in the dropped bits still reads as NaN).
uint16_t fp32_to_fp16(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or NaN
    if (absx == 0x7f800000u) return sign | 0x7c00u;
    return sign | 0x7e00u | static_cast<uint16_t>((absx >> 13) & 0x3ffu);
  }
  if (absx >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520 -> inf
  if (absx < 0x38800000u) {
    // Result is subnormal (or zero): value / 2^-24, rounded to nearest even.
    if (absx < 0x33000000u) return sign;  // < 2^-25: rounds to zero (2^-25 ties to 0, even)
    const uint32_t exp = absx >> 23;           // 102 .. 112
    const uint32_t man = (absx & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;          // 14 .. 24: man >> shift = value * 2^24
    uint32_t result = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return sign | static_cast<uint16_t>(result);
  }
  // Normal: re-bias the exponent, round the 13 dropped mantissa bits (a carry into the
  // exponent is the correct result, including up to 0x7c00 = inf which is excluded above).
  uint32_t h = ((absx - ((127u - 15u) << 23)) >> 13);
  const uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return sign | static_cast<uint16_t>(h);
}

float bf16_to_fp32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

uint16_t fp32_to_bf16(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

}  // namespace rs
