// The real default model (SmolLM2-135M-Instruct Q4_1): the reader opens it, and one tensor
// of each type present dequantises to finite values. Uses $REASONSCOPE_MODEL when set, else
// rs::default_model_path(); a missing file fails with a message saying how to get it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sys/stat.h>

#include "core/error.h"
#include "core/paths.h"
#include "io/gguf.h"

using namespace rs;
using namespace rs::gguf;

namespace {

std::string model_path() {
  const char* env = std::getenv("REASONSCOPE_MODEL");
  return env && *env ? env : default_model_path();
}

std::unique_ptr<File> open_model() {
  const std::string path = model_path();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    ADD_FAILURE() << "default model not found at " << path
                  << " (run scripts/setup.sh, or set REASONSCOPE_MODEL to the .gguf file)";
  return File::open(path);
}

}  // namespace

TEST(GgufModel, OpensDefaultModel) {
  auto f = open_model();
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 30);
  EXPECT_EQ(f->get_int("llama.embedding_length"), 576);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens").size(), 49152u);
  EXPECT_EQ(f->get_int_array("tokenizer.ggml.token_type").size(), 49152u);
  EXPECT_FALSE(f->get_string_array("tokenizer.ggml.merges").empty());
  // 30 blocks x 9 tensors + token_embd + output_norm.
  EXPECT_EQ(f->tensors().size(), 272u);
  const TensorInfo& emb = f->tensor("token_embd.weight");
  EXPECT_EQ(emb.ne, (std::vector<int64_t>{576, 49152}));
  int64_t total = 0;
  for (const auto& t : f->tensors()) {
    total += t.n_elements();
    EXPECT_EQ((f->data_offset() + t.offset) % f->alignment(), 0u) << t.name;
  }
  EXPECT_EQ(total, 134515008);  // SmolLM2-135M parameter count (tied embeddings)
}

TEST(GgufModel, DequantisesOneTensorOfEachTypePresent) {
  auto f = open_model();
  std::map<GgmlType, const TensorInfo*> first_of_type;
  for (const auto& t : f->tensors()) first_of_type.emplace(t.type, &t);
  ASSERT_GE(first_of_type.size(), 2u);
  for (const auto& [type, t] : first_of_type) {
    ASSERT_TRUE(ggml_type_dequant_supported(type)) << t->name << " " << ggml_type_name(type);
    std::vector<float> x = f->dequantize_tensor(*t, 2);
    ASSERT_EQ(static_cast<int64_t>(x.size()), t->n_elements());
    double sum_sq = 0;
    for (float v : x) {
      ASSERT_TRUE(std::isfinite(v)) << t->name;
      sum_sq += static_cast<double>(v) * v;
    }
    const double rms = std::sqrt(sum_sq / static_cast<double>(x.size()));
    // Trained weights: neither all zero nor huge.
    EXPECT_GT(rms, 1e-4) << t->name;
    EXPECT_LT(rms, 100.0) << t->name;
    std::cout << "[info] " << t->name << " " << ggml_type_name(type) << " rms " << rms << "\n";
  }
}

TEST(GgufModel, AllQ4_1TensorsSerialAndParallelAgree) {
  // Dequantises every Q4_1 tensor (~106M elements) and reports the throughput on stdout.
  auto f = open_model();
  int64_t n_total = 0;
  double serial_s = 0, parallel_s = 0;
  std::vector<float> a, b;
  for (const auto& t : f->tensors()) {
    if (t.type != GgmlType::Q4_1) continue;
    const int64_t n = t.n_elements();
    a.resize(n);
    b.resize(n);
    auto t0 = std::chrono::steady_clock::now();
    dequantize(t.type, t.data, a.data(), n);
    auto t1 = std::chrono::steady_clock::now();
    dequantize_parallel(t.type, t.data, b.data(), n, 0);
    auto t2 = std::chrono::steady_clock::now();
    serial_s += std::chrono::duration<double>(t1 - t0).count();
    parallel_s += std::chrono::duration<double>(t2 - t1).count();
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), n * 4)) << t.name;
    n_total += n;
  }
  ASSERT_GT(n_total, 100000000);
  std::cout << "[info] Q4_1: " << n_total << " elements, serial " << serial_s << " s ("
            << n_total / serial_s / 1e6 << " M elem/s), parallel " << parallel_s << " s\n";
}
