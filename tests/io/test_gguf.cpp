// GGUF writer -> reader round trips for every metadata type, tensors, alignment, versions,
// and the typed getters' errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unistd.h>

#include "core/error.h"
#include "io/gguf.h"

using namespace rs;
using namespace rs::gguf;

namespace {

std::unique_ptr<File> reread(const Writer& w, const std::string& name = "mem.gguf") {
  static std::vector<uint8_t> keep;  // the File points into these bytes
  keep = w.to_bytes();
  return File::from_memory(keep.data(), keep.size(), name);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// One value of every scalar type, with extremes.
std::vector<std::pair<std::string, Value>> every_scalar() {
  Value u64max = Value::of_u64(std::numeric_limits<uint64_t>::max());
  return {
      {"t.u8", Value::of_u8(255)},
      {"t.i8", Value::of_i8(-128)},
      {"t.u16", Value::of_u16(65535)},
      {"t.i16", Value::of_i16(-32768)},
      {"t.u32", Value::of_u32(4294967295u)},
      {"t.i32", Value::of_i32(std::numeric_limits<int32_t>::min())},
      {"t.f32", Value::of_f32(-1.5e-20f)},
      {"t.bool_t", Value::of_bool(true)},
      {"t.bool_f", Value::of_bool(false)},
      {"t.string", Value::of_string(std::string("a\0b\xff\n", 5))},
      {"t.empty_string", Value::of_string("")},
      {"t.u64", u64max},
      {"t.i64", Value::of_i64(std::numeric_limits<int64_t>::min())},
      {"t.f64", Value::of_f64(3.141592653589793e300)},
      {"t.f32_nan", Value::of_f32(std::numeric_limits<float>::quiet_NaN())},
      {"t.f64_inf", Value::of_f64(-std::numeric_limits<double>::infinity())},
  };
}

}  // namespace

TEST(GgufRoundTrip, EveryScalarType) {
  Writer w;
  auto values = every_scalar();
  for (auto& [k, v] : values) w.set(k, v);
  auto f = reread(w);
  ASSERT_EQ(f->metadata().size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(f->metadata()[i].first, values[i].first);  // file order kept
    EXPECT_EQ(f->metadata()[i].second, values[i].second) << values[i].first << ": "
                                                         << f->metadata()[i].second.to_string();
  }
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_string("t.string"), std::string("a\0b\xff\n", 5));
  EXPECT_EQ(f->get_int("t.i8"), -128);
  EXPECT_EQ(f->get_int("t.u32"), 4294967295LL);
  EXPECT_TRUE(f->get_bool("t.bool_t"));
  EXPECT_FALSE(f->get_bool("t.bool_f"));
  EXPECT_FLOAT_EQ(static_cast<float>(f->get_float("t.f32")), -1.5e-20f);
  EXPECT_DOUBLE_EQ(f->get_float("t.f64"), 3.141592653589793e300);
  EXPECT_DOUBLE_EQ(f->get_float("t.u16"), 65535.0);  // integers read as floats too
  EXPECT_TRUE(std::isnan(f->get_float("t.f32_nan")));
}

TEST(GgufRoundTrip, ArraysOfEveryTypeAndNested) {
  Writer w;
  std::vector<std::pair<std::string, Value>> arrays;
  for (auto& [k, v] : every_scalar()) {
    // Arrays of 0, 1 and 3 items of each scalar type.
    arrays.push_back({k + ".arr0", Value::of_array(v.type, {})});
    arrays.push_back({k + ".arr1", Value::of_array(v.type, {v})});
    arrays.push_back({k + ".arr3", Value::of_array(v.type, {v, v, v})});
  }
  Value inner1 = Value::of_array(ValueType::INT32, {Value::of_i32(1), Value::of_i32(-2)});
  Value inner2 = Value::of_array(ValueType::STRING, {Value::of_string("x")});
  Value nested = Value::of_array(ValueType::ARRAY, {inner1, inner2, Value::of_array(ValueType::UINT8, {})});
  Value deeper = Value::of_array(ValueType::ARRAY, {nested, nested});
  arrays.push_back({"nested", nested});
  arrays.push_back({"deeper", deeper});
  for (auto& [k, v] : arrays) w.set(k, v);
  auto f = reread(w);
  ASSERT_EQ(f->metadata().size(), arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i)
    EXPECT_EQ(f->metadata()[i].second, arrays[i].second) << arrays[i].first;
  EXPECT_EQ(f->find("deeper")->item(1).item(1).item(0).s, "x");
  EXPECT_EQ(f->get_int_array("t.i16.arr3"), (std::vector<int64_t>{-32768, -32768, -32768}));
  EXPECT_EQ(f->get_string_array("t.string.arr1").at(0), std::string("a\0b\xff\n", 5));
  EXPECT_EQ(f->get_float_array("t.f64.arr1").at(0), 3.141592653589793e300);
  EXPECT_TRUE(f->get_int_array("t.u8.arr0").empty());
}

