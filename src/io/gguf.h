// GGUF container: reader (mmap, versions 2 and 3) and writer.
// Format facts from the GGUF specification in the ggml repository (docs/gguf.md):
// header = magic "GGUF", u32 version, u64 n_tensors, u64 n_kv; then n_kv key/value pairs,
// then n_tensors tensor infos, then padding to general.alignment (default 32), then data.
// Every count, length and offset is checked against the file size before it is used; a bad
// file gives one rs::Error naming the file and the byte offset where reading went wrong.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "io/ggml_types.h"

namespace rs::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars use the field matching their type class. Arrays (arrays of
// arrays are allowed by the spec) keep their elements encoded as in the file, so an array
// costs about its size on disk: one decoded Value per element (~100 bytes) would let a
// crafted 100 MB UINT8 array ask for 10 GB. item(k) decodes one element.
struct Value {
  ValueType type = ValueType::UINT8;
  uint64_t u = 0;        // UINT8/16/32/64, BOOL (0/1)
  int64_t i = 0;         // INT8/16/32/64
  double f = 0.0;        // FLOAT32/64
  std::string s;         // STRING
  ValueType elem_type = ValueType::UINT8;  // ARRAY
  // ARRAY: the elements' bytes in GGUF encoding (little-endian scalars; a string is u64
  // length + bytes; a nested array is u32 type + u64 count + elements) and their count,
  // exactly as in the file: nothing per element beyond its own bytes. Filled by the reader
  // (which validated them) or by of_array; do not edit them by hand.
  std::vector<uint8_t> raw;
  uint64_t count = 0;

  size_t size() const { return static_cast<size_t>(count); }  // ARRAY: element count
  // ARRAY: element k (k < size()); O(1) for fixed-size elements, O(k) for STRING and ARRAY.
  Value item(size_t k) const;
  // ARRAY: calls fn on each element in order until it returns false (one pass over raw).
  void visit(const std::function<bool(const Value&)>& fn) const;

  static Value of_u32(uint32_t v);
  static Value of_i32(int32_t v);
  static Value of_u64(uint64_t v);
  static Value of_f32(float v);
  static Value of_bool(bool v);
  static Value of_string(std::string v);
  // Throws rs::Error when an item's type differs from `elem` or its value does not fit it.
  static Value of_array(ValueType elem, const std::vector<Value>& items);
  static Value of_u8(uint8_t v);
  static Value of_i8(int8_t v);
  static Value of_u16(uint16_t v);
  static Value of_i16(int16_t v);
  static Value of_i64(int64_t v);
  static Value of_f64(double v);

  bool is_integer() const;
  bool is_float() const;
  int64_t as_int() const;   // any integer or bool type; throws rs::Error otherwise
  double as_float() const;  // any numeric type
  // Short human-readable form: scalars in full, strings quoted, arrays as
  // "[3 x UINT32: 1, 2, 3]" with at most max_items items shown.
  std::string to_string(size_t max_items = 8) const;
};
// Same type and same contents (float fields compared as values; NaN equals NaN).
bool operator==(const Value& a, const Value& b);
inline bool operator!=(const Value& a, const Value& b) { return !(a == b); }
// Appends v in GGUF encoding (the type tag is not written). Throws rs::Error when a scalar
// does not fit its type (e.g. UINT8 holding 300).
void encode_value(const Value& v, std::vector<uint8_t>& out);
// Encoded size of one element of a fixed-size type (1, 2, 4 or 8); 0 for STRING and ARRAY.
size_t fixed_size(ValueType t);

// Limits the reader enforces (ggml: GGML_MAX_DIMS = 4). Nested arrays deeper than
// kMaxArrayDepth are refused so a hostile file cannot exhaust the stack.
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 16;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;   // GGUF/ggml order: ne[0] is the innermost (contiguous) dimension
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;       // relative to the start of the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the mapping
  int64_t n_elements() const;
};

class File {
 public:
  // Opens and validates the whole structure (not the tensor contents). Throws rs::Error.
  static std::unique_ptr<File> open(const std::string& path);
  // Same checks over bytes already in memory (fuzzing, tests); `name` is used in messages.
  // The bytes are not copied: they must outlive the File (TensorInfo::data points into them).
  static std::unique_ptr<File> from_memory(const uint8_t* data, size_t size,
                                           const std::string& name);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }  // file order
  const Value* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // Typed getters: throw rs::Error "<file>: metadata key K: expected T, found U" / "missing".
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;
  // Defaults when the key is absent (but still throw on a wrong type).
  std::string get_string_or(const std::string& key, const std::string& def) const;
  int64_t get_int_or(const std::string& key, int64_t def) const;
  double get_float_or(const std::string& key, double def) const;
  bool get_bool_or(const std::string& key, bool def) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  const TensorInfo& tensor(const std::string& name) const;  // throws naming the file
  // The tensor's elements as f32 (dequantised; see io/ggml_types.h). Throws rs::Error naming
  // the file and tensor when its type cannot be dequantised.
  std::vector<float> dequantize_tensor(const TensorInfo& t, int n_threads = 1) const;

 private:
  File() = default;
  void parse(const uint8_t* data, size_t size);
  MappedFile map_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Writer: all metadata types; tensors as raw bytes of any GgmlType whose size matches.
// Output is written atomically (core/atomic_file.h). Version 3, alignment 32 unless the
// metadata sets general.alignment.
class Writer {
 public:
  void set(const std::string& key, Value v);  // replaces an existing key, keeps order otherwise
  // ne in ggml order (innermost first). `bytes` must be exactly ggml_nbytes(type, ne).
  void add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                  std::vector<uint8_t> bytes);
  void add_tensor_f32(const std::string& name, std::vector<int64_t> ne, const float* data);
  void add_tensor_f16(const std::string& name, std::vector<int64_t> ne, const float* data);
  void write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> bytes;
  };
  // Streams the whole file through `out` (header, metadata, infos, padded data).
  void serialize(const std::function<void(const void*, size_t)>& out) const;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace rs::gguf
