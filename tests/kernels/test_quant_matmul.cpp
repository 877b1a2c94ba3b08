// The quantised kernels against dequantise-then-matmul (io/dequant.cpp, bit-exact with ggml):
// random blocks of every format, every instruction set this CPU has (forced one at a time),
// batches and row ranges, the generic path, and the default model's own tensors.
//
// Bounds (quant_matmul.h): with x' = the dequantised 8-bit activations (d * q) of the form the
// weight type reads (32-blocks, or 256-blocks for Q4_K / Q6_K),
//   |y - W x'| <= 1e-5 * sum_j |W_j x'_j|                 (only f32 rounding differs)
//   |y - W x | <= sum_b 0.57 |d_b| sum_{j in b} |W_j| + 1e-5 * sum_j |W_j x_j|   (rounding of x:
//                 half a step, plus the f16 rounding of the 32-blocks' d, < 2^-11 * 127 steps)
// All instruction sets give bit-identical results (the same integers, the same f32 steps), and
// a batch gives every row bit for bit the single row's result.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>

#include "core/paths.h"
#include "io/gguf.h"
#include "kernels/quant_matmul.h"
#include "kernels/thread_pool.h"

using namespace rs;
using namespace rs::kernels;

namespace {

const GgmlType kIntegerTypes[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                  GgmlType::Q4_K, GgmlType::Q6_K};

std::vector<Isa> isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Amx})
    if (isa_supported(i)) v.push_back(i);
  return v;
}

void put_f16(uint8_t* p, float v) {
  const uint16_t h = fp32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

// rows x n elements of random blocks: random quant bytes, sane random f16 scales.
std::vector<uint8_t> random_weights(GgmlType t, int64_t rows, int64_t n, std::mt19937& rng) {
  const uint64_t row_bytes = ggml_row_bytes(t, n);
  std::vector<uint8_t> w(row_bytes * rows);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(0.001f, 0.05f), sign(-1.0f, 1.0f);
  const uint64_t bs = ggml_type_size(t);
  for (uint64_t off = 0; off < w.size(); off += bs) {
    uint8_t* blk = w.data() + off;
    switch (t) {
      case GgmlType::Q8_0: case GgmlType::Q4_0: put_f16(blk, scale(rng) * (sign(rng) < 0 ? -1 : 1)); break;
      case GgmlType::Q4_1: put_f16(blk, scale(rng)); put_f16(blk + 2, -8 * scale(rng)); break;
      case GgmlType::Q4_K: put_f16(blk, scale(rng) / 8); put_f16(blk + 2, scale(rng) / 8); break;
      case GgmlType::Q6_K: put_f16(blk + 208, scale(rng) / 8); break;
      case GgmlType::Q5_0: put_f16(blk, scale(rng) * (sign(rng) < 0 ? -1 : 1)); break;
      case GgmlType::Q5_1: put_f16(blk, scale(rng)); put_f16(blk + 2, -16 * scale(rng)); break;
      case GgmlType::F16:
        for (uint64_t k = 0; k < bs; k += 2) put_f16(blk + k, sign(rng));
        break;
      default: break;
    }
  }
  return w;
}

// activations with a spread of magnitudes between blocks, and an all-zero block
std::vector<float> random_acts(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (int64_t j = 0; j < n; ++j) x[j] = g(rng) * std::pow(4.0f, static_cast<float>((j / 32) % 4) - 1);
  for (int64_t j = 32; j < 64 && j < n; ++j) x[j] = 0.0f;
  return x;
}

// B random activation rows of n elements, quantised, and a view of each (the views point into acts).
struct ActBatch {
  ActRows acts;
  std::vector<ActRow> rows;
};
std::unique_ptr<ActBatch> random_act_batch(int64_t n, int64_t B, std::mt19937& rng) {
  std::vector<float> x;
  for (int64_t b = 0; b < B; ++b) {
    auto xb = random_acts(n, rng);
    x.insert(x.end(), xb.begin(), xb.end());
  }
  auto batch = std::make_unique<ActBatch>();
  batch->acts.quantize(x.data(), B, n, n);
  for (int64_t b = 0; b < B; ++b) batch->rows.push_back(batch->acts.row(b));
  return batch;
}

std::vector<float> dequant_row(GgmlType t, const uint8_t* w, int64_t n) {
  std::vector<float> r(n);
  dequantize(t, w, r.data(), n);
  return r;
}

std::vector<float> dequant_acts(const ActRow& a, GgmlType t) {
  std::vector<float> x(a.n);
  for (int64_t j = 0; j < a.n; ++j) x[j] = uses_k_acts(t) ? a.dk[j / 256] * a.qk[j] : a.d[j / 32] * a.q[j];
  return x;
}

float act_scale(const ActRow& a, GgmlType t, int64_t j) { return std::fabs(uses_k_acts(t) ? a.dk[j / 256] : a.d[j / 32]); }

struct Ref { double y, abs_sum, bound; };

// y = W x in double, sum |W_j x_j|, and the activation-rounding bound sum_b d_b/2 sum |W_j|
Ref reference(const std::vector<float>& w, const std::vector<float>& x, const ActRow& a, GgmlType t) {
  Ref r{0, 0, 0};
  for (size_t j = 0; j < w.size(); ++j) {
    r.y += static_cast<double>(w[j]) * x[j];
    r.abs_sum += std::fabs(static_cast<double>(w[j]) * x[j]);
    r.bound += 0.57 * act_scale(a, t, static_cast<int64_t>(j)) * std::fabs(w[j]);
  }
  return r;
}

// Q4_1 reads ggml's Q8_1 block sum s = f16(unrounded d * sum q), not d * sum q: the part of W x'
// that the product takes from s instead, sum_b m_b (s_b - d_b sum_b)
double q8_1_sum_term(GgmlType t, const uint8_t* w_row, const ActRow& a) {
  if (t != GgmlType::Q4_1) return 0.0;
  double v = 0.0;
  for (int64_t b = 0; b < a.n / 32; ++b) {
    uint16_t m;
    std::memcpy(&m, w_row + 20 * b + 2, 2);
    v += static_cast<double>(fp16_to_fp32(m)) * (a.s[b] - static_cast<double>(a.d[b]) * a.sum[b]);
  }
  return v;
}

std::string type_isa(GgmlType t, Isa i) { return std::string(ggml_type_name(t)) + " / " + isa_name(i); }

}  // namespace

