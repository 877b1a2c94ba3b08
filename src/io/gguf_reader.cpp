// GGUF reader: parses and validates header, metadata and tensor infos (docs/gguf.md in the
// ggml repository). Layout, all little-endian:
//   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x  { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to general.alignment (default 32) | tensor data (offsets relative to here)
// string = u64 length + bytes (no terminator); array = u32 elem_type | u64 count | elements.
// Version 1 used 32-bit counts and lengths; it is refused. Every read is bounds-checked and
// every failure names the file and the byte offset.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "io/gguf.h"

namespace rs::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747u;  // "GGUF" read as a little-endian u32

// Smallest encoded size of one value of each type, so counts can be checked against the
// bytes that remain before anything is allocated. STRING = its u64 length; ARRAY = its
// u32 type + u64 count.
uint64_t min_value_size(ValueType t) {
  if (const size_t fixed = fixed_size(t)) return fixed;
  return t == ValueType::STRING ? 8 : 12;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }
  const uint8_t* at(size_t pos) const { return data_ + pos; }
  // Advances over n bytes that need() has checked.
  void skip(uint64_t n, const char* what) {
    need(n, what);
    pos_ += static_cast<size_t>(n);
  }

  [[noreturn]] void fail_at(uint64_t offset, const std::string& what) const {
    fail(name_, ": offset ", offset, ": ", what);
  }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      fail_at(pos_, str("expected ", what, " (", n, " bytes), found ", remaining(),
                        " bytes before the end of the file (size ", size_, ")"));
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));  // little-endian host (x86-64, aarch64)
    pos_ += sizeof(T);
    return v;
  }
  // Checks a string's length against the bytes left; returns where its bytes start.
  size_t skip_string(const char* what) {
    const size_t at = pos_;
    const uint64_t len = read<uint64_t>(what);
    if (len > remaining())
      fail_at(at, str("expected ", what, " of ", len, " bytes, found only ", remaining(),
                      " bytes before the end of the file (size ", size_, ")"));
    const size_t begin = pos_;
    pos_ += static_cast<size_t>(len);
    return begin;
  }
  std::string read_string(const char* what) {
    const size_t begin = skip_string(what);
    return std::string(reinterpret_cast<const char*>(data_ + begin), pos_ - begin);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& name_;
};

Value read_value(Cursor& c, ValueType t, int depth);

// Scalar of a known type (not ARRAY).
Value read_scalar(Cursor& c, ValueType t) {
  Value v;
  v.type = t;
  switch (t) {
    case ValueType::UINT8: v.u = c.read<uint8_t>("a UINT8"); break;
    case ValueType::INT8: v.i = c.read<int8_t>("an INT8"); break;
    case ValueType::UINT16: v.u = c.read<uint16_t>("a UINT16"); break;
    case ValueType::INT16: v.i = c.read<int16_t>("an INT16"); break;
    case ValueType::UINT32: v.u = c.read<uint32_t>("a UINT32"); break;
    case ValueType::INT32: v.i = c.read<int32_t>("an INT32"); break;
    case ValueType::UINT64: v.u = c.read<uint64_t>("a UINT64"); break;
    case ValueType::INT64: v.i = c.read<int64_t>("an INT64"); break;
    case ValueType::FLOAT32: v.f = c.read<float>("a FLOAT32"); break;
    case ValueType::FLOAT64: v.f = c.read<double>("a FLOAT64"); break;
    case ValueType::BOOL: {
      const size_t at = c.pos();
      const uint8_t b = c.read<uint8_t>("a BOOL");
      if (b > 1) c.fail_at(at, str("expected a BOOL (0 or 1), found ", static_cast<int>(b)));
      v.u = b;
      break;
    }
    case ValueType::STRING: v.s = c.read_string("a string value"); break;
    case ValueType::ARRAY: break;  // handled by read_value
  }
  return v;
}

