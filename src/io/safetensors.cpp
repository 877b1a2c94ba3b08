// safetensors reader: header parsing and validation (format facts in safetensors.h).
#include "io/safetensors.h"
#include "core/text.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/ggml_types.h"
#include "io/safetensors_detail.h"

namespace rs {

using nlohmann::json;

namespace {

struct DtypeInfo {
  StDtype type;
  const char* name;
  uint64_t size;
};

// Names and sizes as in the safetensors README's dtype list (and safetensors/src/tensor.rs Dtype).
constexpr DtypeInfo kDtypes[] = {
    {StDtype::F64, "F64", 8},         {StDtype::F32, "F32", 4},
    {StDtype::F16, "F16", 2},         {StDtype::BF16, "BF16", 2},
    {StDtype::F8_E5M2, "F8_E5M2", 1}, {StDtype::F8_E4M3, "F8_E4M3", 1},
    {StDtype::I64, "I64", 8},         {StDtype::I32, "I32", 4},
    {StDtype::I16, "I16", 2},         {StDtype::I8, "I8", 1},
    {StDtype::U64, "U64", 8},         {StDtype::U32, "U32", 4},
    {StDtype::U16, "U16", 2},         {StDtype::U8, "U8", 1},
    {StDtype::BOOL, "BOOL", 1},
};

const DtypeInfo& info(StDtype t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d;
  fail("safetensors: invalid dtype enum value ", static_cast<int>(t));
}

// One linear pass over the header's JSON events before any tree is built: a top-level key that
// repeats (nlohmann keeps only the last of duplicate keys), and an array longer than
// kMaxArrayItems (a valid header's only arrays are shapes and data_offsets; the tree costs ~16
// bytes per item, 8x the 2 bytes of "1," in the file). nlohmann's callback parser could watch
// the same events, but after every object it scans the parent for discarded values: quadratic
// in the number of tensors (hours of CPU for a crafted 100 MB header of empty tensors).
// Syntax errors stop the scan; the tree's parse reports them.
struct HeaderScan : nlohmann::json_sax<json> {
  std::set<std::string> seen;
  std::string duplicate;
  bool long_array = false;
  std::vector<int64_t> open;  // per open container: items so far for an array, -1 for an object