TEST(GgufRoundTrip, ValueEqualityDetectsDifferences) {
  EXPECT_NE(Value::of_u32(1), Value::of_u64(1));
  EXPECT_NE(Value::of_string("a"), Value::of_string("b"));
  EXPECT_NE(Value::of_array(ValueType::UINT8, {}), Value::of_array(ValueType::INT8, {}));
  EXPECT_NE(Value::of_array(ValueType::UINT8, {Value::of_u8(1)}),
            Value::of_array(ValueType::UINT8, {Value::of_u8(2)}));
}

TEST(GgufRoundTrip, SetReplacesExistingKeyInPlace) {
  Writer w;
  w.set("a", Value::of_u32(1));
  w.set("b", Value::of_u32(2));
  w.set("a", Value::of_string("again"));
  auto f = reread(w);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(f->get_string("a"), "again");
}

TEST(GgufRoundTrip, TensorsF32F16AndRaw) {
  Writer w;
  std::vector<float> a(6 * 5);
  for (size_t k = 0; k < a.size(); ++k) a[k] = static_cast<float>(k) * 0.37f - 4.0f;
  std::vector<float> b = {1.0f, -2.0f, 0.5f, 65504.0f, 1e-7f, 0.0f, -0.0f, 3.14159f};
  w.add_tensor_f32("a", {6, 5}, a.data());
  w.add_tensor_f16("b", {8}, b.data());
  std::vector<uint8_t> q(2 * 20);
  for (size_t k = 0; k < q.size(); ++k) q[k] = static_cast<uint8_t>(k * 7 + 1);
  w.add_tensor("q", GgmlType::Q4_1, {64, 1, 1, 1}, q);
  auto f = reread(w);
  ASSERT_EQ(f->tensors().size(), 3u);
  const TensorInfo& ta = f->tensor("a");
  EXPECT_EQ(ta.ne, (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(ta.type, GgmlType::F32);
  EXPECT_EQ(ta.n_elements(), 30);
  EXPECT_EQ(ta.nbytes, 120u);
  EXPECT_EQ(0, std::memcmp(ta.data, a.data(), 120));
  EXPECT_EQ(f->dequantize_tensor(ta), a);
  const TensorInfo& tb = f->tensor("b");
  EXPECT_EQ(tb.type, GgmlType::F16);
  std::vector<float> bb = f->dequantize_tensor(tb);
  for (size_t k = 0; k < b.size(); ++k) EXPECT_EQ(bb[k], fp16_to_fp32(fp32_to_fp16(b[k]))) << k;
  EXPECT_EQ(bb[3], 65504.0f);
  EXPECT_TRUE(std::signbit(bb[6]));
  const TensorInfo& tq = f->tensor("q");
  EXPECT_EQ(tq.ne.size(), 4u);
  EXPECT_EQ(tq.nbytes, 40u);
  EXPECT_EQ(0, std::memcmp(tq.data, q.data(), 40));
  // Tensor data sits at multiples of the alignment inside the file.
  for (const auto& t : f->tensors()) {
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ((f->data_offset() + t.offset) % 32, 0u);
  }
  EXPECT_EQ(f->find_tensor("missing"), nullptr);
  std::string err = error_of([&] { f->tensor("missing"); });
  EXPECT_NE(err.find("mem.gguf"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST(GgufRoundTrip, CustomAlignment) {
  for (uint32_t al : {1u, 8u, 64u, 4096u}) {
    Writer w;
    w.set("general.alignment", Value::of_u32(al));
    std::vector<float> x(3, 1.0f), y(5, 2.0f);
    w.add_tensor_f32("x", {3}, x.data());
    w.add_tensor_f32("y", {5}, y.data());
    auto f = reread(w);
    EXPECT_EQ(f->alignment(), al);
    EXPECT_EQ(f->data_offset() % al, 0u);
    EXPECT_EQ(f->tensor("y").offset % al, 0u);
    if (al >= 16) {
      EXPECT_EQ(f->tensor("y").offset, al);  // x (12 bytes) padded to one unit
    }
    EXPECT_EQ(f->dequantize_tensor(f->tensor("y")), y);  // alignment 1: unaligned floats
  }
}

TEST(GgufRoundTrip, WriteToFileIsAtomicAndReadable) {
  std::string path = testing::TempDir() + "rs_gguf_write_" + std::to_string(::getpid()) + ".gguf";
  Writer w;
  w.set("general.architecture", Value::of_string("llama"));
  std::vector<float> x = {1, 2, 3, 4};
  w.add_tensor_f32("x", {2, 2}, x.data());
  w.write(path);
  {
    auto f = File::open(path);
    EXPECT_EQ(f->path(), path);
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->dequantize_tensor(f->tensor("x")), x);
    std::vector<uint8_t> mem = w.to_bytes();
    FILE* fp = std::fopen(path.c_str(), "rb");
    ASSERT_NE(fp, nullptr);
    std::vector<uint8_t> disk(mem.size() + 1);
    EXPECT_EQ(std::fread(disk.data(), 1, disk.size(), fp), mem.size());
    std::fclose(fp);
    disk.resize(mem.size());
    EXPECT_EQ(disk, mem);  // write() and to_bytes() agree byte for byte
  }
  // No temporary left behind.
  EXPECT_NE(::access((path + ".tmp." + std::to_string(::getpid())).c_str(), F_OK), 0);
  std::remove(path.c_str());
}

TEST(GgufVersions, Version2AcceptedVersion1AndBigEndianRefused) {
  Writer w;
  w.set("k", Value::of_string("v"));
  std::vector<uint8_t> bytes = w.to_bytes();
  bytes[4] = 2;
  auto f = File::from_memory(bytes.data(), bytes.size(), "v2.gguf");
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->get_string("k"), "v");

  bytes[4] = 1;
  std::string err = error_of([&] { File::from_memory(bytes.data(), bytes.size(), "v1.gguf"); });
  EXPECT_NE(err.find("v1.gguf: offset 4"), std::string::npos) << err;
  EXPECT_NE(err.find("version 1"), std::string::npos) << err;

  bytes[4] = 0; bytes[7] = 3;  // version stored big-endian
  err = error_of([&] { File::from_memory(bytes.data(), bytes.size(), "be.gguf"); });
  EXPECT_NE(err.find("big-endian"), std::string::npos) << err;

  bytes[7] = 0; bytes[4] = 9;
  err = error_of([&] { File::from_memory(bytes.data(), bytes.size(), "v9.gguf"); });
  EXPECT_NE(err.find("found 9"), std::string::npos) << err;
}

TEST(GgufGetters, WrongTypeAndMissingKeyErrorsNameFileAndKey) {
  Writer w;
  w.set("s", Value::of_string("x"));
  w.set("i", Value::of_i32(-3));
  w.set("big", Value::of_u64(std::numeric_limits<uint64_t>::max()));
  w.set("arr", Value::of_array(ValueType::FLOAT32, {Value::of_f32(1.5f)}));
  auto f = reread(w, "get.gguf");
  std::string err = error_of([&] { f->get_int("s"); });
  EXPECT_EQ(err, "get.gguf: metadata key s: expected an integer, found STRING");
  err = error_of([&] { f->get_string("nope"); });
  EXPECT_NE(err.find("get.gguf: metadata key nope: missing"), std::string::npos) << err;
  err = error_of([&] { f->get_bool("i"); });
  EXPECT_EQ(err, "get.gguf: metadata key i: expected BOOL, found INT32");
  err = error_of([&] { f->get_string_array("arr"); });
  EXPECT_EQ(err, "get.gguf: metadata key arr: expected ARRAY of STRING, found ARRAY of FLOAT32");
  err = error_of([&] { f->get_int_array("arr"); });
  EXPECT_NE(err.find("expected ARRAY of integers"), std::string::npos) << err;
  err = error_of([&] { f->get_int("big"); });
  EXPECT_NE(err.find("2^63-1"), std::string::npos) << err;
  EXPECT_EQ(f->get_float_array("arr"), std::vector<double>{1.5});
  EXPECT_EQ(f->get_int_or("absent", 7), 7);
  EXPECT_EQ(f->get_string_or("absent", "d"), "d");
  EXPECT_EQ(f->get_float_or("i", 0.0), -3.0);
  EXPECT_TRUE(f->get_bool_or("absent", true));
  EXPECT_THROW(f->get_int_or("s", 1), Error);  // present with the wrong type still throws
  EXPECT_EQ(f->find("arr")->to_string(), "[1 x FLOAT32: 1.5]");
}

TEST(GgufWriter, RejectsBadInput) {
  Writer w;
  EXPECT_THROW(w.set("x", [] { Value v = Value::of_u8(0); v.u = 256; return v; }()), Error);
  EXPECT_THROW(w.set("x", [] { Value v = Value::of_i16(0); v.i = 40000; return v; }()), Error);
  EXPECT_THROW(w.set("x", Value::of_array(ValueType::UINT32, {Value::of_i32(1)})), Error);
  EXPECT_THROW(w.set("general.alignment", Value::of_u32(3)), Error);
  EXPECT_THROW(w.set("general.alignment", Value::of_string("32")), Error);
  std::vector<float> x(4);
  w.add_tensor_f32("t", {4}, x.data());
  EXPECT_THROW(w.add_tensor_f32("t", {4}, x.data()), Error);                       // duplicate
  EXPECT_THROW(w.add_tensor("q", GgmlType::Q4_0, {16}, std::vector<uint8_t>(9)), Error);  // ne[0] % 32
  EXPECT_THROW(w.add_tensor("q", GgmlType::Q4_0, {32}, std::vector<uint8_t>(17)), Error); // size
  EXPECT_THROW(w.add_tensor("q", GgmlType::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)), Error);
  EXPECT_THROW(w.add_tensor("q", GgmlType::F32, {0}, {}), Error);
  EXPECT_THROW(w.add_tensor("q", static_cast<GgmlType>(4), {1}, std::vector<uint8_t>(4)), Error);
  w.add_tensor("q", GgmlType::Q4_0, {32, 2}, std::vector<uint8_t>(36));
}

TEST(GgmlTypes, SizesAndNames) {
  EXPECT_EQ(ggml_type_size(GgmlType::Q4_1), 20u);
  EXPECT_EQ(ggml_block_size(GgmlType::Q6_K), 256);
  EXPECT_EQ(ggml_type_size(GgmlType::Q6_K), 210u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q5_K), 176u);
  EXPECT_EQ(ggml_type_size(GgmlType::Q4_K), 144u);
  EXPECT_EQ(ggml_nbytes(GgmlType::Q8_0, {64, 3}), 2u * 34u * 3u);
  EXPECT_STREQ(ggml_type_name(GgmlType::BF16), "BF16");
  EXPECT_FALSE(ggml_type_known(4));
  EXPECT_FALSE(ggml_type_known(31));
  EXPECT_TRUE(ggml_type_known(30));
  EXPECT_TRUE(ggml_type_known(39));
  EXPECT_THROW(ggml_nbytes(GgmlType::Q4_0, {33}), Error);
  EXPECT_THROW(ggml_nbytes(GgmlType::F32, {1LL << 40, 1LL << 40}), Error);  // overflow
  EXPECT_FALSE(ggml_type_dequant_supported(GgmlType::Q2_K));
  EXPECT_TRUE(ggml_type_dequant_supported(GgmlType::Q5_1));
}