// ggml's x86 quantize_row_q8_0 / q8_1: q = round half to even of x * 127 / amax, d and s in f16
TEST(QuantizeActs, KnownBlock32) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax -> d = 1
  x[1] = -50.0f;
  x[2] = 2.5f;    // tie -> 2 (even)
  x[3] = 3.5f;    // tie -> 4
  x[17] = -2.5f;  // tie -> -2
  int8_t q[32];
  float d, s;
  int16_t sum;
  quantize_row_q8(x.data(), 32, q, &d, &s, &sum);
  EXPECT_EQ(d, 1.0f);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], -50);
  EXPECT_EQ(q[2], 2);
  EXPECT_EQ(q[3], 4);
  EXPECT_EQ(q[17], -2);
  EXPECT_EQ(sum, 127 - 50 + 2 + 4 - 2);
  EXPECT_EQ(s, 81.0f);
  // d is stored rounded to f16 (1/127 is not an f16), and s = f16(d * sum) from the unrounded d
  x.assign(32, 0.0f);
  x[0] = 1.0f;
  x[1] = 1.0f;
  quantize_row_q8(x.data(), 32, q, &d, &s, &sum);
  EXPECT_EQ(d, fp16_to_fp32(fp32_to_fp16(1.0f / 127.0f)));
  EXPECT_NE(d, 1.0f / 127.0f);
  EXPECT_EQ(s, fp16_to_fp32(fp32_to_fp16(254.0f / 127.0f)));
  std::vector<float> zero(32, 0.0f);
  quantize_row_q8(zero.data(), 32, q, &d, &s, &sum);
  EXPECT_EQ(d, 0.0f);
  EXPECT_EQ(q[5], 0);
}

