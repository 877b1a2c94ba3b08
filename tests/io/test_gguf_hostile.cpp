// Hostile GGUF files: truncations, absurd counts and lengths, unknown types, bad dims,
// offsets past the end, misaligned and overlapping tensors, duplicates. Each must give one
// rs::Error naming the file and a byte offset, and nothing may crash (the sanitizer build
// runs this too).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "core/error.h"
#include "io/gguf.h"

using namespace rs;
using namespace rs::gguf;

namespace {

const char* kName = "hostile.gguf";

// Parses bytes; returns "" on success, else the error message. Anything but rs::Error
// escapes and fails the test.
std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    auto f = File::from_memory(bytes.data(), bytes.size(), kName);
    for (const auto& t : f->tensors())
      if (ggml_type_dequant_supported(t.type)) (void)f->dequantize_tensor(t);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Asserts one clear error: names the file and an offset, and mentions `what`.
void expect_error(const std::vector<uint8_t>& bytes, const std::string& what, const char* label) {
  std::string err = parse_error(bytes);
  ASSERT_FALSE(err.empty()) << label << ": accepted a hostile file";
  EXPECT_EQ(err.rfind(std::string(kName) + ": offset ", 0), 0u) << label << ": " << err;
  EXPECT_NE(err.find(what), std::string::npos) << label << ": expected '" << what << "' in: " << err;
}

// Hand-built GGUF bytes, so that any field can hold any value.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return put<uint32_t>(0x46554747u).put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  }
  Bytes& kv_u32(const std::string& k, uint32_t v) { return str(k).put<uint32_t>(4).put<uint32_t>(v); }
  Bytes& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) put<uint64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Bytes& pad(size_t align = 32) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Bytes& data(size_t n, uint8_t fill = 0) {
    b.insert(b.end(), n, fill);
    return *this;
  }
};

// A small valid file from the Writer: several metadata types, nested arrays, 4 tensors.
std::vector<uint8_t> valid_file() {
  Writer w;
  w.set("general.architecture", Value::of_string("llama"));
  w.set("llama.block_count", Value::of_u32(2));
  w.set("f", Value::of_f32(1e-5f));
  w.set("flag", Value::of_bool(true));
  w.set("tokens", Value::of_array(ValueType::STRING, {Value::of_string("<s>"), Value::of_string("ab")}));
  w.set("nested", Value::of_array(ValueType::ARRAY,
                                  {Value::of_array(ValueType::INT64, {Value::of_i64(-1)})}));
  std::vector<float> x(40);
  for (size_t k = 0; k < x.size(); ++k) x[k] = 0.25f * static_cast<float>(k);
  w.add_tensor_f32("a", {8, 5}, x.data());
  w.add_tensor_f16("b", {4, 2}, x.data());
  std::vector<uint8_t> q(2 * 18, 0x11);
  w.add_tensor("c", GgmlType::Q4_0, {32, 2}, q);
  std::vector<uint8_t> k6(210, 0x22);
  w.add_tensor("d", GgmlType::Q6_K, {256}, k6);
  return w.to_bytes();
}

}  // namespace

TEST(GgufHostile, ValidFileParses) {
  auto bytes = valid_file();
  EXPECT_EQ(parse_error(bytes), "");
}

TEST(GgufHostile, TruncatedAtEveryHeaderByteAndSampledDataBytes) {
  auto bytes = valid_file();
  auto f = File::from_memory(bytes.data(), bytes.size(), kName);
  uint64_t data_end = 0;  // end of the last tensor's bytes: cuts past it lose only padding
  for (const auto& t : f->tensors()) data_end = std::max(data_end, f->data_offset() + t.offset + t.nbytes);
  ASSERT_GT(data_end, f->data_offset());
  int cuts = 0;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    if (cut > f->data_offset() && cut % 7 != 0 && cut + 1 != data_end) continue;  // sample data region
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    std::string err = parse_error(part);
    if (cut < data_end) {
      ASSERT_FALSE(err.empty()) << "truncated at " << cut << " accepted";
      EXPECT_EQ(err.rfind(std::string(kName) + ": offset ", 0), 0u) << "cut " << cut << ": " << err;
    } else {
      EXPECT_EQ(err, "") << "cut " << cut;
    }
    ++cuts;
  }
  EXPECT_GT(cuts, static_cast<int>(f->data_offset()));
}