// Reads an array's element type and count and checks the count against the bytes left at
// the smallest encoded element size, so nothing is allocated for elements that cannot exist.
ValueType read_array_header(Cursor& c, int depth, uint64_t* count) {
  const size_t type_at = c.pos();
  if (depth >= kMaxArrayDepth)
    c.fail_at(type_at, str("arrays nested deeper than ", kMaxArrayDepth, " levels are not supported"));
  const uint32_t et = c.read<uint32_t>("an array element type");
  if (!valid_value_type(et))
    c.fail_at(type_at, str("expected an array element type 0..12, found ", et));
  const ValueType elem = static_cast<ValueType>(et);
  const size_t count_at = c.pos();
  *count = c.read<uint64_t>("an array length");
  const uint64_t min_size = min_value_size(elem);
  if (*count > c.remaining() / min_size)
    c.fail_at(count_at, str("array of ", *count, " ", value_type_name(elem), " needs at least ",
                            *count, " x ", min_size, " bytes, found only ", c.remaining(),
                            " bytes before the end of the file"));
  return elem;
}

void skip_array(Cursor& c, int depth);

// Validates `count` elements of type `elem` and moves past them.
void skip_elements(Cursor& c, ValueType elem, uint64_t count, int depth) {
  if (const size_t fixed = fixed_size(elem)) {
    const size_t begin = c.pos();
    c.skip(count * fixed, "the array's elements");  // count <= remaining / fixed: no overflow
    if (elem == ValueType::BOOL)
      for (uint64_t k = 0; k < count; ++k)
        if (*c.at(begin + k) > 1)
          c.fail_at(begin + k, str("expected a BOOL (0 or 1), found ", static_cast<int>(*c.at(begin + k))));
    return;
  }
  for (uint64_t k = 0; k < count; ++k) {
    if (elem == ValueType::STRING) c.skip_string("a string value");
    else skip_array(c, depth + 1);
  }
}

void skip_array(Cursor& c, int depth) {
  uint64_t count = 0;
  const ValueType elem = read_array_header(c, depth, &count);
  skip_elements(c, elem, count, depth);
}

Value read_array(Cursor& c, int depth) {
  uint64_t count = 0;
  const ValueType elem = read_array_header(c, depth, &count);
  Value v = Value::of_array(elem, {});
  const size_t begin = c.pos();
  skip_elements(c, elem, count, depth);
  v.raw.assign(c.at(begin), c.at(c.pos()));
  v.count = count;
  return v;
}

Value read_value(Cursor& c, ValueType t, int depth) {
  return t == ValueType::ARRAY ? read_array(c, depth) : read_scalar(c, t);
}

bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace

// The bytes were validated when the array was read or built, so decoding cannot fail on a
// well-formed Value; a hand-edited one still gives an rs::Error, not a bad read.
Value Value::item(size_t k) const {
  if (type != ValueType::ARRAY || k >= size())
    fail("gguf value: item ", k, " requested from ", to_string(0));
  static const std::string kName = "gguf array";
  if (const size_t fixed = fixed_size(elem_type)) {
    if ((k + 1) * fixed > raw.size()) fail("gguf value: item ", k, " lies outside the array's bytes");
    Cursor c(raw.data() + k * fixed, fixed, kName);
    return read_value(c, elem_type, 0);
  }
  Cursor c(raw.data(), raw.size(), kName);
  skip_elements(c, elem_type, k, 0);
  return read_value(c, elem_type, 0);
}

void Value::visit(const std::function<bool(const Value&)>& fn) const {
  if (type != ValueType::ARRAY) fail("gguf value: visit on ", value_type_name(type));
  static const std::string kName = "gguf array";
  Cursor c(raw.data(), raw.size(), kName);
  for (uint64_t k = 0; k < count; ++k)
    if (!fn(read_value(c, elem_type, 0))) return;
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> f(new File());
  f->map_ = MappedFile(path);
  f->path_ = path;
  f->parse(f->map_.data(), f->map_.size());
  return f;
}