  bool item() {
    if (!open.empty() && open.back() >= 0 && ++open.back() > st_detail::kMaxArrayItems) {
      long_array = true;
      return false;
    }
    return true;
  }
  bool null() override { return item(); }
  bool boolean(bool) override { return item(); }
  bool number_integer(number_integer_t) override { return item(); }
  bool number_unsigned(number_unsigned_t) override { return item(); }
  bool number_float(number_float_t, const string_t&) override { return item(); }
  bool string(string_t&) override { return item(); }
  bool binary(binary_t&) override { return item(); }
  bool start_object(std::size_t) override {
    if (!item()) return false;
    open.push_back(-1);
    return true;
  }
  bool key(string_t& k) override {
    if (open.size() == 1 && duplicate.empty() && !seen.insert(k).second) duplicate = k;
    return true;
  }
  bool end_object() override {
    open.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (!item()) return false;
    open.push_back(0);
    return true;
  }
  bool end_array() override {
    open.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

}  // namespace

const char* st_dtype_name(StDtype t) { return info(t).name; }
uint64_t st_dtype_size(StDtype t) { return info(t).size; }
bool st_dtype_is_float(StDtype t) {
  return t == StDtype::F64 || t == StDtype::F32 || t == StDtype::F16 || t == StDtype::BF16;
}
bool st_dtype_from_name(std::string_view name, StDtype& out) {
  for (const auto& d : kDtypes)
    if (name == d.name) {
      out = d.type;
      return true;
    }
  return false;
}

int64_t StTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // checked for overflow when the header was parsed
  return n;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->map_ = MappedFile(path);
  f->path_ = path;
  f->parse(f->map_.data(), f->map_.size());
  return f;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::from_memory(const uint8_t* data, size_t size,
                                                              const std::string& name) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = name;
  f->parse(data, size);
  return f;
}

const StTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const StTensor& SafetensorsFile::tensor(const std::string& name) const {
  if (const StTensor* t = find(name)) return *t;
  fail(path_, ": no tensor named '", name, "' (the file has ", tensors_.size(), " tensors)");
}

void SafetensorsFile::parse(const uint8_t* data, size_t size) {
  const std::string& P = path_;
  if (size < 8)
    fail(P, ": offset 0: expected an 8-byte little-endian header length, the file has only ",
         size, " bytes");
  const uint64_t n = st_detail::read_u64_le(data);
  if (n > st_detail::kMaxHeaderBytes)
    fail(P, ": offset 0: header length ", n, " is absurd (limit ", st_detail::kMaxHeaderBytes,
         " bytes)");
  if (n > size - 8)
    fail(P, ": offset 0: header length ", n, " runs past the end of the file (at most ",
         size - 8, " bytes follow the length)");
  if (n < 2) fail(P, ": offset 8: expected a JSON object header, found ", n, " bytes");
  header_size_ = n;
  const char* hdr = reinterpret_cast<const char*>(data + 8);
  if (hdr[0] != '{')
    fail(P, ": offset 8: expected the JSON header to start with '{', found byte 0x", std::hex,
         static_cast<unsigned>(data[8]), std::dec);
  const std::string_view header(hdr, n);
  if (rs::json_nesting_depth(header) > st_detail::kMaxHeaderDepth)
    fail(P, ": offset 8: JSON header nested deeper than ", st_detail::kMaxHeaderDepth,
         " levels (expected {name: {dtype, shape, data_offsets}})");

  HeaderScan scan;
  try {
    json::sax_parse(header.begin(), header.end(), &scan);
  } catch (const json::exception&) {  // reported by the parse below
  }
  if (scan.long_array)
    fail(P, ": offset 8: JSON header has an array of more than ", st_detail::kMaxArrayItems,
         " items (expected shapes and data_offsets only)");
  json root;
  try {
    root = json::parse(header.begin(), header.end());
  } catch (const json::parse_error& e) {
    fail(P, ": offset ", 8 + (e.byte > 0 ? e.byte - 1 : 0), ": invalid JSON header: ",
         st_detail::parse_error_detail(e.what()));
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number too large
    fail(P, ": offset 8: invalid JSON header: ", st_detail::json_error_detail(e.what()));
  }
  if (!root.is_object())
    fail(P, ": offset 8: expected the header to be a JSON object, found ", root.type_name());
  if (!scan.duplicate.empty())
    fail(P, ": header key '", scan.duplicate, "': appears more than once");

  const uint64_t buffer_start = 8 + n;
  const uint64_t buffer_size = size - buffer_start;
  tensors_.clear();
  tensors_.reserve(root.size());
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object())
        fail(P, ": header key '__metadata__': expected an object of strings, found ",
             v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail(P, ": header key '__metadata__.", m.key(), "': expected a string, found ",
               m.value().type_name());
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object())
      fail(P, ": header key '", key,
           "': expected an object {dtype, shape, data_offsets}, found ", v.type_name());
    StTensor t;
    t.name = key;
    t.file = &path_;
    // dtype
    auto d = v.find("dtype");
    if (d == v.end()) fail(P, ": header key '", key, "': missing \"dtype\"");
    if (!d->is_string())
      fail(P, ": header key '", key, "': dtype: expected a string, found ", d->type_name());
    if (!st_dtype_from_name(d->get_ref<const std::string&>(), t.dtype))
      fail(P, ": header key '", key, "': unknown dtype \"", d->get_ref<const std::string&>(),
           "\" (expected one of F64 F32 F16 BF16 F8_E5M2 F8_E4M3 I64 I32 I16 I8 U64 U32 U16 U8 "
           "BOOL)");
    // shape: non-negative integers, element count and byte size without overflow
    auto s = v.find("shape");
    if (s == v.end()) fail(P, ": header key '", key, "': missing \"shape\"");
    if (!s->is_array())
      fail(P, ": header key '", key, "': shape: expected an array of integers, found ",
           s->type_name());
    uint64_t numel = 1;
    const uint64_t dsize = st_dtype_size(t.dtype);
    for (size_t i = 0; i < s->size(); ++i) {
      const json& dim = (*s)[i];
      if (!dim.is_number_integer())
        fail(P, ": header key '", key, "': shape[", i, "]: expected an integer, found ",
             dim.type_name());
      if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<int64_t>() < 0)
        fail(P, ": header key '", key, "': shape[", i, "]: expected a dimension >= 0, found ",
             dim.get<int64_t>());
      const uint64_t x = dim.get<uint64_t>();
      if (x > uint64_t(INT64_MAX) || (x != 0 && numel > uint64_t(INT64_MAX) / dsize / x))
        fail(P, ": header key '", key, "': shape ", s->dump(),
             ": element count overflows 64-bit byte sizes");
      numel *= x;
      t.shape.push_back(static_cast<int64_t>(x));
    }
    const uint64_t expect_bytes = numel * dsize;
    // data_offsets: [begin, end) inside the buffer
    auto o = v.find("data_offsets");
    if (o == v.end()) fail(P, ": header key '", key, "': missing \"data_offsets\"");
    if (!o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
        !(*o)[1].is_number_unsigned())
      fail(P, ": header key '", key,
           "': data_offsets: expected [begin, end] with non-negative integers, found ", o->dump());
    const uint64_t begin = (*o)[0].get<uint64_t>(), end = (*o)[1].get<uint64_t>();
    if (begin > end)
      fail(P, ": header key '", key, "': data_offsets [", begin, ", ", end,
           "]: begin is after end");
    if (end > buffer_size)
      fail(P, ": header key '", key, "': data_offsets [", begin, ", ", end,
           "]: end is past the data buffer (", buffer_size, " bytes, file offset ",
           buffer_start, " to ", size, ")");
    if (end - begin != expect_bytes)
      fail(P, ": header key '", key, "': data_offsets [", begin, ", ", end, "]: expected ",
           expect_bytes, " bytes for ", st_dtype_name(t.dtype), " shape ", s->dump(), ", found ",
           end - begin);
    t.file_offset = buffer_start + begin;
    t.nbytes = expect_bytes;
    t.data = data + t.file_offset;
    tensors_.push_back(std::move(t));
  }

  // The buffer must be tiled exactly: sorted by (begin, end), each tensor starts where the
  // previous one ended, and the last one ends at the end of the file.
  std::sort(tensors_.begin(), tensors_.end(), [](const StTensor& a, const StTensor& b) {
    return a.file_offset != b.file_offset ? a.file_offset < b.file_offset : a.nbytes < b.nbytes;
  });
  uint64_t expected = buffer_start;
  const StTensor* prev = nullptr;
  for (const auto& t : tensors_) {
    if (t.file_offset < expected)
      fail(P, ": offset ", t.file_offset, ": tensor '", t.name, "' overlaps tensor '", prev->name,
           "' (which ends at offset ", expected, ")");
    if (t.file_offset > expected)
      fail(P, ": offset ", expected, ": ", t.file_offset - expected,
           " bytes of the data buffer belong to no tensor (before tensor '", t.name,
           "'); safetensors buffers may not contain holes");
    expected = t.file_offset + t.nbytes;
    prev = &t;
  }
  if (expected != size)
    fail(P, ": offset ", expected, ": ", size - expected,
         " bytes after the last tensor belong to no tensor (expected the file to end here)");
  index_.clear();
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

// ---------------------------------------------------------------------------------------------

void st_to_float(const StTensor& t, float* dst) {
  const int64_t n = t.numel();
  const uint8_t* src = t.data;
  switch (t.dtype) {
    case StDtype::F32:
      if (n) std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case StDtype::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
      }
      return;
    case StDtype::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_fp32(h);
      }
      return;
    case StDtype::F64:
      for (int64_t i = 0; i < n; ++i) {
        double x;
        std::memcpy(&x, src + 8 * i, 8);
        dst[i] = static_cast<float>(x);
      }
      return;
    default:
      fail(t.file ? *t.file : std::string("safetensors"), ": tensor '", t.name, "': dtype ",
           st_dtype_name(t.dtype), " cannot be converted to float (expected F32, F16, BF16 or F64)");
  }
}

std::vector<float> st_to_float(const StTensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  st_to_float(t, out.data());
  return out;
}

}  // namespace rs
