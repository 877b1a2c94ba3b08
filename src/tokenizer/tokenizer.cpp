// Tokenizer construction (validation of the vocabulary arrays), encode and decode.
#include <algorithm>
#include <cstdio>
#include <sys/stat.h>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace rs::tok {

namespace {
const char* const kSpmSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

std::string escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == ' ')
      out += kSpmSpace;
    else
      out += c;
  }
  return out;
}

std::string unescape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, kSpmSpace) == 0) {
      out += ' ';
      i += 3;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// "<0x1F>" -> 0x1F; -1 if the text is not of that form.
int parse_byte_piece(std::string_view s) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    char c = s[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
}  // namespace

// ---- SpecialTrie ----

void SpecialTrie::insert(std::string_view text, int32_t id) {
  int32_t node = 0;
  for (char ch : text) {
    uint8_t c = static_cast<uint8_t>(ch);
    int32_t child = -1;
    for (auto& [k, v] : nodes_[node].next)
      if (k == c) child = v;
    if (child < 0) {
      child = static_cast<int32_t>(nodes_.size());
      nodes_[node].next.emplace_back(c, child);
      nodes_.emplace_back();
    }
    node = child;
  }
  if (nodes_[node].token < 0) nodes_[node].token = id;  // first id with this text wins
}

std::pair<int32_t, size_t> SpecialTrie::longest_at(std::string_view text, size_t pos) const {
  std::pair<int32_t, size_t> best{-1, 0};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(text[i]);
    int32_t child = -1;
    for (auto& [k, v] : nodes_[node].next)
      if (k == c) {
        child = v;
        break;
      }
    if (child < 0) break;
    node = child;
    if (nodes_[node].token >= 0) best = {nodes_[node].token, i + 1 - pos};
  }
  return best;
}

// ---- construction ----

