// f16/bf16 conversions (exhaustive over all 65536 halves) and dequantiser behaviour:
// hand-made blocks with known values, errors, and parallel == serial.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "io/ggml_types.h"

using namespace rs;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// binary16 value from its definition (IEEE 754-2008, 3.6): independent of the bit tricks.
double half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exp = (h >> 10) & 0x1f;
  const int man = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(man, -24);
  if (exp == 31) return man ? std::nan("") : sign * INFINITY;
  return sign * std::ldexp(1024 + man, exp - 25);
}

void put_f16(std::vector<uint8_t>& b, size_t at, float v) {
  const uint16_t h = fp32_to_fp16(v);
  std::memcpy(b.data() + at, &h, 2);
}

}  // namespace

TEST(Fp16, ToFp32MatchesDefinitionForAllHalves) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    const double want = half_value(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      EXPECT_EQ((bits(f) >> 13) & 0x3ff, h & 0x3ff) << "payload kept for " << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), want) << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
    }
  }
}

TEST(Fp16, DequantizeF16AgreesWithScalarConversionBitForBit) {
  std::vector<uint8_t> src(65536 * 2);
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t v = static_cast<uint16_t>(h);
    std::memcpy(src.data() + 2 * h, &v, 2);
  }
  std::vector<float> out(65536);
  dequantize(GgmlType::F16, src.data(), out.data(), 65536);
  for (uint32_t h = 0; h < 65536; ++h)
    ASSERT_EQ(bits(out[h]), bits(fp16_to_fp32(static_cast<uint16_t>(h)))) << h;
}

TEST(Fp16, FromFp32RoundTripsAndRoundsToNearestEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    if (((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff)) {  // NaN stays NaN
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(fp16_to_fp32(static_cast<uint16_t>(h))))));
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(static_cast<uint16_t>(h))), h) << h;
  }
  // Midpoints between neighbouring positive halves: exact ties go to the even one, anything
  // above/below goes up/down.
  for (uint16_t h = 0; h < 0x7bff; ++h) {
    const float a = fp16_to_fp32(h), b = fp16_to_fp32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(a) + b) / 2);  // exact in f32
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
    ASSERT_EQ(fp32_to_fp16(mid), even) << h;
    ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, 1e9f)), h + 1) << h;
    ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(fp32_to_fp16(-mid), even | 0x8000) << h;
  }
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(1e30f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0);  // tie between 0 and 2^-24 -> 0
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 1);
  EXPECT_EQ(fp32_to_fp16(1e-30f), 0);
}

TEST(Bf16, RoundTripAndRounding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    EXPECT_EQ(bits(f), h << 16);
    if (!std::isnan(f)) ASSERT_EQ(fp32_to_bf16(f), h) << h;
    else ASSERT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f))));
  }
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even (down)
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
  // A NaN whose payload is only in the low 16 bits must stay NaN, not become inf.
  uint32_t snan = 0x7f800001u;
  float f;
  std::memcpy(&f, &snan, 4);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f))));
}