// ggml quantize_row_q8_K_ref: the first element of largest |x| maps to -127, d = 1 / iscale
TEST(QuantizeActs, KnownBlockK) {
  std::vector<float> x(512, 0.0f);
  x[0] = 127.0f;   // max: iscale = -1, d = -1
  x[1] = 2.5f;     // -2.5 -> -2
  x[2] = -3.5f;    // 3.5 -> 4
  x[5] = -127.0f;  // as large, but later: max stays x[0]
  x[20] = 1.0f;    // group 1
  int8_t q[512];
  float d[2];
  int16_t bs[32];
  quantize_row_q8k(x.data(), 512, q, d, bs);
  EXPECT_EQ(d[0], -1.0f);
  EXPECT_EQ(q[0], -127);
  EXPECT_EQ(q[1], -2);
  EXPECT_EQ(q[2], 4);
  EXPECT_EQ(q[5], 127);
  EXPECT_EQ(q[20], -1);
  EXPECT_EQ(bs[0], -127 - 2 + 4 + 127);
  EXPECT_EQ(bs[1], -1);
  EXPECT_EQ(d[1], 0.0f);  // an all-zero block
  EXPECT_EQ(q[300], 0);
  EXPECT_EQ(bs[20], 0);
  // a row whose length is not a multiple of 256 has only the 32-block form
  ActRows acts;
  acts.quantize(x.data(), 1, 96, 96);
  EXPECT_EQ(acts.row(0).qk, nullptr);
  acts.quantize(x.data(), 1, 512, 512);
  EXPECT_NE(acts.row(0).qk, nullptr);
}

// Every instruction set's activation quantisation gives the scalar bytes, scales and sums: random
// rows, ties of |x| with either sign first, exact halves, zero blocks, NaN and infinity.
TEST(QuantizeActs, BlockKSameOnEveryIsa) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  const int64_t n = 1024;
  std::vector<std::vector<float>> cases;
  for (int i = 0; i < 20; ++i) {
    std::vector<float> x(n);
    for (auto& v : x) v = nd(rng);
    cases.push_back(x);
  }
  std::vector<float> x(n, 0.0f);
  x[3] = -2.0f; x[9] = 2.0f; x[300] = 2.0f; x[301] = -2.0f;  // ties; block 2 stays zero
  for (int j = 768; j < 1024; ++j) x[j] = 0.5f * static_cast<float>(j - 900);  // halves
  cases.push_back(x);
  x[770] = NAN; x[40] = INFINITY;
  cases.push_back(x);
  const Isa before = active_isa();
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<int8_t> q0(n), q1(n);
    std::vector<float> d0(n / 256), d1(n / 256);
    std::vector<int16_t> b0(n / 16), b1(n / 16);
    set_isa(Isa::Scalar);
    quantize_row_q8k(cases[c].data(), n, q0.data(), d0.data(), b0.data());
    for (Isa isa : isas()) {
      set_isa(isa);
      quantize_row_q8k(cases[c].data(), n, q1.data(), d1.data(), b1.data());
      EXPECT_EQ(q0, q1) << "case " << c << " " << isa_name(isa);
      EXPECT_EQ(b0, b1) << "case " << c << " " << isa_name(isa);
      EXPECT_EQ(std::memcmp(d0.data(), d1.data(), d0.size() * 4), 0) << "case " << c << " " << isa_name(isa);
    }
  }
  set_isa(before);
}

TEST(QuantMatmul, IsaDetectionIsConsistent) {
  EXPECT_TRUE(isa_supported(Isa::Scalar));
  EXPECT_TRUE(isa_supported(detected_isa()));
  const Isa before = active_isa();
  set_isa(Isa::Scalar);
  EXPECT_EQ(active_isa(), Isa::Scalar);
  set_isa(before);
  std::printf("detected instruction set: %s\n", isa_name(detected_isa()));
}