void Tokenizer::Impl::build() {
  const std::string& src = spec.source;
  const auto& K = spec.keys;
  if (spec.model != "gpt2" && spec.model != "llama")
    fail(src, ": metadata key tokenizer.ggml.model: unsupported tokenizer model \"", spec.model,
         "\" (supported: gpt2 = byte-level BPE, llama = SentencePiece)");
  is_spm = spec.model == "llama";
  const size_t n = spec.tokens.size();
  if (n == 0) fail(src, ": ", K.tokens, ": the vocabulary is empty");
  if (n > static_cast<size_t>(INT32_MAX))
    fail(src, ": ", K.tokens, ": ", n, " tokens is more than token ids can hold");

  types.assign(n, TokenType::Normal);
  if (!spec.token_types.empty()) {
    if (spec.token_types.size() != n)
      fail(src, ": ", K.token_types, ": ", spec.token_types.size(), " entries, expected ", n,
           " (one per token in ", K.tokens, ")");
    for (size_t i = 0; i < n; ++i) {
      int32_t t = spec.token_types[i];
      if (t < 0 || t > 6)
        fail(src, ": ", K.token_types, ": entry ", i, " is ", t, ", expected a token type 0..6");
      types[i] = static_cast<TokenType>(t);
    }
  }
  scores.assign(n, 0.0f);
  if (!spec.scores.empty()) {
    if (spec.scores.size() != n)
      fail(src, ": ", K.scores, ": ", spec.scores.size(), " entries, expected ", n,
           " (one per token in ", K.tokens, ")");
    scores = spec.scores;
  }
  auto check_id = [&](int32_t id, const std::string& key) {
    if (id < -1 || id >= static_cast<int64_t>(n))
      fail(src, ": ", key, ": token id ", id, " is out of range [0, ", n, ")");
  };
  check_id(spec.bos_id, K.bos);
  check_id(spec.eos_id, K.eos);
  check_id(spec.eot_id, K.eot);
  check_id(spec.pad_id, K.pad);
  check_id(spec.unk_id, K.unk);

  token_to_id.build(spec.tokens);  // duplicate texts: the last id wins

  byte_token.fill(-1);
  if (is_spm) {
    for (size_t i = 0; i < n; ++i) {
      int b = parse_byte_piece(spec.tokens[i]);
      if (b >= 0 && (types[i] == TokenType::Byte || byte_token[b] < 0))
        byte_token[b] = static_cast<int32_t>(i);
    }
  } else {
    const ByteUnicode& bu = byte_unicode();
    for (int b = 0; b < 256; ++b) {
      byte_token[b] = token_to_id.find(bu.byte_to_utf8[b]);
    }
    merges.reserve(spec.merges.size());
    std::string joined;
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      const std::string& m = spec.merges[r];
      size_t sp = m.find(' ', 1);  // a merge is "left right"; left may itself start with a space
      if (sp == std::string::npos || sp + 1 >= m.size() || m.find(' ', sp + 1) != std::string::npos)
        fail(src, ": ", K.merges, ": entry ", r, " \"", m, "\" is not two tokens separated by one space");
      std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
      int32_t li = token_to_id.find(left), ri = token_to_id.find(right);
      if (li < 0 || ri < 0)
        fail(src, ": ", K.merges, ": entry ", r, " \"", m, "\" references token \"",
             li < 0 ? left : right, "\" that is not in ", K.tokens);
      joined.assign(left);
      joined.append(right);
      int32_t ji = token_to_id.find(joined);
      if (ji < 0)
        fail(src, ": ", K.merges, ": entry ", r, " \"", m, "\" merges into \"", joined,
             "\" that is not in ", K.tokens);
      merges.insert(li, ri, static_cast<int32_t>(r), ji);  // first (lowest) rank wins
    }
    std::vector<std::string> patterns = spec.pre_patterns;
    if (patterns.empty()) {
      if (pretokenizer_family(spec.pre).empty())
        fail(src, ": ", K.pre, ": unsupported pre-tokenizer \"", spec.pre,
             "\" (supported: gpt-2, smollm, starcoder, llama3, llama-bpe, qwen2, default and aliases)");
      patterns = pretokenizer_patterns(spec.pre, src);
    }
    pre = std::make_unique<PreTokenizer>(std::move(patterns));
  }

  for (size_t i = 0; i < n; ++i) {
    if (!is_splittable_special(static_cast<int32_t>(i)) || spec.tokens[i].empty()) continue;
    specials.insert(spec.tokens[i], static_cast<int32_t>(i));
    if (types[i] == TokenType::UserDefined) user_defined.insert(spec.tokens[i], static_cast<int32_t>(i));
  }
  chat = detect_chat_format(spec.chat_template);
  // A file without a template whose vocabulary has Gemma's turn markers (the Gemma 3 base GGUFs
  // carry none): the Gemma format is the only one its tokens can express.
  if (chat == ChatFormat::None && spec.chat_template.empty() && token_to_id.find("<start_of_turn>") >= 0 &&
      token_to_id.find("<end_of_turn>") >= 0)
    chat = ChatFormat::Gemma;
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_spec(VocabSpec spec) {
  auto impl = std::make_unique<Impl>();
  impl->spec = std::move(spec);
  impl->build();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::unique_ptr<Tokenizer> Tokenizer::from_model_path(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) fail(path, ": cannot read tokenizer (no such file or directory)");
  if (S_ISDIR(st.st_mode)) return from_hf_dir(path);
  return from_gguf_path(path);
}

// ---- encode ----

void Tokenizer::Impl::encode_fragment(std::string_view text, bool after_special,
                                      std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (is_spm) {
    // SentencePiece's dummy prefix: a space before the text (llama.cpp also adds it after each
    // special token it split out, as the Hugging Face "legacy" Llama tokenizer does).
    std::string s;
    if (spec.add_space_prefix && after_special) s = " ";
    s.append(text);
    spm_text(escape_spaces(s), out);
    return;
  }
  for (auto [off, len] : pre->split(text)) bpe_word(text.substr(off, len), out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && m.spec.add_bos && m.spec.bos_id >= 0) out.push_back(m.spec.bos_id);
  bool after_special = true;  // the start of the text counts as a fragment boundary
  // User-defined pieces (token type 4, e.g. Gemma's runs of spaces, tabs and newlines) are
  // matched in the raw text before any merging, whatever parse_special says: SentencePiece
  // freezes them in its symbol list (bpe_model.cc, PrefixMatcher) and llama.cpp splits them out
  // in tokenizer_st_partition, which skips only control and unknown tokens when not parsing
  // special tokens. Leftmost-longest match, as both.
  const SpecialTrie& trie = parse_special ? m.specials : m.user_defined;
  if (!trie.empty()) {
    size_t frag = 0;
    for (size_t i = 0; i < text.size();) {
      auto [id, len] = trie.longest_at(text, i);
      if (id < 0) {
        ++i;
        continue;
      }
      m.encode_fragment(text.substr(frag, i - frag), after_special, out);
      out.push_back(id);
      after_special = true;
      i += len;
      frag = i;
    }
    m.encode_fragment(text.substr(frag), after_special, out);
  } else {
    m.encode_fragment(text, after_special, out);
  }
  if (add_special && m.spec.add_eos && m.spec.eos_id >= 0) out.push_back(m.spec.eos_id);
  return out;
}