TEST(GgufHostile, HeaderErrors) {
  expect_error({}, "magic", "empty");
  expect_error({'G', 'G'}, "magic", "2 bytes");
  expect_error(Bytes().put<uint32_t>(0x46554746u).put<uint32_t>(3).b, "magic", "bad magic");
  expect_error(Bytes().header(0, 0, 1).b, "version 1", "v1");
  expect_error(Bytes().header(0, 0, 0x03000000u).b, "big-endian", "big-endian");
  expect_error(Bytes().header(0, 0, 4).b, "version 2 or 3", "v4");
  expect_error(Bytes().put<uint32_t>(0x46554747u).put<uint32_t>(3).put<uint64_t>(0).b,
               "metadata key/value count", "cut in counts");
}

TEST(GgufHostile, AbsurdCountsAndLengths) {
  expect_error(Bytes().header(0, 1ull << 60).b, "metadata count", "n_kv huge");
  expect_error(Bytes().header(1ull << 62, 0).b, "tensor count", "n_tensors huge");
  expect_error(Bytes().header(~0ull, ~0ull).b, "count", "both max");
  // Key length 2^63.
  expect_error(Bytes().header(0, 1).put<uint64_t>(1ull << 63).data(16).b, "metadata key", "key length");
  // String value longer than the file.
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1000).data(10).b,
               "string value of 1000 bytes", "string length");
  // Array counts: plain huge, and huge for strings (8 bytes each at least).
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(~0ull).data(8).b,
               "array of", "array count");
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(3).data(23).b,
               "array of 3 STRING", "string array count");
  // Array count that fits the bytes, then a string inside that does not.
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2)
                   .str("ok").put<uint64_t>(99).b,
               "string value", "inner string");
}

TEST(GgufHostile, UnknownAndInvalidValueTypes) {
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(13).data(8).b, "value type", "type 13");
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(0xffffffffu).data(8).b, "value type", "type max");
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(0).b,
               "array element type", "elem 77");
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2).b, "BOOL", "bool 2");
  // Arrays nested beyond the limit.
  Bytes deep;
  deep.header(0, 1).str("k").put<uint32_t>(9);
  for (int d = 0; d < 40; ++d) deep.put<uint32_t>(9).put<uint64_t>(1);
  deep.put<uint32_t>(0).put<uint64_t>(0);
  expect_error(deep.b, "nested deeper", "deep nesting");
  // 2^20 levels of nesting must not overflow the stack either.
  Bytes deeper;
  deeper.header(0, 1).str("k").put<uint32_t>(9);
  for (int d = 0; d < (1 << 20); ++d) deeper.put<uint32_t>(9).put<uint64_t>(1);
  expect_error(deeper.b, "nested deeper", "very deep nesting");
}

TEST(GgufHostile, DuplicateKeysAndTensorNames) {
  expect_error(Bytes().header(0, 2).kv_u32("a", 1).kv_u32("a", 2).b, "duplicate metadata key \"a\"", "dup key");
  expect_error(Bytes().header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad().data(64).b,
               "duplicate tensor name \"t\"", "dup tensor");
}

TEST(GgufHostile, BadAlignment) {
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 0).b, "general.alignment", "align 0");
  expect_error(Bytes().header(0, 1).kv_u32("general.alignment", 48).b, "power of two", "align 48");
  expect_error(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(8).str("32").b,
               "general.alignment: expected an integer", "align string");
  expect_error(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(5).put<int32_t>(-32).b,
               "power of two", "align negative");
}

