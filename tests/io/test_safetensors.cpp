// safetensors reader/writer: round trips (single and sharded), conversions, and hostile files
// (every truncation point, each header validation) giving one rs::Error with file + offset/key.
#include <gtest/gtest.h>

#include <ctime>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "io/ggml_types.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;
using rs::SafetensorsFile;
using rs::SafetensorsModel;
using rs::SafetensorsWriter;
using rs::StDtype;

namespace {

std::string tmp_dir(const std::string& tag) {
  auto d = fs::temp_directory_path() /
           ("rs_st_" + tag + "_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.f, 2.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// A file built by hand: 8-byte length, header text as given (no padding), data bytes.
// "1, 1, ..., 1" (n ones): a JSON array body.
std::string ones(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += i ? ", 1" : "1";
  return s;
}

std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) out[8 + header.size() + i] = static_cast<uint8_t>(i);
  return out;
}

// Parses bytes and returns the rs::Error message ("" if it parsed).
std::string error_of(const std::vector<uint8_t>& bytes, size_t size = SIZE_MAX) {
  try {
    SafetensorsFile::from_memory(bytes.data(), std::min(size, bytes.size()), "bad.safetensors");
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

SafetensorsWriter sample_writer() {
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  auto a = random_floats(6, 1), b = random_floats(12, 2), c = random_floats(10, 3);
  w.add("model.embed_tokens.weight", StDtype::F32, {2, 3}, a.data());
  w.add("model.layers.0.self_attn.q_proj.weight", StDtype::F16, {3, 4}, b.data());
  w.add("model.norm.weight", StDtype::BF16, {10}, c.data());
  return w;
}

}  // namespace

TEST(Safetensors, RoundTripF32F16BF16WithMetadata) {
  const auto a = random_floats(2 * 3 * 4, 11), b = random_floats(7 * 5, 12), c = random_floats(9, 13);
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.set_metadata("note", "ünïcödé ✓");
  w.add("a", StDtype::F32, {2, 3, 4}, a.data());
  w.add("b", StDtype::F16, {7, 5}, b.data());
  w.add("c", StDtype::BF16, {9}, c.data());
  w.add("empty", StDtype::F32, {0, 5}, nullptr);
  const float s = -1.5f;
  w.add("scalar", StDtype::F16, {}, &s);
  const std::string dir = tmp_dir("rt");
  const std::string path = dir + "/m.safetensors";
  w.write(path);

  auto f = SafetensorsFile::open(path);
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->header_size() % 8, 0u);
  EXPECT_EQ(f->metadata().at("note"), "ünïcödé ✓");
  EXPECT_EQ(f->metadata().at("format"), "pt");
  ASSERT_EQ(f->tensors().size(), 5u);

  const auto& ta = f->tensor("a");
  EXPECT_EQ(ta.dtype, StDtype::F32);
  EXPECT_EQ(ta.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(ta.nbytes, 96u);
  EXPECT_EQ(rs::st_to_float(ta), a);  // F32 is bit exact

  const auto& tb = f->tensor("b");
  EXPECT_EQ(tb.dtype, StDtype::F16);
  EXPECT_EQ(tb.shape, (std::vector<int64_t>{7, 5}));
  auto vb = rs::st_to_float(tb);
  for (size_t i = 0; i < b.size(); ++i)
    EXPECT_EQ(bits(vb[i]), bits(rs::fp16_to_fp32(rs::fp32_to_fp16(b[i])))) << i;

  auto vc = rs::st_to_float(f->tensor("c"));
  for (size_t i = 0; i < c.size(); ++i)
    EXPECT_EQ(bits(vc[i]), bits(rs::bf16_to_fp32(rs::fp32_to_bf16(c[i])))) << i;

  EXPECT_EQ(f->tensor("empty").numel(), 0);
  EXPECT_EQ(f->tensor("empty").nbytes, 0u);
  EXPECT_EQ(f->tensor("scalar").numel(), 1);
  EXPECT_EQ(rs::st_to_float(f->tensor("scalar"))[0], -1.5f);

  // Every tensor is aligned to its element size inside the file (larger dtypes written first).
  for (const auto& t : f->tensors())
    EXPECT_EQ(t.file_offset % rs::st_dtype_size(t.dtype), 0u) << t.name;
  // Writing the same content twice gives the same bytes (deterministic order and header).
  EXPECT_EQ(w.to_bytes(), w.to_bytes());
  fs::remove_all(dir);
}

TEST(Safetensors, FromMemoryEqualsFile) {
  auto w = sample_writer();
  auto bytes = w.to_bytes();
  auto f = SafetensorsFile::from_memory(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(f->path(), "mem");
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensor("model.norm.weight").dtype, StDtype::BF16);
  EXPECT_EQ(*f->tensor("model.norm.weight").file, "mem");
  EXPECT_EQ(f->find("nope"), nullptr);
  try {
    f->tensor("nope");
    FAIL() << "expected rs::Error";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mem: no tensor named 'nope'"), std::string::npos);
  }
}

TEST(Safetensors, RawDtypesRoundTrip) {
  SafetensorsWriter w;
  std::vector<uint8_t> i64(3 * 8);
  const int64_t vals[3] = {-5, 1LL << 40, 7};
  std::memcpy(i64.data(), vals, sizeof vals);
  w.add_raw("ids", StDtype::I64, {3}, i64);
  w.add_raw("mask", StDtype::BOOL, {2, 2}, {1, 0, 0, 1});
  auto bytes = w.to_bytes();
  auto f = SafetensorsFile::from_memory(bytes.data(), bytes.size(), "raw");
  const auto& t = f->tensor("ids");
  int64_t got[3];
  std::memcpy(got, t.data, sizeof got);
  EXPECT_EQ(got[0], -5);
  EXPECT_EQ(got[1], 1LL << 40);
  EXPECT_EQ(got[2], 7);
  EXPECT_EQ(f->tensor("mask").data[3], 1);
  EXPECT_THROW(rs::st_to_float(f->tensor("ids")), rs::Error);
  EXPECT_THROW(w.add_raw("bad", StDtype::I32, {3}, {1, 2, 3}), rs::Error);  // 3 bytes != 12
  EXPECT_THROW(w.add_raw("ids", StDtype::U8, {1}, {1}), rs::Error);         // duplicate name
  float x = 1.f;
  EXPECT_THROW(w.add("i", StDtype::I32, {1}, &x), rs::Error);  // floats only as F32/F16/BF16
  EXPECT_THROW(w.add("neg", StDtype::F32, {-1}, &x), rs::Error);
}

TEST(Safetensors, ShardedRoundTripThroughIndex) {
  SafetensorsWriter w;
  std::map<std::string, std::vector<float>> src;
  for (int l = 0; l < 6; ++l) {
    std::string name = "model.layers." + std::to_string(l) + ".mlp.down_proj.weight";
    src[name] = random_floats(64, 100 + l);
    w.add(name, l % 2 ? StDtype::F16 : StDtype::F32, {8, 8}, src[name].data());
  }
  w.set_metadata("format", "pt");
  const std::string dir = tmp_dir("shard");
  auto written = w.write_sharded(dir, 300);  // ~1-2 tensors per shard
  ASSERT_GE(written.size(), 4u);
  EXPECT_EQ(fs::path(written.back()).filename(), "model.safetensors.index.json");
  EXPECT_EQ(fs::path(written.front()).filename().string().substr(0, 12), "model-00001-");

  for (const std::string& open_path : {dir, written.back()}) {
    auto m = SafetensorsModel::open(open_path);
    EXPECT_EQ(m->files().size(), written.size() - 1);
    ASSERT_EQ(m->tensors().size(), 6u);
    uint64_t total = 0;
    for (const auto& [name, vals] : src) {
      const auto& t = m->tensor(name);
      total += t.nbytes;
      auto got = rs::st_to_float(t);
      ASSERT_EQ(got.size(), vals.size());
      for (size_t i = 0; i < vals.size(); ++i) {
        float want = t.dtype == StDtype::F16 ? rs::fp16_to_fp32(rs::fp32_to_fp16(vals[i])) : vals[i];
        ASSERT_EQ(bits(got[i]), bits(want)) << name << " " << i;
      }
    }
    EXPECT_EQ(m->total_bytes(), total);
    EXPECT_EQ(m->metadata().at("total_size"), std::to_string(total));
  }
  // A directory without an index falls back to its *.safetensors files.
  fs::remove(written.back());
  EXPECT_EQ(SafetensorsModel::open(dir)->tensors().size(), 6u);
  fs::remove_all(dir);
}

TEST(Safetensors, SingleFileModelAndDirectory) {
  const std::string dir = tmp_dir("single");
  auto w = sample_writer();
  auto paths = w.write_sharded(dir, 1 << 20);
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(paths[0], dir + "/model.safetensors");
  auto m = SafetensorsModel::open(dir);
  EXPECT_EQ(m->tensors().size(), 3u);
  EXPECT_EQ(m->metadata().at("format"), "pt");
  auto m2 = SafetensorsModel::open(paths[0]);
  EXPECT_EQ(m2->tensors().size(), 3u);
  try {
    m->tensor("lm_head.weight");
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no tensor named 'lm_head.weight'"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(Safetensors, BadIndexFiles) {
  const std::string dir = tmp_dir("badidx");
  auto w = sample_writer();
  w.write(dir + "/a.safetensors");
  auto expect_err = [&](const std::string& index, const std::string& needle) {
    std::ofstream(dir + "/model.safetensors.index.json") << index;
    try {
      SafetensorsModel::open(dir);
      ADD_FAILURE() << "expected rs::Error for " << index;
    } catch (const rs::Error& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  expect_err("{\"weight_map\": ", "invalid JSON");
  expect_err("[]", "expected a JSON object");
  expect_err("{}", "key 'weight_map': missing");
  expect_err("{\"weight_map\": []}", "key 'weight_map': expected an object");
  expect_err("{\"weight_map\": {\"x\": 3}}", "weight_map key 'x': expected a shard file name");
  expect_err("{\"weight_map\": {\"x\": \"../a.safetensors\"}}", "relative to the index");
  expect_err("{\"weight_map\": {\"x\": \"/etc/passwd\"}}", "relative to the index");
  expect_err("{\"weight_map\": {\"model.missing\": \"a.safetensors\"}}",
             "weight_map key 'model.missing': expected tensor in");
  // Same tensor in two shards.
  w.write(dir + "/b.safetensors");
  expect_err("{\"weight_map\": {\"model.norm.weight\": \"a.safetensors\", "
             "\"model.embed_tokens.weight\": \"b.safetensors\"}}",
             "appears in both");
  fs::remove_all(dir);
}

TEST(Safetensors, ConversionKeepsSpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.f, -0.f, inf, -inf, std::nanf(""), 65504.f, 1e-7f, 3e38f};
  SafetensorsWriter w;
  w.add("h", StDtype::F16, {8}, v.data());
  w.add("b", StDtype::BF16, {8}, v.data());
  auto bytes = w.to_bytes();
  auto f = SafetensorsFile::from_memory(bytes.data(), bytes.size(), "special");
  auto h = rs::st_to_float(f->tensor("h"));
  auto b = rs::st_to_float(f->tensor("b"));
  EXPECT_TRUE(std::signbit(h[1]) && h[1] == 0.f);
  EXPECT_EQ(h[2], inf);
  EXPECT_EQ(h[3], -inf);
  EXPECT_TRUE(std::isnan(h[4]));
  EXPECT_TRUE(std::isnan(b[4]));
  EXPECT_EQ(h[5], 65504.f);
  EXPECT_EQ(h[7], inf);  // beyond f16 range
  EXPECT_FLOAT_EQ(b[7], rs::bf16_to_fp32(rs::fp32_to_bf16(3e38f)));
}

// ---- hostile files ------------------------------------------------------------------------

TEST(SafetensorsHostile, EveryTruncationPointFailsCleanly) {
  auto w = sample_writer();
  auto bytes = w.to_bytes();
  ASSERT_TRUE(error_of(bytes).empty());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::string m = error_of(bytes, cut);
    ASSERT_FALSE(m.empty()) << "cut at " << cut << " parsed";
    EXPECT_EQ(m.rfind("bad.safetensors: ", 0), 0u) << m;
    EXPECT_TRUE(m.find("offset ") != std::string::npos || m.find("header key '") != std::string::npos)
        << "cut " << cut << ": " << m;
  }
}

TEST(SafetensorsHostile, EachHeaderValidation) {
  struct Case {
    std::string header;
    size_t data;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"[1, 2]", 0, "offset 8: expected the JSON header to start with '{'"},
      {"{\"a\": ", 0, "offset 14: invalid JSON header"},  // where parsing failed: end of header
      {"{\"a\": 1}", 0, "header key 'a': expected an object {dtype, shape, data_offsets}, found number"},
      {"{\"a\": []}", 0, "header key 'a': expected an object"},
      {"{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "header key 'a': missing \"dtype\""},
      {"{\"a\": {\"dtype\": 4, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': dtype: expected a string, found number"},
      {"{\"a\": {\"dtype\": \"F17\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': unknown dtype \"F17\""},
      {"{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, "header key 'a': missing \"shape\""},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": 1, \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': shape: expected an array of integers, found number"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': shape[0]: expected a dimension >= 0, found -1"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': shape[0]: expected an integer, found number"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 4]}}",
       4, "element count overflows"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [18446744073709551615], \"data_offsets\": [0, 4]}}",
       4, "element count overflows"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "header key 'a': missing \"data_offsets\""},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4,
       "header key 'a': data_offsets: expected [begin, end]"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4,
       "header key 'a': data_offsets: expected [begin, end] with non-negative integers"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4,
       "header key 'a': data_offsets [4, 0]: begin is after end"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 4,
       "header key 'a': data_offsets [0, 8]: end is past the data buffer (4 bytes"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4,
       "header key 'a': data_offsets [0, 4]: expected 8 bytes for F32 shape [2], found 4"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
       "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
       8, "tensor 'b' overlaps tensor 'a'"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8,
       "bytes of the data buffer belong to no tensor"},
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 9,
       "5 bytes after the last tensor belong to no tensor"},
      {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, "
       "\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}",
       1, "header key 'a': appears more than once"},
      {"{\"__metadata__\": [1]}", 0, "header key '__metadata__': expected an object of strings"},
      {"{\"__metadata__\": {\"k\": 1}}", 0, "header key '__metadata__.k': expected a string, found number"},
      {"{\"a\": \"\xff\xfe\"}", 0, "invalid JSON header"},  // invalid UTF-8 in a string
      {"{\"a\": 1e99999}", 0, "offset 8: invalid JSON header: number overflow"},  // found by fuzzing
      {"{\"a\": " + std::string(100, '[') + std::string(100, ']') + "}", 0, "nested deeper"},
      // A shape of 65 dims: arrays are capped while parsing (a 100 MB header of "1," once made
      // a 50M-entry tree and shape, ~1.2 GB), a 64-dim one is still read.
      {"{\"a\": {\"dtype\": \"F32\", \"shape\": [" + ones(65) + "], \"data_offsets\": [0, 4]}}", 4,
       "offset 8: JSON header has an array of more than 64 items"},
      {"{\"a\": {\"x\": [[" + ones(40) + "], [" + ones(40) + "]]}}", 0, "header key 'a': missing \"dtype\""},
  };
  for (const auto& c : cases) {
    std::string m = error_of(raw_file(c.header, c.data));
    ASSERT_FALSE(m.empty()) << "parsed: " << c.header;
    EXPECT_EQ(m.rfind("bad.safetensors: ", 0), 0u) << m;
    EXPECT_NE(m.find(c.needle), std::string::npos) << "header " << c.header << "\n got: " << m;
  }
}

