// libFuzzer target for the safetensors reader: any byte string must either parse into a
// self-consistent file (every tensor inside the buffer, float tensors convertible) or raise
// rs::Error; nothing else (crash, sanitizer report, other exception) is allowed.
// Seed corpus: fuzz/corpus/safetensors/ (small valid files and near-misses).
// Run: ./fuzz_safetensors -max_total_time=300 fuzz/corpus/safetensors
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = rs::SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
    uint64_t end = f->data_offset();
    for (const auto& t : f->tensors()) {
      if (t.data < data || t.file_offset + t.nbytes > size) std::abort();
      if (static_cast<uint64_t>(t.numel()) * rs::st_dtype_size(t.dtype) != t.nbytes) std::abort();
      if (t.file_offset < end) std::abort();  // sorted, non-overlapping
      end = t.file_offset + t.nbytes;
      if (rs::st_dtype_is_float(t.dtype)) {
        std::vector<float> out = rs::st_to_float(t);
        if (out.size() != static_cast<size_t>(t.numel())) std::abort();
      }
      if (f->find(t.name) == nullptr) std::abort();
    }
    if (end != size) std::abort();  // the buffer is tiled exactly
  } catch (const rs::Error&) {
  }
  return 0;
}