TEST(GgufHostile, BadDimensions) {
  auto one = [](std::vector<uint64_t> ne, uint32_t type = 0) {
    return Bytes().header(1, 0).tensor("t", std::move(ne), type, 0).pad().data(4096).b;
  };
  expect_error(one({1, 1, 1, 1, 1}), "expected 1..4 dimensions, found 5", "n_dims 5");
  expect_error(Bytes().header(1, 0).str("t").put<uint32_t>(0xffffffffu).data(64).b, "dimensions", "n_dims max");
  expect_error(Bytes().header(1, 0).str("t").put<uint32_t>(0).put<uint32_t>(0).put<uint64_t>(0).pad().data(64).b,
               "found 0", "n_dims 0");
  expect_error(one({4, 0}), "dimension 1", "dim 0");
  expect_error(one({1ull << 63}), "dimension 0", "dim negative as int64");
  expect_error(one({1ull << 32, 1ull << 32}), "overflows", "element overflow");
  expect_error(one({1ull << 20, 1ull << 20, 1ull << 20, 1ull << 20}), "overflows", "4-d overflow");
  expect_error(one({33}, static_cast<uint32_t>(GgmlType::Q4_0)), "multiple of 32", "ne0 % block");
  expect_error(one({100}, static_cast<uint32_t>(GgmlType::Q6_K)), "multiple of 256", "ne0 % 256");
  // Element count fits int64 but the byte count (x4 for F32) is past any file.
  expect_error(one({1ull << 61}), "", "bytes past end");
}

TEST(GgufHostile, UnknownTensorTypes) {
  for (uint32_t type : {4u, 5u, 31u, 33u, 1000u, 0xffffffffu}) {
    expect_error(Bytes().header(1, 0).tensor("t", {32}, type, 0).pad().data(256).b,
                 "unknown ggml type id " + std::to_string(type), "unknown type");
  }
  // A known type without a dequantiser still opens (and is just not dequantised).
  EXPECT_EQ(parse_error(Bytes().header(1, 0).tensor("t", {256}, static_cast<uint32_t>(GgmlType::Q2_K), 0)
                            .pad().data(84).b), "");
}

TEST(GgufHostile, OffsetsPastTheEnd) {
  expect_error(Bytes().header(1, 0).tensor("t", {8}, 0, 1ull << 40).pad().data(32).b,
               "extend past the end", "offset far past end");
  expect_error(Bytes().header(1, 0).tensor("t", {8}, 0, 0).pad().data(31).b,
               "extend past the end", "one byte short");
  expect_error(Bytes().header(1, 0).tensor("t", {8}, 0, 0xffffffffffffffe0ull).pad().data(32).b,
               "extend past the end", "offset near 2^64");
  expect_error(Bytes().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {16}, 0, 32).pad().data(80).b,
               "\"b\"", "second tensor partly past end");
  // No data section at all.
  expect_error(Bytes().header(1, 0).tensor("t", {8}, 0, 0).b, "extend past the end", "no data");
}

TEST(GgufHostile, MisalignedAndOverlappingTensors) {
  expect_error(Bytes().header(1, 0).tensor("t", {8}, 0, 4).pad().data(64).b,
               "not a multiple of the alignment 32", "misaligned");
  expect_error(Bytes().header(1, 1).kv_u32("general.alignment", 64).tensor("t", {8}, 0, 32).pad(64).data(128).b,
               "alignment 64", "misaligned custom");
  expect_error(Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().data(128).b,
               "overlaps tensor \"a\"", "overlap");
  expect_error(Bytes().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 0).pad().data(64).b,
               "overlaps", "same offset");
  // Listed out of order but disjoint: fine.
  EXPECT_EQ(parse_error(Bytes().header(2, 0).tensor("a", {8}, 0, 32).tensor("b", {8}, 0, 0).pad().data(64).b), "");
}

