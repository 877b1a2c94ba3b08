// libFuzzer target for the GGUF reader and the dequantisers: any input must either parse
// (and then every supported tensor dequantises within its bounds) or throw rs::Error.
// Anything else (crash, sanitizer report, other exception) is a finding. A file that parses
// also goes through what loading a model reads from the metadata: the model config and the
// tokenizer (which must then encode and decode).
// Seeds: fuzz/corpus/gguf/ (small files made by gguf::Writer).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = rs::gguf::File::from_memory(data, size, "fuzz.gguf");
    for (const auto& t : file->tensors()) {
      if (!rs::ggml_type_dequant_supported(t.type)) continue;
      std::vector<float> out(static_cast<size_t>(t.n_elements()));
      rs::dequantize(t.type, t.data, out.data(), t.n_elements());
    }
    // Exercise the lookups and printing too.
    for (const auto& kv : file->metadata()) {
      (void)kv.second.to_string(4);
      (void)file->find(kv.first);
    }
    try {
      const rs::ModelConfig c = rs::config_from_gguf(*file);
      (void)c.summary();
      (void)c.n_params();
    } catch (const rs::Error&) {
    }
    auto tok = rs::tok::Tokenizer::from_gguf(*file);
    const std::vector<int32_t> ids = tok->encode("Hello world, 123 <|im_start|>\xC3\xA9", true, true);
    (void)tok->decode(ids);
  } catch (const rs::Error&) {
    // Expected for malformed input.
  }
  return 0;
}