TEST(QuantMatmul, RandomBlocksAgreeWithDequantisedProduct) {
  std::mt19937 rng(7);
  for (GgmlType t : kIntegerTypes) {
    for (int64_t n : {256, 512, 1536}) {
      const int64_t rows = 8;
      auto w = random_weights(t, rows, n, rng);
      auto x = random_acts(n, rng);
      ActRows acts;
      acts.quantize(x.data(), 1, n, n);
      const ActRow a = acts.row(0);
      const auto xq = dequant_acts(a, t);
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* wr = w.data() + r * ggml_row_bytes(t, n);
        const auto wd = dequant_row(t, wr, n);
        Ref tight = reference(wd, xq, a, t);
        tight.y += q8_1_sum_term(t, wr, a);
        const Ref exact = reference(wd, x, a, t);
        float y_scalar = 0;
        for (Isa isa : isas()) {
          const float y = dot_row(t, wr, a, isa);
          if (isa == Isa::Scalar) y_scalar = y;
          ASSERT_LE(std::fabs(y - tight.y), 1e-5 * tight.abs_sum + 1e-30) << type_isa(t, isa) << " n " << n;
          ASSERT_LE(std::fabs(y - exact.y), exact.bound + 1e-5 * exact.abs_sum) << type_isa(t, isa);
          ASSERT_EQ(y, y_scalar) << type_isa(t, isa) << " vs scalar (same f32 steps)";
        }
      }
    }
  }
}

// The largest integers each format can hold against x = +-127: sums must not saturate.
TEST(QuantMatmul, ExtremeBlocksDoNotSaturate) {
  for (GgmlType t : kIntegerTypes) {
    const int64_t n = 256;
    std::vector<uint8_t> w(ggml_row_bytes(t, n), 0xff);  // every quant at its maximum
    const uint64_t bs = ggml_type_size(t);
    for (uint64_t off = 0; off < w.size(); off += bs) {
      if (t == GgmlType::Q8_0) std::memset(w.data() + off + 2, 0x80, 32);  // -128
      if (t == GgmlType::Q4_1) { put_f16(w.data() + off, 0.5f); put_f16(w.data() + off + 2, -1.0f); }
      else if (t == GgmlType::Q4_K) { put_f16(w.data() + off, 0.25f); put_f16(w.data() + off + 2, 0.5f); }
      else if (t == GgmlType::Q6_K) { put_f16(w.data() + off + 208, 0.25f); std::memset(w.data() + off + 192, 0x7f, 16); }
      else put_f16(w.data() + off, 0.5f);
    }
    for (float sgn : {1.0f, -1.0f}) {
      // 17 equal rows: a batch wide enough for the batched kernels (16 rows per vector)
      const int64_t B = 17;
      std::vector<float> x(B * n, 127.0f * sgn);
      ActRows acts;
      acts.quantize(x.data(), B, n, n);
      std::vector<ActRow> rows_v;
      for (int64_t b = 0; b < B; ++b) rows_v.push_back(acts.row(b));
      const auto wd = dequant_row(t, w.data(), n);
      const Ref exact = reference(wd, std::vector<float>(x.begin(), x.begin() + n), acts.row(0), t);
      for (Isa isa : isas()) {
        const float y = dot_row(t, w.data(), acts.row(0), isa);
        EXPECT_LE(std::fabs(y - exact.y), 1e-5 * exact.abs_sum) << type_isa(t, isa) << " sign " << sgn;
        std::vector<float> yb(B);
        matmul_rows(t, w.data(), n, 0, 1, rows_v.data(), B, yb.data(), 1, isa);
        for (int64_t b = 0; b < B; ++b) EXPECT_EQ(yb[b], y) << type_isa(t, isa) << " batched, row " << b;
      }
    }
  }
}

// Tiles (4 weight rows x 4 activation rows, activation chunks): every batch size and row range
// gives each output bit for bit the single dot's value, on every instruction set.
TEST(QuantMatmul, BatchesAndRowRangesMatchSingleDotsExactly) {
  std::mt19937 rng(11);
  for (GgmlType t : kIntegerTypes) {
    // n = 8192: an activation chunk is 64 rows, so B = 70 crosses a chunk boundary; B >= 16
    // takes the batched kernels where there are some (AVX-512: Q4_K, Q6_K), 16 rows to a
    // vector: 37 ends in a partial group and 70 in a group without a partner
    for (auto [n, B] : {std::pair<int64_t, int64_t>{512, 1}, {512, 3}, {512, 4}, {512, 6}, {512, 9}, {512, 16},
                        {1536, 37}, {8192, 70}}) {
      const int64_t rows = 13;
      auto w = random_weights(t, rows, n, rng);
      const auto batch = random_act_batch(n, B, rng);
      const std::vector<ActRow>& rows_v = batch->rows;
      for (Isa isa : isas()) {
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{2, 11}, {0, 13}, {5, 6}}) {
          std::vector<float> y(B * rows, -1.0f);
          matmul_rows(t, w.data(), n, r0, r1, rows_v.data(), B, y.data(), rows, isa);
          for (int64_t b = 0; b < B; ++b)
            for (int64_t r = 0; r < rows; ++r) {
              if (r < r0 || r >= r1) {
                ASSERT_EQ(y[b * rows + r], -1.0f) << "row outside the range written";
                continue;
              }
              ASSERT_EQ(y[b * rows + r], dot_row(t, w.data() + r * ggml_row_bytes(t, n), rows_v[b], isa))
                  << type_isa(t, isa) << " n " << n << " B " << B << " b " << b << " r " << r;
            }
        }
      }
    }
  }
}