TEST(GgufHostile, CorruptingEveryFieldOfAValidFileNeverCrashes) {
  // Overwrite each byte of the structure region with a few hostile values; each result is
  // either a valid file or one rs::Error naming the file and an offset.
  auto bytes = valid_file();
  auto f = File::from_memory(bytes.data(), bytes.size(), kName);
  const size_t structure_end = f->data_offset();
  const uint8_t values[] = {0x00, 0x01, 0x05, 0x7f, 0x80, 0xff};
  int errors = 0, accepted = 0;
  for (size_t pos = 0; pos < structure_end; ++pos) {
    for (uint8_t v : values) {
      if (bytes[pos] == v) continue;
      auto mutated = bytes;
      mutated[pos] = v;
      std::string err = parse_error(mutated);
      if (err.empty()) {
        ++accepted;
      } else {
        ++errors;
        EXPECT_EQ(err.rfind(std::string(kName) + ": offset ", 0), 0u) << "byte " << pos << ": " << err;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(accepted, 0);  // e.g. changed characters inside strings are still valid files
}

TEST(GgufHostile, RandomMutationsNeverCrash) {
  auto bytes = valid_file();
  std::mt19937_64 rng(12345);
  for (int iter = 0; iter < 20000; ++iter) {
    auto mutated = bytes;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) {
      const size_t pos = rng() % mutated.size();
      switch (rng() % 3) {
        case 0: mutated[pos] = static_cast<uint8_t>(rng()); break;
        case 1: mutated[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        default: mutated.resize(pos); break;
      }
      if (mutated.empty()) break;
    }
    std::string err = parse_error(mutated);
    if (!err.empty()) {
      EXPECT_EQ(err.rfind(std::string(kName) + ": offset ", 0), 0u) << err;
    }
  }
}

TEST(GgufHostile, TruncatedFileOnDiskNamesItsPath) {
  auto bytes = valid_file();
  const std::string path = testing::TempDir() + "rs_hostile_truncated.gguf";
  FILE* fp = std::fopen(path.c_str(), "wb");
  ASSERT_NE(fp, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size() / 3, fp);
  std::fclose(fp);
  try {
    File::open(path);
    ADD_FAILURE() << "truncated file accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": offset ", 0), 0u) << e.what();
  }
  std::remove(path.c_str());
}

// A metadata array costs about its size in the file whatever its element type. One decoded
// Value per element (~100 bytes) let a 100 MB UINT8 array ask for 10 GB (issue 21).
TEST(GgufHostile, ArraysCostAboutTheirSizeInTheFile) {
  struct Case { uint32_t type; uint64_t elem_bytes; Value last; };
  const Case cases[] = {
      {0, 1, Value::of_u8(0)},
      {7, 1, Value::of_bool(false)},
      {3, 2, Value::of_i16(0)},
      {12, 8, Value::of_f64(0.0)},
      {8, 8, Value::of_string("")},                              // empty strings: just a length
      {9, 12, Value::of_array(ValueType::UINT8, {})},            // empty arrays: type + count
  };
  const uint64_t n = 1u << 20;
  for (const Case& c : cases) {
    Bytes b;
    b.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(c.type).put<uint64_t>(n).data(n * c.elem_bytes);
    auto f = File::from_memory(b.b.data(), b.b.size(), kName);
    const Value* v = f->find("k");
    ASSERT_NE(v, nullptr);
    ASSERT_EQ(v->size(), n) << value_type_name(c.last.type);
    EXPECT_LE(v->raw.capacity(), n * c.elem_bytes) << value_type_name(c.last.type);
    EXPECT_EQ(v->item(n - 1), c.last) << value_type_name(c.last.type);
  }
}

TEST(GgufHostile, InvalidElementsInsideArrays) {
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(7).put<uint64_t>(3)
                   .put<uint8_t>(1).put<uint8_t>(0).put<uint8_t>(2).b,
               "BOOL (0 or 1), found 2", "bool 2 in an array");
  // Nested: an inner array whose count exceeds what is left.
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1)
                   .put<uint32_t>(4).put<uint64_t>(5).data(8).b,
               "array of 5 UINT32", "inner array count");
}
