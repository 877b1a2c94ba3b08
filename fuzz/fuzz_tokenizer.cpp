// libFuzzer target for the tokenizer: encode arbitrary bytes with the default model's tokenizer
// (byte-level BPE, $REASONSCOPE_MODEL or the default model path) and with llama.cpp's
// SentencePiece test vocabulary (../shared/benchmarks/tokenizer-vectors/ggml-vocab-llama-spm.gguf,
// or $RS_FUZZ_SPM_VOCAB), and check that decoding gives the input back.
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz-tok -DRS_FUZZ=ON -DRS_WITH_TORCH=OFF \
//     -DRS_BUILD_TESTS=OFF -DRS_BUILD_BENCH=OFF && cmake --build build-fuzz-tok --target fuzz_tokenizer
//   REASONSCOPE_MODEL=model.gguf build-fuzz-tok/fuzz/fuzz_tokenizer fuzz/corpus/tokenizer -max_total_time=300
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include "core/paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using rs::tok::Tokenizer;

std::unique_ptr<Tokenizer> load_bpe() {
  return Tokenizer::from_model_path(rs::default_model_path());
}

std::unique_ptr<Tokenizer> load_spm() {
  std::string path;
  if (const char* env = std::getenv("RS_FUZZ_SPM_VOCAB")) {
    path = env;
  } else {
    std::string here = __FILE__;  // <repo>/fuzz/fuzz_tokenizer.cpp -> <repo>/../shared/...
    path = here.substr(0, here.rfind("/fuzz/")) +
           "/../shared/benchmarks/tokenizer-vectors/ggml-vocab-llama-spm.gguf";
  }
  if (::access(path.c_str(), R_OK) != 0) return nullptr;
  return Tokenizer::from_gguf_path(path);
}

[[noreturn]] void die(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_tokenizer: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

void check(const Tokenizer& tok, std::string_view s, bool parse_special, bool spm) {
  std::vector<int32_t> ids = tok.encode(s, /*add_special=*/false, parse_special);
  std::string back = tok.decode(ids);
  std::string joined;
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.n_vocab()) die("encode produced an id out of range", s);
    joined += tok.token_text(id);
  }
  // Every byte must come back when the vocab has a token for each byte. SentencePiece turns a
  // literal U+2581 into a space, so texts containing it are exempt there.
  bool exact = tok.covers_bytes(s);
  if (spm) exact = exact && s.find("\xE2\x96\x81") == std::string_view::npos;
  if (exact && back != s) die("decode(encode(s)) != s", s);
  if (!spm && exact && joined != s) die("concatenated token_text != s", s);
  // With BOS/EOS as the file says, skipping specials must give the same text when no
  // special-token text was parsed.
  std::vector<int32_t> with_special = tok.encode(s, /*add_special=*/true, /*parse_special=*/false);
  if (exact && tok.decode(with_special, /*skip_special=*/true) != s)
    die("decode(encode(s, add_special), skip_special) != s", s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Tokenizer> bpe = load_bpe();
  static std::unique_ptr<Tokenizer> spm = load_spm();
  std::string_view s(reinterpret_cast<const char*>(data), size);
  check(*bpe, s, /*parse_special=*/false, /*spm=*/false);
  check(*bpe, s, /*parse_special=*/true, /*spm=*/false);
  if (spm) {
    check(*spm, s, false, true);
    check(*spm, s, true, true);
  }
  return 0;
}
