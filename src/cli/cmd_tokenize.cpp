// reasonscope tokenize: show how a model's tokenizer splits a text (ids and pieces).
// Loads only the tokenizer from the model file (GGUF metadata or tokenizer.json); no weights.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"
#include "tokenizer/tokenizer.h"

namespace rs::cli {
namespace {

// Printable form of bytes for the table: JSON-style escapes, \xNN for bytes that are not UTF-8.
std::string escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char buf[8];
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Copy a whole valid UTF-8 sequence, else escape the byte.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool ok = len > 0 && c <= 0xF4 && i + len <= s.size();
      for (size_t k = 1; ok && k < len; ++k)
        ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok) {
        out.append(s, i, len);
        i += len - 1;
      } else {
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
    }
  }
  return out;
}

// Pads to `width` display columns, counting code points rather than bytes.
std::string pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++cols;
  return cols >= width ? s : s + std::string(width - cols, ' ');
}

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string system;
  bool json = false;
  bool no_special = false;
  bool chat = false;
};

void run_tokenize(const TokenizeOptions& o) {
  ModelOptions mo;
  mo.model = o.model;
  // A model whose tokenizer cannot be loaded is "model not loadable" (exit 4), as in every
  // command that loads the whole model (load_for_cli).
  const std::string path = classify(ExitCode::kModel, [&] { return resolve_model_path(mo); });
  auto t0 = std::chrono::steady_clock::now();
  auto tok = classify(ExitCode::kModel, [&] { return rs::tok::Tokenizer::from_model_path(path); });
  double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  char msg[64];
  std::snprintf(msg, sizeof msg, "tokenizer loaded in %.1f ms", load_ms);
  log_debug(msg);

  std::string text = o.text;
  bool add_special = !o.no_special;
  if (o.chat) {
    std::vector<rs::tok::ChatMessage> msgs;
    if (!o.system.empty()) msgs.push_back({"system", o.system});
    msgs.push_back({"user", o.text});
    text = tok->apply_chat(msgs, /*add_generation_prompt=*/true);
    add_special = false;  // the template writes BOS itself where the format has one
  }
  // --no-special: special-token text stays plain text and no BOS/EOS is added.
  std::vector<int32_t> ids = tok->encode(text, add_special, /*parse_special=*/!o.no_special);

  if (o.json) {
    nlohmann::json j;
    j["model"] = path;
    j["tokenizer"] = {{"kind", tok->model_kind()}, {"pre", tok->pre_type()}, {"n_vocab", tok->n_vocab()}};
    j["text"] = text;
    j["count"] = ids.size();
    j["ids"] = ids;
    nlohmann::json pieces = nlohmann::json::array(), texts = nlohmann::json::array(),
                   special = nlohmann::json::array();
    for (int32_t id : ids) {
      pieces.push_back(tok->piece(id));
      texts.push_back(tok->token_text(id));
      special.push_back(tok->is_special(id));
    }
    j["pieces"] = pieces;
    j["texts"] = texts;  // decoded bytes of each token (bytes that are not UTF-8 become U+FFFD)
    j["special"] = special;
    std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
    return;
  }
  std::printf("model: %s\ntokenizer: %s, pre-tokenizer %s, %d tokens in vocab, chat format %s\n",
              path.c_str(), tok->model_kind().c_str(),
              tok->pre_type().empty() ? "-" : tok->pre_type().c_str(), tok->n_vocab(),
              rs::tok::chat_format_name(tok->chat_format()));
  std::printf("text: \"%s\"\ncount: %zu\n", escape(text).c_str(), ids.size());
  std::printf("%5s  %7s  %-24s  %s\n", "#", "id", "piece", "text");
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = "\"" + escape(tok->piece(ids[i])) + "\"";
    std::string shown = "\"" + escape(tok->token_text(ids[i])) + "\"";
    std::printf("%5zu  %7d  %s  %s%s\n", i, ids[i], pad(piece, 24).c_str(), shown.c_str(),
                tok->is_special(ids[i]) ? "  (special)" : "");
  }
  std::printf("ids:");
  for (int32_t id : ids) std::printf(" %d", id);
  std::printf("\n");
}

Registrar tokenize_command{"tokenize", "Show the token ids and pieces a model's tokenizer gives for a text",
              [](CLI::App& sub) {
                auto o = std::make_shared<TokenizeOptions>();
                sub.description(
                    "Tokenize a text with the model's own tokenizer and print each token's id, "
                    "its vocabulary piece and the bytes it stands for. Only the tokenizer is "
                    "loaded (from the GGUF metadata or tokenizer.json), not the weights.\n"
                    "Special-token text such as <|im_start|> becomes that token, and BOS/EOS are "
                    "added as the model file says, unless --no-special is given.");
                sub.add_option("--model,-m", o->model,
                               "A .gguf file, a Hugging Face directory with tokenizer.json or an "
                               "installed model's name (`reasonscope models`; default: smollm2-135m)");
                sub.add_option("--text,-t", o->text, "The text to tokenize")->required();
                sub.add_flag("--json", o->json, "JSON output: ids, pieces, texts, special, count");
                sub.add_flag("--no-special", o->no_special,
                             "Treat special-token text as plain text and add no BOS/EOS");
                sub.add_flag("--chat", o->chat,
                             "Wrap the text as one user message in the model's chat template "
                             "(with the assistant prompt) before tokenizing");
                sub.add_option("--system", o->system, "System message for --chat");
                sub.callback([o] { run_tokenize(*o); });
              }};

}  // namespace
}  // namespace rs::cli