// The batched kernels (AVX-512 groups of 16, AMX panels of 16 weight rows x 16 activation rows,
// K ranges with accumulators kept between them) against the scalar tiles, bit for bit: several
// panels with a partial last one, odd batch sizes, row ranges not on panel boundaries, and the
// rows split over threads as the model splits them.
TEST(QuantMatmul, BatchedKernelsEqualScalarBitForBit) {
  std::mt19937 rng(23);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    // n = 4096 with B = 200: the K range in cache is 4 blocks of 16, so accumulators persist
    for (auto shape : {std::pair<int64_t, int64_t>{256, 16}, {512, 17}, {1536, 33}, {4096, 200}}) {
      // Plain variables, not structured bindings: C++17 lambdas cannot capture those (clang).
      const int64_t n = shape.first, B = shape.second;
      const int64_t rows = 45;
      auto w = random_weights(t, rows, n, rng);
      const auto batch = random_act_batch(n, B, rng);
      const std::vector<ActRow>& rv = batch->rows;
      std::vector<float> ref(B * rows);
      matmul_rows(t, w.data(), n, 0, rows, rv.data(), B, ref.data(), rows, Isa::Scalar);
      for (Isa isa : isas()) {
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 45}, {3, 40}, {17, 18}}) {
          std::vector<float> y(B * rows, -1.0f);
          matmul_rows(t, w.data(), n, r0, r1, rv.data(), B, y.data(), rows, isa);
          for (int64_t b = 0; b < B; ++b)
            for (int64_t r = 0; r < rows; ++r)
              ASSERT_EQ(y[b * rows + r], r < r0 || r >= r1 ? -1.0f : ref[b * rows + r])
                  << type_isa(t, isa) << " n " << n << " B " << B << " b " << b << " r " << r << " range " << r0;
        }
        for (int threads : {2, 3}) {
          ThreadPool pool(threads);
          std::vector<float> y(B * rows, -1.0f);
          pool.parallel_for(rows, [&](int64_t r0, int64_t r1) {
            matmul_rows(t, w.data(), n, r0, r1, rv.data(), B, y.data(), rows, isa);
          }, 4);
          ASSERT_EQ(std::memcmp(y.data(), ref.data(), y.size() * sizeof(float)), 0)
              << type_isa(t, isa) << " n " << n << " B " << B << " threads " << threads;
        }
      }
    }
  }
}

// Decoding (one activation row): AVX-512 runs Q4_K / Q6_K through 512-bit kernels of up to 4
// weight rows (dot_avx512.cpp) that prefetch ahead of the rows they read. On the model's row
// lengths, with a partial last group of rows and ranges that start inside a group, every output
// equals the scalar kernel's bit for bit.
TEST(QuantMatmul, DecodeKernelsEqualScalarBitForBit) {
  std::mt19937 rng(31);
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    for (int64_t n : {256, 1536, 8960}) {
      const int64_t rows = 23;
      auto w = random_weights(t, rows, n, rng);
      const auto batch = random_act_batch(n, 1, rng);
      const ActRow* x = batch->rows.data();
      std::vector<float> ref(rows);
      matmul_rows(t, w.data(), n, 0, rows, x, 1, ref.data(), rows, Isa::Scalar);
      for (Isa isa : isas())
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 23}, {1, 22}, {3, 10}, {7, 8}, {20, 23}}) {
          std::vector<float> y(rows, -1.0f);
          matmul_rows(t, w.data(), n, r0, r1, x, 1, y.data(), rows, isa);
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_EQ(y[r], r < r0 || r >= r1 ? -1.0f : ref[r]) << type_isa(t, isa) << " n " << n << " rows [" << r0
                                                                << ", " << r1 << ") r " << r;
        }
    }
  }
}