// ---- decode ----

std::string Tokenizer::Impl::normal_text(int32_t id) const {
  const std::string& t = spec.tokens[id];
  if (is_spm) {
    if (types[id] == TokenType::Byte) {
      int b = parse_byte_piece(t);
      if (b >= 0) return std::string(1, static_cast<char>(b));
    }
    return unescape_spaces(t);
  }
  return byte_level_to_bytes(t);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string out;
  bool at_fragment_start = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab())
      fail("decode: token id ", id, " is out of range [0, ", n_vocab(), ")");
    if (m.is_splittable_special(id)) {
      TokenType t = m.types[id];
      if (!(skip_special && (t == TokenType::Control || t == TokenType::Unknown)))
        out += m.spec.tokens[id];
      at_fragment_start = true;
      continue;
    }
    std::string text = m.normal_text(id);
    // Undo the dummy prefix encode added at the start of each fragment.
    if (m.is_spm && m.spec.add_space_prefix && at_fragment_start && !text.empty() && text[0] == ' ')
      text.erase(0, 1);
    at_fragment_start = false;
    out += text;
  }
  return out;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id ", id, " is out of range [0, ", n_vocab(), ")");
  if (impl_->is_splittable_special(id)) return impl_->spec.tokens[id];
  return impl_->normal_text(id);
}

bool Tokenizer::covers_bytes(std::string_view text) const {
  for (char c : text)
    if (impl_->byte_token[static_cast<uint8_t>(c)] < 0) return false;
  return true;
}

std::string Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id ", id, " is out of range [0, ", n_vocab(), ")");
  return impl_->spec.tokens[id];
}

// ---- accessors ----

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->spec.tokens.size()); }
int32_t Tokenizer::bos_id() const { return impl_->spec.bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->spec.eos_id; }
int32_t Tokenizer::eot_id() const { return impl_->spec.eot_id; }
int32_t Tokenizer::pad_id() const { return impl_->spec.pad_id; }
bool Tokenizer::add_bos() const { return impl_->spec.add_bos; }
bool Tokenizer::add_eos() const { return impl_->spec.add_eos; }
bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < n_vocab() && impl_->is_splittable_special(id);
}
TokenType Tokenizer::token_type(int32_t id) const {
  if (id < 0 || id >= n_vocab()) fail("token id ", id, " is out of range [0, ", n_vocab(), ")");
  return impl_->types[id];
}
int32_t Tokenizer::find_token(std::string_view piece) const {
  return impl_->token_to_id.find(piece);
}
std::string Tokenizer::model_kind() const { return impl_->spec.model; }
std::string Tokenizer::pre_type() const { return impl_->spec.pre; }
ChatFormat Tokenizer::chat_format() const { return impl_->chat; }
std::string Tokenizer::chat_template_source() const { return impl_->spec.chat_template; }

std::vector<int32_t> Tokenizer::stop_ids() const {
  std::vector<int32_t> ids;
  for (int32_t id : {eos_id(), eot_id()})
    if (id >= 0) ids.push_back(id);
  const char* turn_end = nullptr;
  switch (impl_->chat) {
    case ChatFormat::ChatML: turn_end = "<|im_end|>"; break;
    case ChatFormat::Llama3: turn_end = "<|eot_id|>"; break;
    case ChatFormat::Gemma: turn_end = "<end_of_turn>"; break;
    default: break;
  }
  if (turn_end) {
    int32_t id = find_token(turn_end);
    if (id >= 0) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace rs::tok
