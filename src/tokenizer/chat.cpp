// Chat templates. The Jinja source in tokenizer.chat_template (GGUF) or chat_template
// (tokenizer_config.json) is recognised by the control tokens each format emits, and the
// format is rendered by hand:
//   ChatML (SmolLM2, Qwen2):  <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
//   Llama 3:                  <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>
//   Llama 2 / Mistral:        <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>
//   Gemma:                    <bos><start_of_turn>{user|model}\n{content}<end_of_turn>\n
// (formats as published in the model cards / tokenizer_config.json of each model family).
#include <cctype>

#include "core/error.h"
#include "tokenizer/tokenizer_impl.h"

namespace rs::tok {

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::ChatML: return "chatml";
    case ChatFormat::Llama3: return "llama3";
    case ChatFormat::Llama2: return "llama2";
    case ChatFormat::Gemma: return "gemma";
    default: return "none";
  }
}

ChatFormat detect_chat_format(const std::string& src) {
  auto has = [&](const char* marker) { return src.find(marker) != std::string::npos; };
  if (has("<|start_header_id|>")) return ChatFormat::Llama3;
  if (has("<start_of_turn>")) return ChatFormat::Gemma;
  if (has("<|im_start|>")) return ChatFormat::ChatML;
  if (has("[INST]")) return ChatFormat::Llama2;
  return ChatFormat::None;
}

namespace {

std::string trim(const std::string& s) {  // Jinja's |trim / Python str.strip()
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A template's built-in system prompt: the literal text of "<|im_start|>system\n...<|im_end|>"
// when it is written out in the template (SmolLM2's and Qwen2's templates use one when the
// conversation has no system message). Empty if there is none.
std::string chatml_default_system(const std::string& src) {
  const std::string head = "<|im_start|>system";
  size_t p = src.find(head);
  while (p != std::string::npos) {
    size_t q = p + head.size();
    size_t nl = 0;
    if (src.compare(q, 1, "\n") == 0) nl = 1;
    else if (src.compare(q, 2, "\\n") == 0) nl = 2;
    if (nl > 0) {
      size_t start = q + nl;
      size_t end = src.find("<|im_end|>", start);
      if (end != std::string::npos) {
        std::string body = src.substr(start, end - start);
        // Only a plain literal: no Jinja expressions or string concatenation inside.
        if (body.find_first_of("'\"{}+") == std::string::npos) return body;
      }
    }
    p = src.find(head, p + 1);
  }
  return "";
}

std::string bos_text(const Tokenizer::Impl& m, const char* fallback) {
  return m.spec.bos_id >= 0 ? m.spec.tokens[m.spec.bos_id] : std::string(fallback);
}
std::string eos_text(const Tokenizer::Impl& m, const char* fallback) {
  return m.spec.eos_id >= 0 ? m.spec.tokens[m.spec.eos_id] : std::string(fallback);
}

}  // namespace

std::string Tokenizer::apply_chat(const std::vector<ChatMessage>& msgs,
                                  bool add_generation_prompt) const {
  const Impl& m = *impl_;
  std::string out;
  switch (m.chat) {
    case ChatFormat::ChatML: {
      if (!msgs.empty() && msgs[0].role != "system") {
        std::string sys = chatml_default_system(m.spec.chat_template);
        if (!sys.empty()) out += "<|im_start|>system\n" + sys + "<|im_end|>\n";
      }
      for (const auto& msg : msgs) out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      return out;
    }
    case ChatFormat::Llama3: {
      out += bos_text(m, "<|begin_of_text|>");
      for (const auto& msg : msgs)
        out += "<|start_header_id|>" + msg.role + "<|end_header_id|>\n\n" + trim(msg.content) + "<|eot_id|>";
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    }
    case ChatFormat::Llama2: {
      // Llama 2 puts the system prompt in <<SYS>> inside the first [INST]; Mistral's templates
      // (no <<SYS>> marker) prepend it to the first user message.
      const bool llama2_sys = m.spec.chat_template.find("<<SYS>>") != std::string::npos;
      const std::string bos = bos_text(m, "<s>"), eos = eos_text(m, "</s>");
      size_t first = 0;
      std::string system;
      if (!msgs.empty() && msgs[0].role == "system") {
        system = msgs[0].content;
        first = 1;
      }
      bool first_user = true;
      for (size_t i = first; i < msgs.size(); ++i) {
        const auto& msg = msgs[i];
        if (msg.role == "user") {
          std::string content = msg.content;
          if (first_user && !system.empty())
            content = llama2_sys ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content
                                 : system + "\n\n" + content;
          first_user = false;
          if (llama2_sys)
            out += bos + "[INST] " + trim(content) + " [/INST]";
          else
            out += (out.empty() ? bos : std::string()) + "[INST] " + trim(content) + " [/INST]";
        } else if (msg.role == "assistant") {
          out += llama2_sys ? " " + trim(msg.content) + " " + eos : trim(msg.content) + eos;
        } else {
          fail("chat template (llama2): unsupported role \"", msg.role, "\" in message ", i,
               " (expected system first, then user/assistant)");
        }
      }
      return out;  // the prompt already ends with [/INST]: nothing to add for generation
    }
    case ChatFormat::Gemma: {
      // Gemma has no system role: its content goes before the first user turn (Gemma 3 template).
      out += bos_text(m, "<bos>");
      std::string prefix;
      size_t first = 0;
      if (!msgs.empty() && msgs[0].role == "system") {
        prefix = trim(msgs[0].content) + "\n\n";
        first = 1;
      }
      for (size_t i = first; i < msgs.size(); ++i) {
        const auto& msg = msgs[i];
        std::string role = msg.role == "assistant" ? "model" : msg.role;
        out += "<start_of_turn>" + role + "\n" + (i == first ? prefix : std::string()) +
               trim(msg.content) + "<end_of_turn>\n";
      }
      if (add_generation_prompt) out += "<start_of_turn>model\n";
      return out;
    }
    case ChatFormat::None:
      break;
  }
  if (m.spec.chat_template.empty())
    fail(m.spec.source, ": no chat template in the model (tokenizer.chat_template is missing)");
  fail(m.spec.source, ": chat template not recognised (supported: ChatML, Llama 3, Llama 2/Mistral "
       "[INST], Gemma); its source starts: ", m.spec.chat_template.substr(0, 80));
}

}  // namespace rs::tok