std::unique_ptr<File> File::from_memory(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<File> f(new File());
  f->path_ = name;
  f->parse(data, size);
  return f;
}

void File::parse(const uint8_t* data, size_t size) {
  Cursor c(data, size, path_);

  // --- header
  const uint32_t magic = c.read<uint32_t>("the magic \"GGUF\"");
  if (magic != kMagic) {
    static const char* hex = "0123456789abcdef";
    std::string found;
    for (int k = 0; k < 4; ++k) {
      const uint8_t b = data[k];
      if (b >= 32 && b < 127) found += static_cast<char>(b);
      else found += std::string("\\x") + hex[b >> 4] + hex[b & 15];
    }
    c.fail_at(0, str("expected the magic \"GGUF\", found \"", found, "\" (not a GGUF file)"));
  }
  const uint32_t version = c.read<uint32_t>("the GGUF version");
  if (version == 1)
    c.fail_at(4, "GGUF version 1 is not supported (32-bit counts; re-convert the model), expected 2 or 3");
  if (version != 2 && version != 3) {
    const uint32_t swapped = __builtin_bswap32(version);
    if (swapped >= 1 && swapped <= 3)
      c.fail_at(4, str("big-endian GGUF (version ", swapped, " byte-swapped) is not supported; "
                       "expected a little-endian file, version 2 or 3"));
    c.fail_at(4, str("expected GGUF version 2 or 3, found ", version));
  }
  version_ = version;
  const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  const uint64_t n_kv = c.read<uint64_t>("the metadata key/value count");
  // Smallest key/value: u64 key length + u32 type + 1-byte value; smallest tensor info:
  // u64 name length + u32 n_dims + one u64 dim + u32 type + u64 offset.
  if (n_kv > c.remaining() / 13)
    c.fail_at(16, str("metadata count ", n_kv, " needs at least ", n_kv, " x 13 bytes, found only ",
                      c.remaining(), " bytes before the end of the file"));
  if (n_tensors > c.remaining() / 32)
    c.fail_at(8, str("tensor count ", n_tensors, " needs at least ", n_tensors,
                     " x 32 bytes, found only ", c.remaining(), " bytes before the end of the file"));

  // --- metadata
  kv_.reserve(static_cast<size_t>(n_kv));
  size_t alignment_at = 0;
  for (uint64_t k = 0; k < n_kv; ++k) {
    const size_t key_at = c.pos();
    std::string key = c.read_string("a metadata key");
    if (kv_index_.count(key))
      c.fail_at(key_at, str("duplicate metadata key \"", key, "\""));
    const size_t type_at = c.pos();
    const uint32_t t = c.read<uint32_t>("a metadata value type");
    if (!valid_value_type(t))
      c.fail_at(type_at, str("metadata key \"", key, "\": expected a value type 0..12, found ", t));
    const size_t value_at = c.pos();
    Value v;
    try {
      v = read_value(c, static_cast<ValueType>(t), 0);
    } catch (const Error& e) {
      throw Error(str(e.what(), " (in the value of metadata key \"", key, "\")"));
    }
    if (key == "general.alignment") alignment_at = value_at;
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }
  if (const Value* a = find("general.alignment")) {
    if (!a->is_integer())
      c.fail_at(alignment_at, str("general.alignment: expected an integer, found ", value_type_name(a->type)));
    const bool is_signed = a->type == ValueType::INT8 || a->type == ValueType::INT16 ||
                           a->type == ValueType::INT32 || a->type == ValueType::INT64;
    const uint64_t al = is_signed ? (a->i > 0 ? static_cast<uint64_t>(a->i) : 0) : a->u;
    // A 1 GiB cap keeps the padding arithmetic far from overflow; real files use 32.
    if (al > (1u << 30) || !is_power_of_two(al))
      c.fail_at(alignment_at, str("general.alignment: expected a power of two up to 2^30, found ",
                                  a->to_string()));
    alignment_ = al;
  }

  // --- tensor infos
  struct Where { size_t info_at, offset_at; };
  std::vector<Where> where;
  tensors_.reserve(static_cast<size_t>(n_tensors));
  where.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo ti;
    const size_t info_at = c.pos();
    ti.name = c.read_string("a tensor name");
    if (tensor_index_.count(ti.name))
      c.fail_at(info_at, str("duplicate tensor name \"", ti.name, "\""));
    const std::string& nm = ti.name;
    const size_t dims_at = c.pos();
    const uint32_t n_dims = c.read<uint32_t>("a tensor dimension count");
    if (n_dims < 1 || n_dims > kMaxDims)
      c.fail_at(dims_at, str("tensor \"", nm, "\": expected 1..", kMaxDims, " dimensions, found ", n_dims));
    unsigned __int128 n_elem = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const size_t dim_at = c.pos();
      const uint64_t dim = c.read<uint64_t>("a tensor dimension");
      if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX))
        c.fail_at(dim_at, str("tensor \"", nm, "\": dimension ", d, ": expected 1..2^63-1, found ", dim));
      n_elem *= dim;
      if (n_elem > static_cast<unsigned __int128>(INT64_MAX))
        c.fail_at(dim_at, str("tensor \"", nm, "\": element count overflows a 64-bit integer at dimension ", d));
      ti.ne.push_back(static_cast<int64_t>(dim));
    }
    const size_t type_at = c.pos();
    const uint32_t type_id = c.read<uint32_t>("a tensor type");
    if (!ggml_type_known(type_id))
      c.fail_at(type_at, str("tensor \"", nm, "\": unknown ggml type id ", type_id));
    ti.type = static_cast<GgmlType>(type_id);
    const int64_t block = ggml_block_size(ti.type);
    if (ti.ne[0] % block != 0)
      c.fail_at(dims_at, str("tensor \"", nm, "\": type ", ggml_type_name(ti.type), " needs ne[0] to be a "
                             "multiple of ", block, ", found ne[0] = ", ti.ne[0]));
    try {
      ti.nbytes = ggml_nbytes(ti.type, ti.ne);
    } catch (const Error& e) {
      c.fail_at(dims_at, str("tensor \"", nm, "\": ", e.what()));
    }
    const size_t offset_at = c.pos();
    ti.offset = c.read<uint64_t>("a tensor data offset");
    if (ti.offset % alignment_ != 0)
      c.fail_at(offset_at, str("tensor \"", nm, "\": data offset ", ti.offset,
                               " is not a multiple of the alignment ", alignment_));
    tensor_index_.emplace(ti.name, tensors_.size());
    tensors_.push_back(std::move(ti));
    where.push_back({info_at, offset_at});
  }

  // --- data section: starts at the next multiple of the alignment after the infos.
  const uint64_t end_of_infos = c.pos();
  data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    TensorInfo& ti = tensors_[k];
    // offset and nbytes are each < 2^63 and data_offset_ < 2^62, so the sums cannot wrap
    // once offset alone is known to be inside the file.
    const uint64_t avail = size > data_offset_ ? size - data_offset_ : 0;
    if (ti.offset > avail || ti.nbytes > avail - ti.offset)
      c.fail_at(where[k].offset_at,
                str("tensor \"", ti.name, "\": ", ti.nbytes, " bytes of data at relative offset ",
                    ti.offset, " (data section starts at ", data_offset_,
                    ") extend past the end of the file (size ", size, ")"));
    ti.data = data + data_offset_ + ti.offset;
  }
  // Overlap: sort by offset and compare neighbours.
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = tensors_[order[k - 1]];
    const TensorInfo& cur = tensors_[order[k]];
    if (cur.offset < prev.offset + prev.nbytes)
      c.fail_at(where[order[k]].offset_at,
                str("tensor \"", cur.name, "\": data at relative offset ", cur.offset,
                    " overlaps tensor \"", prev.name, "\" (relative [", prev.offset, ", ",
                    prev.offset + prev.nbytes, "))"));
  }
}

}  // namespace rs::gguf
