// libFuzzer target for chat templates: a template source (as tokenizer.chat_template or
// tokenizer_config.json gives it) is recognised and a conversation rendered in its format.
// Input: the template, then role/content pairs, all separated by NUL bytes; the first byte
// picks which special tokens the vocabulary has. Recognised formats must render without
// anything but rs::Error, the rendering must contain every user message's text, and it must
// encode and decode back to itself. Seeds: fuzz/corpus/chat/.
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using namespace rs::tok;

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& tmpl, uint8_t flags) {
  VocabSpec s;
  s.source = "fuzz";
  s.model = "gpt2";
  s.pre = "gpt-2";
  for (const std::string& b : rs::tok::byte_unicode().byte_to_utf8) s.tokens.push_back(b);
  s.token_types.assign(s.tokens.size(), static_cast<int32_t>(TokenType::Normal));
  auto special = [&](const char* text) {
    s.tokens.push_back(text);
    s.token_types.push_back(static_cast<int32_t>(TokenType::Control));
    return static_cast<int32_t>(s.tokens.size() - 1);
  };
  const int32_t bos = special((flags & 1) ? "<bos>" : "<s>");
  const int32_t eos = special((flags & 1) ? "<eos>" : "</s>");
  if (flags & 2) s.bos_id = bos;
  if (flags & 4) s.eos_id = eos;
  for (const char* t : {"<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>",
                        "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                        "<|eot_id|>"})
    if (flags & 8) special(t);
  s.chat_template = tmpl;
  return Tokenizer::from_spec(std::move(s));
}

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<std::string> parts = rs::fuzz::split_nul(data + 1, size - 1, 1 + 2 * 8);
  std::vector<ChatMessage> msgs;
  for (size_t i = 1; i + 1 < parts.size(); i += 2) msgs.push_back({parts[i], parts[i + 1]});
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = make_tokenizer(parts[0], data[0]);
  } catch (const rs::Error&) {
    return 0;
  }
  (void)chat_format_name(tok->chat_format());
  for (bool gen : {false, true}) {
    std::string out;
    try {
      out = tok->apply_chat(msgs, gen);
    } catch (const rs::Error&) {
      continue;
    }
    for (const ChatMessage& m : msgs)
      if (m.role == "user" && out.find(strip(m.content)) == std::string::npos)
        rs::fuzz::finding("apply_chat dropped a user message");
    std::vector<int32_t> ids = tok->encode(out, /*add_special=*/false, /*parse_special=*/true);
    if (tok->covers_bytes(out) && tok->decode(ids) != out)
      rs::fuzz::finding("decode(encode(apply_chat(...))) differs from the rendering");
  }
  return 0;
}
