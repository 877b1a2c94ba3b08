// libFuzzer target for a Hugging Face directory's tokenizer files: tokenizer.json,
// tokenizer_config.json and chat_template.jinja, as Tokenizer::from_hf_texts reads them. The
// input holds the three texts separated by NUL bytes (missing parts: no such file). A tokenizer
// that loads must then encode, decode and render a chat without anything but rs::Error.
// Seeds: fuzz/corpus/hf_tokenizer/.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = rs::fuzz::split_nul(data, size, 3);
  std::optional<std::string> config;
  if (parts.size() > 1) config = parts[1];
  const std::string jinja = parts.size() > 2 ? parts[2] : std::string();
  std::unique_ptr<rs::tok::Tokenizer> tok;
  try {
    tok = rs::tok::Tokenizer::from_hf_texts(parts[0], config, jinja, "fuzz");
  } catch (const rs::Error&) {
    return 0;
  }
  const std::string text = "Hello world 123, <|im_start|>ok\n\xC3\xA9";
  try {
    for (bool special : {false, true}) {
      std::vector<int32_t> ids = tok->encode(text, special, special);
      for (int32_t id : ids)
        if (id < 0 || id >= tok->n_vocab()) rs::fuzz::finding("encode produced an id out of range");
      (void)tok->decode(ids);
      (void)tok->decode(ids, /*skip_special=*/true);
    }
    (void)tok->stop_ids();
    (void)tok->chat_format();
    (void)tok->apply_chat({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}}, true);
  } catch (const rs::Error&) {
  }
  return 0;
}