TEST(Dequant, HandMadeBlocks) {
  // Q4_0: d = 0.5, qs[j] low nibble j, high nibble 15 - j: x = (q - 8) * d.
  std::vector<uint8_t> q4(18);
  put_f16(q4, 0, 0.5f);
  for (int j = 0; j < 16; ++j) q4[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<float> y(32);
  dequantize(GgmlType::Q4_0, q4.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(y[j + 16], (15 - j - 8) * 0.5f) << j;
  }
  // Q4_1: d = 2, m = -3: x = q * d + m.
  std::vector<uint8_t> q41(20);
  put_f16(q41, 0, 2.0f);
  put_f16(q41, 2, -3.0f);
  for (int j = 0; j < 16; ++j) q41[4 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  dequantize(GgmlType::Q4_1, q41.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 2.0f - 3.0f);
    EXPECT_EQ(y[j + 16], (15 - j) * 2.0f - 3.0f);
  }
  // Q5_0: the high bit of element i is bit i of qh; x = (q5 - 16) * d.
  std::vector<uint8_t> q5(22);
  put_f16(q5, 0, 1.0f);
  const uint32_t qh = 0xA5A5F00Fu;
  std::memcpy(q5.data() + 2, &qh, 4);
  for (int j = 0; j < 16; ++j) q5[6 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  dequantize(GgmlType::Q5_0, q5.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    const int h0 = static_cast<int>((qh >> j) & 1u), h1 = static_cast<int>((qh >> (j + 16)) & 1u);
    EXPECT_EQ(y[j], static_cast<float>((j | (h0 << 4)) - 16)) << j;
    EXPECT_EQ(y[j + 16], static_cast<float>(((15 - j) | (h1 << 4)) - 16)) << j;
  }
  // Q8_0: x = q * d.
  std::vector<uint8_t> q8(34);
  put_f16(q8, 0, 0.25f);
  for (int j = 0; j < 32; ++j) q8[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128));
  dequantize(GgmlType::Q8_0, q8.data(), y.data(), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j * 8 - 128) * 0.25f);
  // Q6_K: d = 1, scales[g] = g - 8, every q6 = 33 (ql nibble 1, qh bits 2) -> x = scale * 1.
  std::vector<uint8_t> q6(210);
  for (int k = 0; k < 128; ++k) q6[k] = 0x11;
  for (int k = 0; k < 64; ++k) q6[128 + k] = 0xAA;
  for (int g = 0; g < 16; ++g) q6[192 + g] = static_cast<uint8_t>(static_cast<int8_t>(g - 8));
  put_f16(q6, 208, 1.0f);
  std::vector<float> y6(256);
  dequantize(GgmlType::Q6_K, q6.data(), y6.data(), 256);
  for (int k = 0; k < 256; ++k) EXPECT_EQ(y6[k], static_cast<float>(k / 16 - 8)) << k;
}

TEST(Dequant, ErrorsForUnsupportedTypesAndBadCounts) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(1024);
  EXPECT_THROW(dequantize(GgmlType::Q2_K, src.data(), dst.data(), 256), Error);
  EXPECT_THROW(dequantize(GgmlType::Q4_0, src.data(), dst.data(), 33), Error);
  EXPECT_THROW(dequantize(GgmlType::Q4_K, src.data(), dst.data(), -256), Error);
  EXPECT_THROW(dequantize_parallel(GgmlType::IQ4_NL, src.data(), dst.data(), 32, 2), Error);
  EXPECT_THROW(dequantize_parallel(GgmlType::Q6_K, src.data(), dst.data(), 255, 2), Error);
  try {
    dequantize(GgmlType::Q3_K, src.data(), dst.data(), 256);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q3_K"), std::string::npos) << e.what();
  }
  dequantize(GgmlType::Q4_0, src.data(), dst.data(), 0);  // nothing to do is fine
}

TEST(Dequant, ParallelEqualsSerialForEveryType) {
  const GgmlType types[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0,
                            GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  std::mt19937 rng(7);
  const int64_t n = 256 * 1031;  // not a multiple of the thread count
  for (GgmlType t : types) {
    std::vector<uint8_t> src(ggml_row_bytes(t, n));
    for (auto& b : src) b = static_cast<uint8_t>(rng());
    // +1 offset: the kernels must not assume aligned input.
    std::vector<uint8_t> shifted(src.size() + 1);
    std::memcpy(shifted.data() + 1, src.data(), src.size());
    std::vector<float> serial(n), par(n);
    dequantize(t, src.data(), serial.data(), n);
    for (int threads : {2, 3, 7}) {
      std::fill(par.begin(), par.end(), 0.0f);
      dequantize_parallel(t, shifted.data() + 1, par.data(), n, threads);
      ASSERT_EQ(0, std::memcmp(serial.data(), par.data(), n * 4)) << ggml_type_name(t) << " x" << threads;
    }
  }
}
