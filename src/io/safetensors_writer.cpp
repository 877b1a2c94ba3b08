// safetensors writer, single file and sharded (format facts in safetensors.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/ggml_types.h"
#include "io/safetensors.h"
#include "io/safetensors_detail.h"

namespace rs {

using nlohmann::json;

namespace {

uint64_t checked_numel(const std::string& name, const std::vector<int64_t>& shape,
                       uint64_t dsize) {
  uint64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      fail("safetensors writer: tensor '", name, "': shape[", i, "] = ", shape[i],
           ", expected >= 0");
    const uint64_t x = static_cast<uint64_t>(shape[i]);
    if (x != 0 && n > uint64_t(INT64_MAX) / dsize / x)
      fail("safetensors writer: tensor '", name, "': element count overflows");
    n *= x;
  }
  return n;
}

std::string shard_name(const std::string& prefix, size_t i, size_t k) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", i, k);
  return prefix + buf;
}

// Header JSON + padding for the given tensors (offsets assigned in the order given).
std::string make_header(const std::map<std::string, std::string>& metadata,
                        const std::vector<std::string>& names,
                        const std::vector<std::string>& dtypes,
                        const std::vector<const std::vector<int64_t>*>& shapes,
                        const std::vector<uint64_t>& sizes) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    h[names[i]] = {{"dtype", dtypes[i]},
                   {"shape", *shapes[i]},
                   {"data_offsets", {off, off + sizes[i]}}};
    off += sizes[i];
  }
  std::string text;
  try {
    text = h.dump();
  } catch (const json::type_error& e) {
    fail("safetensors writer: tensor names and metadata must be valid UTF-8 (", e.what(), ")");
  }
  // Pad with spaces so the data buffer starts at a multiple of 8 (the length prefix is 8).
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

void SafetensorsWriter::add_raw(const std::string& name, StDtype dtype,
                                std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  if (name == "__metadata__") fail("safetensors writer: '__metadata__' is not a tensor name");
  for (const auto& t : tensors_)
    if (t.name == name) fail("safetensors writer: tensor '", name, "' added twice");
  const uint64_t n = checked_numel(name, shape, st_dtype_size(dtype));
  if (bytes.size() != n * st_dtype_size(dtype))
    fail("safetensors writer: tensor '", name, "': expected ", n * st_dtype_size(dtype),
         " bytes for ", st_dtype_name(dtype), ", found ", bytes.size());
  tensors_.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

void SafetensorsWriter::add(const std::string& name, StDtype dtype, std::vector<int64_t> shape,
                            const float* data) {
  if (dtype != StDtype::F32 && dtype != StDtype::F16 && dtype != StDtype::BF16)
    fail("safetensors writer: tensor '", name, "': cannot store float data as ",
         st_dtype_name(dtype), " (expected F32, F16 or BF16)");
  const uint64_t n = checked_numel(name, shape, st_dtype_size(dtype));
  std::vector<uint8_t> bytes(n * st_dtype_size(dtype));
  for (uint64_t i = 0; i < n; ++i) {
    if (dtype == StDtype::F32) {
      std::memcpy(&bytes[4 * i], &data[i], 4);
    } else {
      uint16_t h = dtype == StDtype::F16 ? fp32_to_fp16(data[i]) : fp32_to_bf16(data[i]);
      std::memcpy(&bytes[2 * i], &h, 2);  // little-endian host (x86-64, aarch64)
    }
  }
  add_raw(name, dtype, std::move(shape), std::move(bytes));
}

// Larger elements first, then by name: every tensor then starts at a multiple of its element
// size (the reference writer, safetensors/src/tensor.rs prepare(), orders the same way).
std::vector<const SafetensorsWriter::Pending*> SafetensorsWriter::ordered() const {
  std::vector<const Pending*> out;
  for (const auto& t : tensors_) out.push_back(&t);
  std::stable_sort(out.begin(), out.end(), [](const Pending* a, const Pending* b) {
    uint64_t sa = st_dtype_size(a->dtype), sb = st_dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  return out;
}

std::vector<uint8_t> SafetensorsWriter::serialize(const std::vector<const Pending*>& items) const {
  std::vector<std::string> names, dtypes;
  std::vector<const std::vector<int64_t>*> shapes;
  std::vector<uint64_t> sizes;
  uint64_t total = 0;
  for (const Pending* p : items) {
    names.push_back(p->name);
    dtypes.push_back(st_dtype_name(p->dtype));
    shapes.push_back(&p->shape);
    sizes.push_back(p->bytes.size());
    total += p->bytes.size();
  }
  const std::string header = make_header(metadata_, names, dtypes, shapes, sizes);
  std::vector<uint8_t> out(8 + header.size() + total);
  st_detail::put_u64_le(out.data(), header.size());
  std::memcpy(out.data() + 8, header.data(), header.size());
  uint8_t* dst = out.data() + 8 + header.size();
  for (const Pending* p : items) {
    if (!p->bytes.empty()) std::memcpy(dst, p->bytes.data(), p->bytes.size());
    dst += p->bytes.size();
  }
  return out;
}

std::vector<uint8_t> SafetensorsWriter::to_bytes() const { return serialize(ordered()); }

void SafetensorsWriter::write(const std::string& path) const {
  const auto bytes = to_bytes();
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

std::vector<std::string> SafetensorsWriter::write_sharded(const std::string& dir,
                                                          uint64_t max_shard_bytes,
                                                          const std::string& prefix) const {
  make_dirs(dir);
  const auto items = ordered();
  std::vector<std::vector<const Pending*>> shards;
  uint64_t cur = 0, total = 0;
  for (const Pending* p : items) {
    if (shards.empty() || (cur > 0 && cur + p->bytes.size() > max_shard_bytes)) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(p);
    cur += p->bytes.size();
    total += p->bytes.size();
  }
  if (shards.empty()) shards.emplace_back();
  std::vector<std::string> written;
  if (shards.size() == 1) {
    const std::string path = dir + "/" + prefix + ".safetensors";
    write(path);
    written.push_back(path);
    return written;
  }
  json weight_map = json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = shard_name(prefix, i + 1, shards.size());
    const auto bytes = serialize(shards[i]);
    const std::string path = dir + "/" + name;
    AtomicFile f(path);
    f.write(bytes.data(), bytes.size());
    f.commit();
    written.push_back(path);
    for (const Pending* p : shards[i]) weight_map[p->name] = name;
  }
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  const std::string index_path = dir + "/" + prefix + ".safetensors.index.json";
  write_file_atomic(index_path, index.dump(2) + "\n");
  written.push_back(index_path);
  return written;
}

}  // namespace rs
