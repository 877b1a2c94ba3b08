// libFuzzer target for weight-edit files (edit apply, score --edit): bytes -> safetensors ->
// parse_edit_file. Anything but an edit or one rs::Error is a finding; an edit that loads must
// give every delta product(shape) values and a base_mean_abs. Seeds: fuzz/corpus/edit/.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/safetensors.h"
#include "methods/lens/edit_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = rs::SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
    const rs::lens::EditValues e = rs::lens::parse_edit_file(*f, "fuzz.safetensors");
    if (e.deltas.empty()) rs::fuzz::finding("parse_edit_file returned no deltas");
    for (const auto& d : e.deltas) {
      int64_t n = 1;
      for (int64_t s : d.shape) n *= s;
      if (static_cast<int64_t>(d.values.size()) != n) rs::fuzz::finding("parse_edit_file: size != shape");
      if (!e.base_mean_abs.count(d.name)) rs::fuzz::finding("parse_edit_file: no base_mean_abs");
    }
  } catch (const rs::Error&) {
  }
  return 0;
}
