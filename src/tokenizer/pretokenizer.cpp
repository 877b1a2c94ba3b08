#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"

namespace rs::tok {

// GPT-2 (openai/gpt-2 src/encoder.py), with the trailing "\s+" alternative that the Hugging
// Face ByteLevel pre-tokenizer adds; with isolated splitting it changes nothing.
const char* const kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
// Meta Llama 3 tokenizer.json pre_tokenizer Split regex (digits in groups of up to three).
const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen2 tokenizer.json: the Llama 3 regex with single digits.
const char* const kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

class Regex {
 public:
  explicit Regex(const std::string& pattern) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
    if (!code_) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof buf);
      fail("pre-tokenizer regex \"", pattern, "\": offset ", off, ": ",
           reinterpret_cast<const char*>(buf));
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if no JIT
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the isolated split of subject[0, len) (offsets relative to `base`).
  void split(const char* subject, size_t len, size_t base,
             std::vector<std::pair<size_t, size_t>>& out, pcre2_match_data* md) const {
    size_t pos = 0, gap_start = 0;
    while (pos < len) {
      int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject), len, pos, 0, md, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(rc, buf, sizeof buf);
        fail("pre-tokenizer: regex match failed at byte ", base + pos, ": ",
             reinterpret_cast<const char*>(buf));
      }
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      size_t ms = ov[0], me = ov[1];
      if (me <= ms) {  // empty match: none of our patterns produce one, but never loop
        pos = ms + 1;
        continue;
      }
      if (ms > gap_start) out.emplace_back(base + gap_start, ms - gap_start);
      out.emplace_back(base + ms, me - ms);
      pos = gap_start = me;
    }
    if (len > gap_start) out.emplace_back(base + gap_start, len - gap_start);
  }
  pcre2_code* code() const { return code_; }

 private:
  pcre2_code* code_ = nullptr;
};

PreTokenizer::PreTokenizer(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  for (const auto& p : patterns_) regexes_.push_back(std::make_unique<Regex>(p));
}
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

namespace {
struct MatchData {
  pcre2_match_data* md;
  MatchData() : md(pcre2_match_data_create(8, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(md); }
};
}  // namespace

std::vector<std::pair<size_t, size_t>> PreTokenizer::split(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> pieces;
  if (text.empty()) return pieces;
  pieces.emplace_back(0, text.size());
  thread_local MatchData md;  // match data is per thread; compiled code is shared
  for (const auto& re : regexes_) {
    std::vector<std::pair<size_t, size_t>> next;
    next.reserve(pieces.size() * 2);
    for (auto [off, len] : pieces) re->split(text.data() + off, len, off, next, md.md);
    pieces.swap(next);
  }
  return pieces;
}

std::string pretokenizer_family(const std::string& name) {
  // Name -> family as llama.cpp's llama-vocab.cpp assigns tokenizer.ggml.pre values.
  if (name == "gpt-2" || name == "gpt2" || name == "mpt" || name == "olmo" || name == "jais" ||
      name == "phi-2")
    return "gpt-2";
  if (name == "smollm" || name == "starcoder" || name == "refact" || name == "command-r" ||
      name == "codeshell" || name == "exaone" || name == "minerva-7b")
    return "smollm";
  if (name == "llama3" || name == "llama-v3" || name == "llama-bpe" || name == "falcon3")
    return "llama3";
  if (name == "qwen2" || name == "stablelm2" || name == "deepseek-r1-qwen") return "qwen2";
  if (name == "default") return "default";
  return "";
}

std::vector<std::string> pretokenizer_patterns(const std::string& name, const std::string& source) {
  const std::string family = pretokenizer_family(name);
  if (family == "gpt-2") return {kGpt2Pattern};
  if (family == "smollm") return {"\\p{N}", kGpt2Pattern};  // digits one by one, then GPT-2
  if (family == "llama3") return {kLlama3Pattern};
  if (family == "qwen2") return {kQwen2Pattern};
  if (family == "default")  // llama.cpp's list for BPE vocabularies without a named pre-tokenizer
    return {"[\\p{P}\\$\\+<=>\\^~\\|]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "\\p{N}+", "[0-9][0-9][0-9]"};
  fail(source, ": metadata key tokenizer.ggml.pre: unsupported pre-tokenizer \"", name,
       "\" (supported: gpt-2, smollm, starcoder, llama3, llama-bpe, qwen2, default and aliases)");
}

}  // namespace rs::tok