TEST(QuantMatmul, GenericPathUsesExactActivations) {
  std::mt19937 rng(3);
  for (GgmlType t : {GgmlType::F16, GgmlType::Q5_1}) {
    const int64_t n = 128;
    auto w = random_weights(t, 2, n, rng);
    auto x = random_acts(n, rng);
    ActRows acts;
    acts.quantize(x.data(), 1, n, n);
    EXPECT_FALSE(has_integer_kernel(t));
    for (int r = 0; r < 2; ++r) {
      const uint8_t* wr = w.data() + r * ggml_row_bytes(t, n);
      const Ref exact = reference(dequant_row(t, wr, n), x, acts.row(0), t);
      EXPECT_LE(std::fabs(dot_row(t, wr, acts.row(0), Isa::Scalar) - exact.y), 1e-5 * exact.abs_sum);
    }
  }
}

TEST(QuantMatmul, BadShapesFailClearly) {
  std::vector<uint8_t> w(1000);
  ActRows acts;
  std::vector<float> x(48, 1.0f);
  EXPECT_THROW(acts.quantize(x.data(), 1, 48, 48), std::exception);
  std::vector<float> x2(64, 1.0f);
  acts.quantize(x2.data(), 1, 64, 64);
  const ActRow a = acts.row(0);
  float y;
  EXPECT_THROW(matmul_rows(GgmlType::Q4_K, w.data(), 64, 0, 1, &a, 1, &y, 1), std::exception);
  EXPECT_THROW(matmul_rows(GgmlType::IQ2_XS, w.data(), 64, 0, 1, &a, 1, &y, 1), std::exception);
}

// The default model's own tensors (Q4_1 layers, Q8_0 token embedding), when it is present.
TEST(QuantMatmul, DefaultModelTensorsAgreeWithDequantisedProduct) {
  const char* env = std::getenv("REASONSCOPE_MODEL");
  const std::string path = env && *env ? env : default_model_path();
  if (!std::ifstream(path).good()) GTEST_SKIP() << "default model not found: " << path;
  auto f = gguf::File::open(path);
  std::mt19937 rng(5);
  int checked = 0;
  for (const char* name : {"blk.0.attn_q.weight", "blk.7.ffn_down.weight", "blk.29.ffn_gate.weight",
                           "token_embd.weight"}) {
    const gguf::TensorInfo* ti = f->find_tensor(name);
    if (!ti || !matmul_supported(ti->type)) continue;
    const int64_t n = ti->ne[0], rows = std::min<int64_t>(ti->ne[1], 256);
    auto x = random_acts(n, rng);
    ActRows acts;
    acts.quantize(x.data(), 1, n, n);
    const ActRow a = acts.row(0);
    const auto xq = dequant_acts(a, ti->type);
    for (Isa isa : isas()) {
      std::vector<float> y(rows);
      matmul_rows(ti->type, ti->data, n, 0, rows, &a, 1, y.data(), rows, isa);
      for (int64_t r = 0; r < rows; ++r) {
        const auto wd = dequant_row(ti->type, ti->data + r * ggml_row_bytes(ti->type, n), n);
        Ref tight = reference(wd, xq, a, ti->type);
        tight.y += q8_1_sum_term(ti->type, ti->data + r * ggml_row_bytes(ti->type, n), a);
        const Ref exact = reference(wd, x, a, ti->type);
        ASSERT_LE(std::fabs(y[r] - tight.y), 1e-5 * tight.abs_sum) << name << " row " << r << " " << isa_name(isa);
        ASSERT_LE(std::fabs(y[r] - exact.y), exact.bound + 1e-5 * exact.abs_sum) << name << " row " << r;
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(ThreadPool, EveryIndexOnceInAlignedChunks) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 64, 1000}) {
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          EXPECT_TRUE(b % 4 == 0);
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        }, 4);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
      }
    }
  }
}
