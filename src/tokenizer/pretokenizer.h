// Pre-tokenizers: a sequence of regular expressions (PCRE2, UTF mode with Unicode properties)
// applied in turn; each one splits every piece produced so far into its matches and the
// unmatched stretches between them, all kept ("isolated" splitting, as the Hugging Face
// `Split` pre-tokenizer with behavior Isolated does, and as llama.cpp applies its lists).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rs::tok {

class Regex;  // compiled PCRE2 pattern (pretokenizer.cpp)

class PreTokenizer {
 public:
  explicit PreTokenizer(std::vector<std::string> patterns);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Pieces of `text` as (offset, length), in order, covering every byte. Bytes that are not
  // valid UTF-8 never match a pattern, so they end up in the unmatched stretches.
  std::vector<std::pair<size_t, size_t>> split(std::string_view text) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

// The regex lists for the pre-tokenizer names found in GGUF tokenizer.ggml.pre.
// Throws rs::Error (naming `source` and the key) for a name it does not know.
std::vector<std::string> pretokenizer_patterns(const std::string& pre_name, const std::string& source);
// Canonical family name: "gpt-2", "smollm" (also starcoder, refact, command-r), "llama3",
// "qwen2", "default"; empty if unknown.
std::string pretokenizer_family(const std::string& pre_name);

// Shared patterns (facts: GPT-2's encoder.py regex; the Llama 3 / Qwen2 tokenizer.json regexes).
extern const char* const kGpt2Pattern;
extern const char* const kLlama3Pattern;
extern const char* const kQwen2Pattern;

}  // namespace rs::tok
