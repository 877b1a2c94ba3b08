// The quantised kernels against dequantise-then-matmul (io/dequant.cpp, bit-exact with ggml):
// random blocks of every format, every instruction set this CPU has (forced one at a time),
// batches and row ranges, the generic path, and the default model's own tensors.
//
// Bounds (quant_matmul.h): with x' = the dequantised 8-bit activations (d * q),
//   |y - W x'| <= 1e-5 * sum_j |W_j x'_j|                 (only f32 rounding differs)
//   |y - W x | <= sum_b (d_b / 2) sum_{j in b} |W_j| + 1e-5 * sum_j |W_j x_j|   (rounding of x)
// and two instruction sets agree to 1e-5 * sum_j |W_j x'_j|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
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
  for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
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

std::vector<float> dequant_row(GgmlType t, const uint8_t* w, int64_t n) {
  std::vector<float> r(n);
  dequantize(t, w, r.data(), n);
  return r;
}

std::vector<float> dequant_acts(const ActRow& a) {
  std::vector<float> x(a.n);
  for (int64_t j = 0; j < a.n; ++j) x[j] = a.d[j / 32] * a.q[j];
  return x;
}

struct Ref { double y, abs_sum, bound; };

// y = W x in double, sum |W_j x_j|, and the activation-rounding bound sum_b d_b/2 sum |W_j|
Ref reference(const std::vector<float>& w, const std::vector<float>& x, const ActRow& a) {
  Ref r{0, 0, 0};
  for (size_t j = 0; j < w.size(); ++j) {
    r.y += static_cast<double>(w[j]) * x[j];
    r.abs_sum += std::fabs(static_cast<double>(w[j]) * x[j]);
    r.bound += a.d[j / 32] / 2.0 * std::fabs(w[j]);
  }
  return r;
}

std::string type_isa(GgmlType t, Isa i) { return std::string(ggml_type_name(t)) + " / " + isa_name(i); }

}  // namespace

TEST(QuantizeActs, KnownBlock) {
  std::vector<float> x(32, 0.0f);
  x[0] = 2.54f;   // amax -> d = 0.02
  x[1] = -1.0f;   // -50
  x[2] = 0.011f;  // 0.55 -> 1 (round half away)
  x[17] = 0.01f;  // 0.5 -> 1
  int8_t q[32];
  float d, s;
  int16_t s16[2];
  quantize_row_q8(x.data(), 32, q, &d, &s, s16);
  EXPECT_FLOAT_EQ(d, 2.54f / 127.0f);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], -50);
  EXPECT_EQ(q[2], 1);
  EXPECT_EQ(q[17], 1);
  EXPECT_EQ(s16[0], 127 - 50 + 1);
  EXPECT_EQ(s16[1], 1);
  EXPECT_FLOAT_EQ(s, d * (127 - 50 + 1 + 1));
  std::vector<float> zero(32, 0.0f);
  quantize_row_q8(zero.data(), 32, q, &d, &s, s16);
  EXPECT_EQ(d, 0.0f);
  EXPECT_EQ(q[5], 0);
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
      const auto xq = dequant_acts(a);
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* wr = w.data() + r * ggml_row_bytes(t, n);
        const auto wd = dequant_row(t, wr, n);
        const Ref tight = reference(wd, xq, a), exact = reference(wd, x, a);
        float y_scalar = 0;
        for (Isa isa : isas()) {
          const float y = dot_row(t, wr, a, isa);
          if (isa == Isa::Scalar) y_scalar = y;
          ASSERT_LE(std::fabs(y - tight.y), 1e-5 * tight.abs_sum + 1e-30) << type_isa(t, isa) << " n " << n;
          ASSERT_LE(std::fabs(y - exact.y), exact.bound + 1e-5 * exact.abs_sum) << type_isa(t, isa);
          ASSERT_LE(std::fabs(y - y_scalar), 1e-5 * tight.abs_sum + 1e-30) << type_isa(t, isa) << " vs scalar";
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
      std::vector<float> x(n, 127.0f * sgn);
      ActRows acts;
      acts.quantize(x.data(), 1, n, n);
      const auto wd = dequant_row(t, w.data(), n);
      const Ref exact = reference(wd, x, acts.row(0));
      for (Isa isa : isas()) {
        const float y = dot_row(t, w.data(), acts.row(0), isa);
        EXPECT_LE(std::fabs(y - exact.y), 1e-5 * exact.abs_sum) << type_isa(t, isa) << " sign " << sgn;
      }
    }
  }
}

TEST(QuantMatmul, BatchesAndRowRangesMatchSingleDots) {
  std::mt19937 rng(11);
  for (GgmlType t : kIntegerTypes) {
    const int64_t n = 512, rows = 13, B = 3;
    auto w = random_weights(t, rows, n, rng);
    std::vector<float> x;
    for (int b = 0; b < B; ++b) {
      auto xb = random_acts(n, rng);
      x.insert(x.end(), xb.begin(), xb.end());
    }
    ActRows acts;
    acts.quantize(x.data(), B, n, n);
    std::vector<ActRow> rows_v;
    for (int b = 0; b < B; ++b) rows_v.push_back(acts.row(b));
    for (Isa isa : isas()) {
      std::vector<float> y(B * rows, -1.0f);
      matmul_rows(t, w.data(), n, 2, 11, rows_v.data(), B, y.data(), rows, isa);
      for (int b = 0; b < B; ++b)
        for (int64_t r = 0; r < rows; ++r) {
          if (r < 2 || r >= 11) {
            EXPECT_EQ(y[b * rows + r], -1.0f) << "row outside the range written";
            continue;
          }
          EXPECT_EQ(y[b * rows + r], dot_row(t, w.data() + r * ggml_row_bytes(t, n), rows_v[b], isa))
              << type_isa(t, isa);
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
      const Ref exact = reference(dequant_row(t, wr, n), x, acts.row(0));
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
    const auto xq = dequant_acts(a);
    for (Isa isa : isas()) {
      std::vector<float> y(rows);
      matmul_rows(ti->type, ti->data, n, 0, rows, &a, 1, y.data(), rows, isa);
      for (int64_t r = 0; r < rows; ++r) {
        const auto wd = dequant_row(ti->type, ti->data + r * ggml_row_bytes(ti->type, n), n);
        const Ref tight = reference(wd, xq, a), exact = reference(wd, x, a);
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