TEST(SafetensorsHostile, ShapeOf64DimsIsRead) {
  EXPECT_EQ(error_of(raw_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [" + ones(64) + "], \"data_offsets\": [0, 4]}}", 4)),
            "");
}

// 200,000 empty tensors (a 12 MB header) parse in linear time. nlohmann's callback parser,
// used before for the duplicate-key check, rescanned the top-level object after every tensor:
// ~2e10 steps here (minutes), hours at the old 100 MB header limit.
TEST(SafetensorsHostile, ManyTensorsParseInLinearTime) {
  std::string h = "{";
  for (int i = 0; i < 200000; ++i)
    h += (i ? "," : "") + std::string("\"t") + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}";
  h += "}";
  // A guard against quadratic parsing (200,000^2 steps would take hours), not a speed target: it
  // counts this thread's CPU time, so a loaded machine (wall time 47 s seen under load) cannot
  // fail it; linear parsing takes ~1 CPU-s.
  const std::clock_t c0 = std::clock();
  EXPECT_EQ(error_of(raw_file(h, 0)), "");
  const double s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  EXPECT_LT(s, 30.0) << "parsing took " << s << " CPU-s";
}

TEST(SafetensorsHostile, HeaderLengthChecks) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_NE(error_of(tiny).find("offset 0: expected an 8-byte little-endian header length"),
            std::string::npos);
  auto f = raw_file("{}", 0);
  f[0] = 0xff;  // length 255 > the 2 bytes present
  EXPECT_NE(error_of(f).find("offset 0: header length 255 runs past the end of the file"),
            std::string::npos);
  for (int i = 0; i < 8; ++i) f[i] = 0xff;  // 2^64-1
  EXPECT_NE(error_of(f).find("is absurd"), std::string::npos);
  auto g = raw_file("{}", 0);
  g[0] = 1;
  EXPECT_NE(error_of(g).find("offset 8: expected a JSON object header, found 1 bytes"),
            std::string::npos);
  // Header padded with spaces (as writers do) is fine; an empty header object is a valid file.
  EXPECT_EQ(error_of(raw_file("{}      ", 0)), "");
  EXPECT_EQ(error_of(raw_file("{\"__metadata__\": {\"a\": \"b\"}}", 0)), "");
}

TEST(SafetensorsHostile, BitFlipsNeverCrash) {
  // Every single-byte corruption of the header either parses to a self-consistent file or
  // raises rs::Error (under ASan/UBSan this also checks no out-of-bounds read happens).
  auto bytes = sample_writer().to_bytes();
  const size_t header_end = 8 + bytes[0] + 256 * bytes[1];
  size_t errors = 0;
  for (size_t pos = 0; pos < header_end; ++pos) {
    for (uint8_t flip : {0x01, 0x20, 0x80}) {
      auto b = bytes;
      b[pos] ^= flip;
      try {
        auto f = SafetensorsFile::from_memory(b.data(), b.size(), "flip");
        for (const auto& t : f->tensors()) {
          ASSERT_LE(t.file_offset + t.nbytes, b.size());
          if (rs::st_dtype_is_float(t.dtype)) rs::st_to_float(t);
        }
      } catch (const rs::Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, header_end);  // most corruptions are caught
}

TEST(SafetensorsHostile, OpenMissingFileNamesIt) {
  try {
    SafetensorsFile::open("/nonexistent/dir/x.safetensors");
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.safetensors"), std::string::npos);
  }
}
