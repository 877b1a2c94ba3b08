// Tokenizers: byte-level BPE (GPT-2 style, "gpt2" in GGUF) and SentencePiece-style vocabularies
// ("llama" in GGUF: scores, <0xXX> byte fallback, U+2581 for spaces), loaded from a GGUF file's
// tokenizer.ggml.* metadata or from a Hugging Face tokenizer.json (+ tokenizer_config.json).
// Chat templates are recognised from the Jinja source by distinctive markers and rendered by
// hand for the known formats (no Jinja interpreter).
//
// Thread safety: a constructed Tokenizer is immutable; encode/decode may run concurrently.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rs::gguf {
class File;
}

namespace rs::tok {

// Token types as stored in tokenizer.ggml.token_type (llama.cpp's convention, GGUF spec).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { None, ChatML, Llama3, Llama2, Gemma };
const char* chat_format_name(ChatFormat f);  // "none", "chatml", "llama3", "llama2", "gemma"
// Recognise a chat template from its Jinja source by the markers each format emits.
ChatFormat detect_chat_format(const std::string& jinja_source);

// Everything a tokenizer is built from, independent of the container it came from. Exposed so
// tests (and hostile-input checks) can build tokenizers from arrays directly.
struct VocabSpec {
  // Names of the fields in the source container, used in error messages (GGUF keys by default;
  // the tokenizer.json loader sets its own).
  struct Keys {
    std::string tokens = "tokenizer.ggml.tokens";
    std::string merges = "tokenizer.ggml.merges";
    std::string token_types = "tokenizer.ggml.token_type";
    std::string scores = "tokenizer.ggml.scores";
    std::string bos = "tokenizer.ggml.bos_token_id";
    std::string eos = "tokenizer.ggml.eos_token_id";
    std::string eot = "tokenizer.ggml.eot_token_id";
    std::string pad = "tokenizer.ggml.padding_token_id";
    std::string unk = "tokenizer.ggml.unknown_token_id";
    std::string pre = "tokenizer.ggml.pre";
  };
  Keys keys;
  std::string source;          // file name used in error messages
  std::string model = "gpt2";  // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre = "default"; // pre-tokenizer name (tokenizer.ggml.pre)
  // Regexes to use instead of the named pre-tokenizer's (tokenizer.json gives them directly).
  std::vector<std::string> pre_patterns;
  bool ignore_merges = false;  // a whole pre-token found in the vocab is taken as is (Llama 3)
  std::vector<std::string> tokens;
  std::vector<std::string> merges;      // "a b" pairs, rank = index (gpt2 only)
  std::vector<int32_t> token_types;     // empty -> all Normal
  std::vector<float> scores;            // llama only; empty -> all 0
  int32_t bos_id = -1, eos_id = -1, eot_id = -1, pad_id = -1, unk_id = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;  // llama: prepend U+2581 to the text (SentencePiece dummy prefix)
  std::string chat_template;
};

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Throws rs::Error naming the file and the metadata key when the arrays are inconsistent.
  static std::unique_ptr<Tokenizer> from_spec(VocabSpec spec);
  static std::unique_ptr<Tokenizer> from_gguf(const rs::gguf::File& f);
  static std::unique_ptr<Tokenizer> from_gguf_path(const std::string& path);
  // dir/tokenizer.json (+ dir/tokenizer_config.json for bos/eos, add_bos and the chat template).
  static std::unique_ptr<Tokenizer> from_hf_dir(const std::string& dir);
  // The same from the files' texts (tests, fuzzing): no config_json means no
  // tokenizer_config.json, an empty chat_jinja no chat_template.jinja; `dir` names the files
  // in messages.
  static std::unique_ptr<Tokenizer> from_hf_texts(const std::string& tokenizer_json,
                                                  const std::optional<std::string>& config_json,
                                                  const std::string& chat_jinja,
                                                  const std::string& dir);
  // A .gguf file or a Hugging Face model directory.
  static std::unique_ptr<Tokenizer> from_model_path(const std::string& path);

  // add_special: BOS/EOS as the file's add_bos/add_eos say. parse_special: text of control
  // tokens (e.g. "<|im_start|>") becomes that token instead of being split. User-defined tokens
  // (TokenType::UserDefined, e.g. Gemma's "  " or "\n\n") are matched in the raw text either way,
  // leftmost-longest, before merging (as SentencePiece and llama.cpp do).
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = true) const;
  // Exact inverse of encode on the bytes (invalid UTF-8 from byte tokens survives untouched).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  std::string token_text(int32_t id) const;  // decoded bytes of one token (streaming, pieces)
  // True when every byte of `text` has a token of its own to fall back on, so that
  // decode(encode(text)) == text is guaranteed. Byte-level vocabularies trained on text often
  // lack bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5..0xFF) and some control characters;
  // such bytes are encoded as the unknown token (or dropped when there is none).
  bool covers_bytes(std::string_view text) const;
  std::string piece(int32_t id) const;       // the vocab string as stored

  int32_t n_vocab() const;
  int32_t bos_id() const;  // -1 if none
  int32_t eos_id() const;
  int32_t eot_id() const;
  int32_t pad_id() const;
  bool add_bos() const;
  bool add_eos() const;
  bool is_special(int32_t id) const;  // control or user-defined token
  TokenType token_type(int32_t id) const;
  int32_t find_token(std::string_view piece) const;  // -1 if not in the vocab
  // Tokens that end a generation: eos, eot, and the end-of-turn token of the chat format
  // (e.g. <|im_end|> for ChatML) when the vocab has it. Sorted, no duplicates.
  std::vector<int32_t> stop_ids() const;

  std::string model_kind() const;  // "gpt2" or "llama"
  std::string pre_type() const;    // pre-tokenizer name as the file gives it ("custom" for an
                                   // unrecognised tokenizer.json chain; unused by "llama")
  ChatFormat chat_format() const;
  std::string chat_template_source() const;
  // A file without tokenizer.chat_template whose vocabulary has <start_of_turn> and
  // <end_of_turn> (Gemma base models) gets the Gemma format.
  // The prompt text for a conversation in the model's chat format; encode it with
  // add_special = false (the text already holds BOS where the format has one) and
  // parse_special = true. Throws rs::Error when the format is None (no template or an
  // unrecognised one). Llama 3.1+ templates that add a dated system header are rendered as
  // Llama 3 (without that header).
  std::string apply_chat(const std::vector<ChatMessage>& msgs, bool add_generation_prompt) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rs::tok
