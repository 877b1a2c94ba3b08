// Dequantisation bit-exactness against an independent reference: the PyPI gguf package's
// gguf.quants.dequantize, run by tools/make_dequant_golden.py on random blocks. The golden
// file itself is written by the gguf package's GGUFWriter, so reading it also checks our
// reader against an independent writer (metadata of every value type, nested arrays).
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/gguf.h"

using namespace rs;
using namespace rs::gguf;

namespace {

const std::string kGolden = std::string(RS_SOURCE_DIR) + "/tests/golden/dequant/dequant_golden.gguf";

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

// Index of the first float whose bits differ, or -1.
int64_t first_bit_difference(const float* a, const float* b, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (std::memcmp(a + k, b + k, 4) != 0) return k;
  return -1;
}

class DequantGolden : public testing::TestWithParam<GgmlType> {};

}  // namespace

TEST_P(DequantGolden, BitExactWithGgufPackage) {
  const GgmlType type = GetParam();
  auto f = File::open(kGolden);
  const std::string name = ggml_type_name(type);
  const TensorInfo& raw = f->tensor(name + ".raw");
  const TensorInfo& expected = f->tensor(name + ".expected");
  ASSERT_EQ(raw.type, type);
  ASSERT_EQ(expected.type, GgmlType::F32);
  ASSERT_EQ(raw.ne, expected.ne);
  const int64_t n = raw.n_elements();
  ASSERT_EQ(n, 1024);
  std::vector<float> want(static_cast<size_t>(n));
  std::memcpy(want.data(), expected.data, static_cast<size_t>(n) * 4);

  std::vector<float> got(static_cast<size_t>(n), -12345.0f);
  dequantize(type, raw.data, got.data(), n);
  int64_t diff = first_bit_difference(got.data(), want.data(), n);
  EXPECT_EQ(diff, -1) << name << ": element " << diff << " got " << got[diff < 0 ? 0 : diff]
                      << " want " << want[diff < 0 ? 0 : diff];

  // Row by row (each row a separate call) and in parallel give the same bits.
  const int64_t row = raw.ne[0];
  const uint64_t row_bytes = ggml_row_bytes(type, row);
  std::vector<float> rows(static_cast<size_t>(n));
  for (int64_t r = 0; r < n / row; ++r)
    dequantize(type, raw.data + r * row_bytes, rows.data() + r * row, row);
  EXPECT_EQ(first_bit_difference(rows.data(), want.data(), n), -1) << name << " by rows";
  std::vector<float> par(static_cast<size_t>(n));
  dequantize_parallel(type, raw.data, par.data(), n, 4);
  EXPECT_EQ(first_bit_difference(par.data(), want.data(), n), -1) << name << " parallel";

  // The golden data must exercise the type: not all zero, some negative results for the
  // signed formats.
  bool any_nonzero = false;
  for (float v : want) any_nonzero |= (v != 0.0f);
  EXPECT_TRUE(any_nonzero);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantGolden, testing::ValuesIn(kTypes),
                         [](const testing::TestParamInfo<GgmlType>& i) {
                           return std::string(ggml_type_name(i.param));
                         });

TEST(GgufGolden, MetadataWrittenByGgufPackage) {
  auto f = File::open(kGolden);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->get_string("general.architecture"), "golden");
  // Values as declared in tools/make_dequant_golden.py add_metadata().
  EXPECT_EQ(f->find("golden.u8")->type, ValueType::UINT8);
  EXPECT_EQ(f->get_int("golden.u8"), 200);
  EXPECT_EQ(f->find("golden.i8")->type, ValueType::INT8);
  EXPECT_EQ(f->get_int("golden.i8"), -100);
  EXPECT_EQ(f->find("golden.u16")->type, ValueType::UINT16);
  EXPECT_EQ(f->get_int("golden.u16"), 60000);
  EXPECT_EQ(f->find("golden.i16")->type, ValueType::INT16);
  EXPECT_EQ(f->get_int("golden.i16"), -30000);
  EXPECT_EQ(f->find("golden.u32")->type, ValueType::UINT32);
  EXPECT_EQ(f->get_int("golden.u32"), 4000000000LL);
  EXPECT_EQ(f->find("golden.i32")->type, ValueType::INT32);
  EXPECT_EQ(f->get_int("golden.i32"), -2000000000LL);
  EXPECT_EQ(f->find("golden.f32")->type, ValueType::FLOAT32);
  EXPECT_EQ(f->get_float("golden.f32"), 0.15625);
  EXPECT_EQ(f->find("golden.bool")->type, ValueType::BOOL);
  EXPECT_TRUE(f->get_bool("golden.bool"));
  EXPECT_EQ(f->get_string("golden.string"), "h\xc3\xa9llo\nw\xc3\xb6rld");
  EXPECT_EQ(f->find("golden.u64")->type, ValueType::UINT64);
  EXPECT_EQ(f->find("golden.u64")->u, 18000000000000000000ull);
  EXPECT_EQ(f->find("golden.i64")->type, ValueType::INT64);
  EXPECT_EQ(f->get_int("golden.i64"), -9000000000000000000LL);
  EXPECT_EQ(f->find("golden.f64")->type, ValueType::FLOAT64);
  EXPECT_EQ(f->get_float("golden.f64"), -2.5e-300);
  EXPECT_EQ(f->get_int_array("golden.arr_i32"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f->get_string_array("golden.arr_str"), (std::vector<std::string>{"a", "", "ccc"}));
  const Value* nested = f->find("golden.arr_nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->elem_type, ValueType::ARRAY);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ(nested->item(0), Value::of_array(ValueType::INT32, {Value::of_i32(1), Value::of_i32(2)}));
  EXPECT_EQ(nested->item(1), Value::of_array(ValueType::INT32, {Value::of_i32(3)}));
}

TEST(GgufGolden, RewrittenByOurWriterReadsBackIdentically) {
  // reader(writer(reader(python file))) keeps every key, value and tensor byte.
  auto f = File::open(kGolden);
  Writer w;
  for (const auto& [k, v] : f->metadata()) w.set(k, v);
  for (const auto& t : f->tensors())
    w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.nbytes));
  std::vector<uint8_t> bytes = w.to_bytes();
  auto g = File::from_memory(bytes.data(), bytes.size(), "rewritten.gguf");
  ASSERT_EQ(g->metadata().size(), f->metadata().size());
  for (size_t i = 0; i < f->metadata().size(); ++i) {
    EXPECT_EQ(g->metadata()[i].first, f->metadata()[i].first);
    EXPECT_EQ(g->metadata()[i].second, f->metadata()[i].second) << f->metadata()[i].first;
  }
  ASSERT_EQ(g->tensors().size(), f->tensors().size());
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const TensorInfo& a = f->tensors()[i];
    const TensorInfo& b = g->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.ne, b.ne);
    EXPECT_EQ(a.offset, b.offset);  // same alignment rule as the gguf package
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes)) << a.name;
  }
}
