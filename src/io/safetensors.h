// Hugging Face safetensors: reader (mmap; single file, or a sharded model through
// model.safetensors.index.json) and writer (single or sharded, atomic).
//
// Format facts from the safetensors README (github.com/huggingface/safetensors, "Format"):
//   8 bytes   N, unsigned little-endian 64-bit: size of the header
//   N bytes   UTF-8 JSON object, starting with '{', may be padded at the end with spaces:
//             {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//              "__metadata__": {"<key>": "<string value>", ...}}   (metadata optional)
//   rest      the byte buffer; data_offsets are relative to its start, [begin, end).
// "The byte buffer needs to be entirely indexed, and cannot contain holes" (same README): the
// reader enforces that tensors tile the buffer exactly (no gaps, no overlaps, nothing after
// the last tensor), as the reference implementation's validation does. Shapes are row-major
// (C order, first dimension outermost), exactly as PyTorch/NumPy print them. Values are little
// endian. Tensor data need not be aligned in the file; conversions copy with memcpy.
//
// Every problem gives one rs::Error naming the file and either the byte offset or the JSON key,
// and what was expected: e.g. "m.safetensors: header key 'w': data_offsets [0, 10]: expected 12
// bytes for F32 shape [3]".
// This layer is torch-free; the model loader turns TensorViews into tensors.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap_file.h"

namespace rs {

enum class StDtype {
  F64, F32, F16, BF16, F8_E5M2, F8_E4M3, I64, I32, I16, I8, U64, U32, U16, U8, BOOL,
};
const char* st_dtype_name(StDtype t);          // "F32", as written in the header
uint64_t st_dtype_size(StDtype t);             // bytes per element
bool st_dtype_from_name(std::string_view name, StDtype& out);  // false if unknown
bool st_dtype_is_float(StDtype t);             // F64/F32/F16/BF16: convertible to float

// A tensor inside a mapped file (or memory buffer); valid while its file object lives.
struct StTensor {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<int64_t> shape;     // row-major, as in the file; {} = scalar
  const uint8_t* data = nullptr;  // first byte (may be unaligned)
  uint64_t nbytes = 0;
  uint64_t file_offset = 0;       // absolute offset of `data` in the file
  const std::string* file = nullptr;  // path of the file it lives in (for messages)
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps and validates the whole header. Throws rs::Error naming the file.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  // The same checks over bytes the caller keeps alive (tests, fuzzing). `name` for messages.
  static std::unique_ptr<SafetensorsFile> from_memory(const uint8_t* data, size_t size,
                                                      const std::string& name);

  const std::string& path() const { return path_; }
  uint64_t header_size() const { return header_size_; }  // N
  uint64_t data_offset() const { return 8 + header_size_; }
  // Tensors in data order (ascending offset).
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const StTensor* find(const std::string& name) const;
  const StTensor& tensor(const std::string& name) const;  // throws naming the file
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  void parse(const uint8_t* data, size_t size);
  MappedFile map_;
  std::string path_;
  uint64_t header_size_ = 0;
  std::vector<StTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a model, whether one file or many shards, as one name -> tensor view.
// open(path) accepts: a .safetensors file; a *.safetensors.index.json file (its "weight_map"
// names each tensor's shard, relative to the index's directory); or a directory holding
// model.safetensors.index.json, else model.safetensors, else any *.safetensors files.
// Each shard is opened once. Errors: a weight_map entry whose shard lacks the tensor, a
// shard path that leaves the directory, the same tensor in two shards.
class SafetensorsModel {
 public:
  static std::unique_ptr<SafetensorsModel> open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Sorted by name.
  const std::map<std::string, const StTensor*>& tensors() const { return tensors_; }
  const StTensor* find(const std::string& name) const;
  const StTensor& tensor(const std::string& name) const;  // throws naming the model path
  // The index's "metadata" object (e.g. total_size) as strings, or the single file's metadata.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  uint64_t total_bytes() const;

 private:
  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor*> tensors_;
  std::map<std::string, std::string> metadata_;
  void add_file(std::unique_ptr<SafetensorsFile> f);
};

// F64/F32/F16/BF16 -> float32. `dst` holds t.numel() floats. F16/BF16 convert exactly
// (io/ggml_types.h); F64 rounds to nearest. Other dtypes throw rs::Error naming the tensor.
void st_to_float(const StTensor& t, float* dst);
std::vector<float> st_to_float(const StTensor& t);

// Writer. Tensors are written in the order the reference implementation uses (larger dtype
// first, then by name) so every tensor starts at an offset aligned to its element size; the
// header is padded with spaces to a multiple of 8. Output appears atomically.
class SafetensorsWriter {
 public:
  void set_metadata(const std::string& key, const std::string& value);
  // From float data: stored as F32, F16 or BF16 (round to nearest even). shape row-major.
  void add(const std::string& name, StDtype dtype, std::vector<int64_t> shape, const float* data);
  // Raw little-endian bytes of any dtype; bytes.size() must equal numel * dtype size.
  void add_raw(const std::string& name, StDtype dtype, std::vector<int64_t> shape,
               std::vector<uint8_t> bytes);

  std::vector<uint8_t> to_bytes() const;
  void write(const std::string& path) const;
  // Shards of at most max_shard_bytes of tensor data each (a bigger tensor gets a shard of its
  // own), named <prefix>-00001-of-0000K.safetensors, plus <prefix>.safetensors.index.json with
  // {"metadata": {"total_size": ...}, "weight_map": {...}}. One shard -> <prefix>.safetensors
  // and no index. Returns the paths written (index last).
  std::vector<std::string> write_sharded(const std::string& dir, uint64_t max_shard_bytes,
                                         const std::string& prefix = "model") const;

 private:
  struct Pending {
    std::string name;
    StDtype dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::map<std::string, std::string> metadata_;
  std::vector<Pending> tensors_;
  std::vector<const Pending*> ordered() const;
  std::vector<uint8_t> serialize(const std::vector<const Pending*>& items) const;
};

}  // namespace rs
