// GGUF writer, version 3, the layout read by gguf_reader.cpp (docs/gguf.md in ggml):
// header, key/values, tensor infos, padding to the alignment, then each tensor's bytes
// starting at a multiple of the alignment. Values are checked before anything is written.
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/gguf.h"

namespace rs::gguf {
namespace {

using Sink = std::function<void(const void*, size_t)>;

template <typename T>
void put(const Sink& out, T v) {
  out(&v, sizeof(T));  // little-endian host
}
void put_string(const Sink& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out(s.data(), s.size());
}

// Nesting depth of an array value (1 for an array of scalars or strings).
int array_depth(const Value& v) {
  if (v.type != ValueType::ARRAY) return 0;
  int inner = 0;
  if (v.elem_type == ValueType::ARRAY)
    v.visit([&](const Value& e) {
      inner = std::max(inner, array_depth(e));
      return true;
    });
  return 1 + inner;
}

// Checks that v can be encoded as its declared type (ranges, nesting), naming the key.
void check_value(const std::string& key, const Value& v) {
  if (array_depth(v) > kMaxArrayDepth)
    fail("gguf writer: key ", key, ": arrays nested deeper than ", kMaxArrayDepth, " levels");
  std::vector<uint8_t> scratch;
  if (v.type != ValueType::ARRAY) {
    try {
      encode_value(v, scratch);
    } catch (const Error& e) {
      fail("gguf writer: key ", key, ": ", e.what());
    }
  }
}

void put_value(const Sink& out, const Value& v) {
  if (v.type == ValueType::ARRAY) {  // elements are already encoded: no second copy
    put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
    put<uint64_t>(out, v.size());
    out(v.raw.data(), v.raw.size());
    return;
  }
  std::vector<uint8_t> bytes;
  encode_value(v, bytes);
  out(bytes.data(), bytes.size());
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void Writer::set(const std::string& key, Value v) {
  check_value(key, v);
  if (key == "general.alignment") {
    const bool ok = v.is_integer() && v.as_int() > 0 && v.as_int() <= (1 << 30) &&
                    (v.as_int() & (v.as_int() - 1)) == 0;
    if (!ok) fail("gguf writer: general.alignment must be a power of two up to 2^30, found ", v.to_string());
  }
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

void Writer::add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                        std::vector<uint8_t> bytes) {
  for (const auto& t : tensors_)
    if (t.name == name) fail("gguf writer: duplicate tensor name \"", name, "\"");
  if (ne.empty() || ne.size() > kMaxDims)
    fail("gguf writer: tensor \"", name, "\": expected 1..", kMaxDims, " dimensions, found ", ne.size());
  if (!ggml_type_known(static_cast<uint32_t>(type)))
    fail("gguf writer: tensor \"", name, "\": unknown ggml type id ", static_cast<uint32_t>(type));
  uint64_t expected;
  try {
    expected = ggml_nbytes(type, ne);
  } catch (const Error& e) {
    fail("gguf writer: tensor \"", name, "\": ", e.what());
  }
  if (bytes.size() != expected)
    fail("gguf writer: tensor \"", name, "\": expected ", expected, " bytes of ", ggml_type_name(type),
         " data, found ", bytes.size());
  tensors_.push_back({name, type, std::move(ne), std::move(bytes)});
}

namespace {
int64_t count_elements(const std::string& name, const std::vector<int64_t>& ne) {
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0 || n > std::numeric_limits<int64_t>::max() / d)
      fail("gguf writer: tensor \"", name, "\": bad shape (dimension ", d, ")");
    n *= d;
  }
  return n;
}
}  // namespace

void Writer::add_tensor_f32(const std::string& name, std::vector<int64_t> ne, const float* data) {
  const int64_t n = count_elements(name, ne);
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * 4);
  if (n) std::memcpy(bytes.data(), data, bytes.size());
  add_tensor(name, GgmlType::F32, std::move(ne), std::move(bytes));
}

void Writer::add_tensor_f16(const std::string& name, std::vector<int64_t> ne, const float* data) {
  const int64_t n = count_elements(name, ne);
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * 2);
  for (int64_t k = 0; k < n; ++k) {
    const uint16_t h = fp32_to_fp16(data[k]);
    std::memcpy(bytes.data() + 2 * k, &h, 2);
  }
  add_tensor(name, GgmlType::F16, std::move(ne), std::move(bytes));
}

void Writer::serialize(const Sink& out) const {
  uint64_t alignment = 32;
  for (const auto& p : kv_)
    if (p.first == "general.alignment") alignment = static_cast<uint64_t>(p.second.as_int());
  uint64_t written = 0;
  const Sink counted = [&](const void* d, size_t n) {
    out(d, n);
    written += n;
  };
  static const uint8_t zeros[256] = {};
  auto pad = [&](uint64_t to) {
    while (written < to) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(zeros), to - written));
      counted(zeros, n);
    }
  };

  put<uint32_t>(counted, 0x46554747u);  // "GGUF"
  put<uint32_t>(counted, 3);
  put<uint64_t>(counted, tensors_.size());
  put<uint64_t>(counted, kv_.size());
  for (const auto& p : kv_) {
    put_string(counted, p.first);
    put<uint32_t>(counted, static_cast<uint32_t>(p.second.type));
    put_value(counted, p.second);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(counted, t.name);
    put<uint32_t>(counted, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put<uint64_t>(counted, static_cast<uint64_t>(d));
    put<uint32_t>(counted, static_cast<uint32_t>(t.type));
    put<uint64_t>(counted, offset);
    offset = align_up(offset + t.bytes.size(), alignment);
  }
  pad(align_up(written, alignment));
  for (const auto& t : tensors_) {
    counted(t.bytes.data(), t.bytes.size());
    pad(align_up(written, alignment));
  }
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<uint8_t> buf;
  serialize([&](const void* d, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(d);
    buf.insert(buf.end(), p, p + n);
  });
  return buf;
}

void Writer::write(const std::string& path) const {
  AtomicFile f(path);
  // Metadata arrives a few bytes at a time; batch it so the file sees large writes.
  std::vector<uint8_t> buf;
  buf.reserve(1 << 20);
  serialize([&](const void* d, size_t n) {
    if (buf.size() + n > buf.capacity()) {
      f.write(buf.data(), buf.size());
      buf.clear();
    }
    if (n >= buf.capacity()) {
      f.write(d, n);
    } else {
      const uint8_t* p = static_cast<const uint8_t*>(d);
      buf.insert(buf.end(), p, p + n);
    }
  });
  f.write(buf.data(), buf.size());
  f.commit();
}

}  // namespace rs::gguf
