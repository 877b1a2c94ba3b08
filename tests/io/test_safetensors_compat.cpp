// Compatibility with the reference implementation (PyPI safetensors), via golden files made by
// tools/make_safetensors_golden.py: we read files numpy/torch wrote exactly, and the file our
// writer produces is byte-identical to one Python loaded and checked value by value.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/safetensors.h"

using rs::SafetensorsFile;
using rs::StDtype;

namespace {

const std::string kGolden = std::string(RS_SOURCE_DIR) + "/tests/golden/safetensors/";

// Same formula as canonical_values() in the tool: exact in double, rounded to float32.
std::vector<float> canonical_values(int n, int offset) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i)
    v[i] = static_cast<float>(static_cast<double>((((i + offset) * 7919) % 2001) - 1000) / 37.0);
  return v;
}

std::vector<float> specials() {
  const double inf = std::numeric_limits<double>::infinity();
  const double d[] = {0.0, -0.0, 1.0, -2.5, 65504.0, 65519.0, 65520.0, 1e-7, 5.96e-8, 3.0e38,
                      inf, -inf, 1.0 / 3.0, 1e-40, -7.0e-39};
  std::vector<float> v;
  for (double x : d) v.push_back(static_cast<float>(x));
  return v;
}

rs::SafetensorsWriter canonical_writer() {
  rs::SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.set_metadata("producer", "reasonscope");
  auto f32 = canonical_values(15, 0), f16 = canonical_values(24, 100),
       bf16 = canonical_values(24, 200), sp = specials();
  w.add("weights.f32", StDtype::F32, {3, 5}, f32.data());
  w.add("weights.f16", StDtype::F16, {4, 6}, f16.data());
  w.add("weights.bf16", StDtype::BF16, {2, 3, 4}, bf16.data());
  w.add("special.f16", StDtype::F16, {int64_t(sp.size())}, sp.data());
  w.add("special.bf16", StDtype::BF16, {int64_t(sp.size())}, sp.data());
  w.add("empty", StDtype::F32, {0, 4}, nullptr);
  const float s = 3.25f;
  w.add("scalar", StDtype::F32, {}, &s);
  return w;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

template <typename T>
int64_t read_int(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<int64_t>(v);
}

void check_against_expected(const std::string& file) {
  std::ifstream in(kGolden + "expected.json");
  ASSERT_TRUE(in) << "missing " << kGolden << "expected.json (run tools/make_safetensors_golden.py)";
  const auto all = nlohmann::json::parse(in);
  const auto& exp = all.at(file);
  auto f = SafetensorsFile::open(kGolden + file);
  EXPECT_EQ(f->header_size() % 8, 0u);  // the reference writer pads the header
  for (auto it = exp.at("metadata").begin(); it != exp.at("metadata").end(); ++it)
    EXPECT_EQ(f->metadata().at(it.key()), it.value().get<std::string>());
  ASSERT_EQ(f->tensors().size(), exp.at("tensors").size());
  for (auto it = exp.at("tensors").begin(); it != exp.at("tensors").end(); ++it) {
    SCOPED_TRACE(file + " " + it.key());
    const auto& t = f->tensor(it.key());
    const auto& e = it.value();
    EXPECT_EQ(rs::st_dtype_name(t.dtype), e.at("dtype").get<std::string>());
    EXPECT_EQ(t.shape, e.at("shape").get<std::vector<int64_t>>());
    if (e.contains("f32_bits")) {
      auto want = e.at("f32_bits").get<std::vector<uint32_t>>();
      auto got = rs::st_to_float(t);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(bits(got[i]), want[i]) << "element " << i;
    } else {
      auto want = e.at("ints").get<std::vector<int64_t>>();
      ASSERT_EQ(static_cast<int64_t>(want.size()), t.numel());
      const uint64_t sz = rs::st_dtype_size(t.dtype);
      for (size_t i = 0; i < want.size(); ++i) {
        const uint8_t* p = t.data + i * sz;
        int64_t got = 0;
        switch (t.dtype) {
          case StDtype::I64: got = read_int<int64_t>(p); break;
          case StDtype::I32: got = read_int<int32_t>(p); break;
          case StDtype::I16: got = read_int<int16_t>(p); break;
          case StDtype::I8: got = read_int<int8_t>(p); break;
          case StDtype::U8: case StDtype::BOOL: got = read_int<uint8_t>(p); break;
          default: FAIL() << "unexpected dtype";
        }
        EXPECT_EQ(got, want[i]) << "element " << i;
      }
    }
  }
}

}  // namespace

TEST(Compat, ReadsNumpyWrittenFileExactly) { check_against_expected("python_numpy.safetensors"); }

TEST(Compat, ReadsTorchWrittenFileExactly) { check_against_expected("python_torch.safetensors"); }

TEST(Compat, WriterMatchesGolden) {
  const auto bytes = canonical_writer().to_bytes();
  // The golden tool runs this test with RS_SAFETENSORS_CANONICAL_OUT to get our file.
  if (const char* out = std::getenv("RS_SAFETENSORS_CANONICAL_OUT"))
    rs::write_file_atomic(out, std::string(bytes.begin(), bytes.end()));
  const std::string golden = rs::read_file(kGolden + "written_by_reasonscope.safetensors");
  ASSERT_EQ(golden.size(), bytes.size());
  EXPECT_TRUE(std::string(bytes.begin(), bytes.end()) == golden)
      << "writer output differs from the Python-verified golden file";
  // And the record says Python loaded it with every value equal to its own rounding.
  std::ifstream in(kGolden + "python_check.json");
  ASSERT_TRUE(in);
  auto check = nlohmann::json::parse(in);
  EXPECT_TRUE(check.at("loads_in_safetensors_torch").get<bool>());
  for (auto& [k, v] : check.at("values_equal_torch_rounding").items()) EXPECT_TRUE(v.get<bool>()) << k;
  EXPECT_EQ(check.at("values_equal_torch_rounding").size(), 7u);
}
