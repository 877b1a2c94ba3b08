// Tokenizer from a Hugging Face model directory: tokenizer.json (format of the `tokenizers`
// library: model {type BPE, vocab, merges, ignore_merges}, added_tokens, pre_tokenizer) and
// tokenizer_config.json (bos_token, eos_token, add_bos_token, add_eos_token, chat_template, or
// chat_template.jinja beside it). BOS/EOS also count as added when the post_processor's
// TemplateProcessing puts them around the sequence and the config does not say otherwise.
// Byte-level BPE is supported; the pre-tokenizer chain is turned into regexes:
//   Split{Regex, Isolated} -> the regex; Digits{individual_digits} -> \p{N} (or \p{N}+);
//   ByteLevel{use_regex} -> the GPT-2 regex.
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace rs::tok {

namespace {
using nlohmann::json;

json parse_json(const std::string& text, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail(path, ": byte ", e.byte, ": invalid JSON: ", e.what());
  } catch (const json::exception& e) {  // e.g. a number out of range (1e999)
    fail(path, ": invalid JSON: ", e.what());
  }
}

// Appends the regexes of one pre_tokenizer node; returns false for a node it cannot express.
bool add_patterns(const json& node, std::vector<std::string>& out, std::string& why) {
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : node.at("pretokenizers"))
      if (!add_patterns(p, out, why)) return false;
    return true;
  }
  if (type == "Split") {
    const json& pat = node.at("pattern");
    std::string behavior = node.value("behavior", "");
    if (behavior != "Isolated" || node.value("invert", false)) {
      why = "Split with behavior " + behavior;
      return false;
    }
    if (pat.contains("Regex")) {
      out.push_back(pat["Regex"].get<std::string>());
    } else {
      // A literal string: escape it for PCRE2 with \Q...\E.
      out.push_back("\\Q" + pat.at("String").get<std::string>() + "\\E");
    }
    return true;
  }
  if (type == "Digits") {
    out.push_back(node.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
    return true;
  }
  if (type == "ByteLevel") {
    if (node.value("add_prefix_space", false)) {
      why = "ByteLevel with add_prefix_space";
      return false;
    }
    if (node.value("use_regex", true)) out.push_back(kGpt2Pattern);
    return true;
  }
  why = "pre-tokenizer " + type;
  return false;
}

// BOS/EOS that the post_processor's TemplateProcessing puts around a single sequence
// (Llama 3 adds <|begin_of_text|> this way rather than through add_bos_token).
void template_specials(const json& pp, std::string& first, std::string& last) {
  if (!pp.is_object()) return;
  const std::string type = pp.value("type", "");
  if (type == "Sequence" && pp.contains("processors")) {
    for (const auto& p : pp["processors"]) template_specials(p, first, last);
    return;
  }
  if (type != "TemplateProcessing" || !pp.contains("single") || !pp["single"].is_array()) return;
  const json& single = pp["single"];
  if (single.empty()) return;
  auto special_id = [](const json& item) -> std::string {
    if (item.is_object() && item.contains("SpecialToken")) return item["SpecialToken"].value("id", "");
    return "";
  };
  first = special_id(single.front());
  last = single.size() > 1 ? special_id(single.back()) : "";
}

std::string token_content(const json& v) {  // "bos_token": "<s>" or {"content": "<s>", ...}
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v["content"].get<std::string>();
  return "";
}
}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_dir(const std::string& dir) {
  const std::string tokenizer_json = read_file(dir + "/tokenizer.json");
  // tokenizer_config.json is optional; newer transformers versions save the template as
  // chat_template.jinja beside it.
  std::optional<std::string> config_json;
  if (std::ifstream(dir + "/tokenizer_config.json")) config_json = read_file(dir + "/tokenizer_config.json");
  std::string chat_jinja;
  if (std::ifstream(dir + "/chat_template.jinja")) chat_jinja = read_file(dir + "/chat_template.jinja");
  return from_hf_texts(tokenizer_json, config_json, chat_jinja, dir);
}

std::unique_ptr<Tokenizer> Tokenizer::from_hf_texts(const std::string& tokenizer_json,
                                                    const std::optional<std::string>& config_json,
                                                    const std::string& chat_jinja,
                                                    const std::string& dir) {
  const std::string path = dir + "/tokenizer.json";
  json tj = parse_json(tokenizer_json, path);
  VocabSpec spec;
  spec.source = path;
  spec.keys.tokens = "model.vocab";
  spec.keys.merges = "model.merges";
  spec.keys.token_types = "added_tokens";
  spec.keys.scores = "model.scores";
  spec.keys.bos = "tokenizer_config.json bos_token";
  spec.keys.eos = "tokenizer_config.json eos_token";
  spec.keys.eot = "eot_token";
  spec.keys.pad = "tokenizer_config.json pad_token";
  spec.keys.unk = "model.unk_token";
  spec.keys.pre = "pre_tokenizer";
  try {
    const json& model = tj.at("model");
    if (model.value("type", "") != "BPE")
      fail(path, ": model.type: unsupported \"", model.value("type", ""), "\" (expected BPE)");
    if (model.value("byte_fallback", false) || !tj.value("normalizer", json()).is_null())
      fail(path, ": model.byte_fallback / normalizer: SentencePiece-style tokenizer.json is not "
           "supported; use the model's GGUF file");
    spec.model = "gpt2";
    spec.ignore_merges = model.value("ignore_merges", false);
    // Vocabulary: ids must be dense 0..n-1 once the added tokens are included, so no id can
    // exceed the number of entries; checking that first keeps a one-entry file with id 2^24
    // from allocating a 16M-entry table.
    std::vector<std::string> tokens;
    std::vector<char> present;
    const json no_added = json::array();
    const json& added_json = tj.contains("added_tokens") ? tj["added_tokens"] : no_added;
    const int64_t n_entries = static_cast<int64_t>(model.at("vocab").size() + added_json.size());
    auto put = [&](const std::string& text, int64_t id, const char* where) {
      if (id < 0 || id >= n_entries)
        fail(path, ": ", where, ": token \"", text, "\" has id ", id, ", out of range [0, ", n_entries,
             ") (ids must be dense: the file has ", n_entries, " vocab and added entries)");
      if (static_cast<size_t>(id) >= tokens.size()) {
        tokens.resize(id + 1);
        present.resize(id + 1, 0);
      }
      tokens[id] = text;
      present[id] = 1;
    };
    // get<int64_t>() of a float is a plain cast, undefined beyond int64 (6.7e20 was found by
    // fuzz_hf_tokenizer), so an id must be a JSON integer.
    auto id_of = [&](const json& v, const std::string& text, const char* where) -> int64_t {
      if (!v.is_number_integer())
        fail(path, ": ", where, ": token \"", text, "\" has id ", v.dump(), ", expected an integer");
      return v.get<int64_t>();
    };
    for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it)
      put(it.key(), id_of(it.value(), it.key(), "model.vocab"), "model.vocab");
    std::vector<std::pair<int64_t, bool>> added;
    for (const auto& a : added_json) {
      int64_t id = id_of(a.at("id"), a.at("content").dump(), "added_tokens");
      put(a.at("content").get<std::string>(), id, "added_tokens");
      added.emplace_back(id, a.value("special", false));
    }
    for (size_t i = 0; i < present.size(); ++i)
      if (!present[i]) fail(path, ": model.vocab: no token has id ", i, " (ids must be 0..", tokens.size() - 1, ")");
    spec.tokens = std::move(tokens);
    spec.token_types.assign(spec.tokens.size(), static_cast<int32_t>(TokenType::Normal));
    for (auto [id, special] : added)
      spec.token_types[id] = static_cast<int32_t>(special ? TokenType::Control : TokenType::UserDefined);
    for (const auto& m : model.at("merges")) {
      if (m.is_string())
        spec.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2)
        spec.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else
        fail(path, ": model.merges: entry ", spec.merges.size(), " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    // Pre-tokenizer.
    const json pre = tj.value("pre_tokenizer", json());
    if (pre.is_null()) fail(path, ": pre_tokenizer: missing (byte-level BPE needs one)");
    std::string why;
    if (!add_patterns(pre, spec.pre_patterns, why))
      fail(path, ": pre_tokenizer: unsupported (", why, ")");
    const auto& pats = spec.pre_patterns;
    if (pats.size() == 1 && pats[0] == kGpt2Pattern) spec.pre = "gpt-2";
    else if (pats.size() == 2 && pats[0] == "\\p{N}" && pats[1] == kGpt2Pattern) spec.pre = "smollm";
    else if (!pats.empty() && pats[0].find("\\p{N}{1,3}") != std::string::npos) spec.pre = "llama3";
    else if (!pats.empty() && pats[0].find("|\\p{N}|") != std::string::npos) spec.pre = "qwen2";
    else spec.pre = "custom";
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto u = model["unk_token"].get<std::string>();
      for (size_t i = 0; i < spec.tokens.size(); ++i)
        if (spec.tokens[i] == u) spec.unk_id = static_cast<int32_t>(i);
    }
  } catch (const json::exception& e) {
    fail(path, ": unexpected structure: ", e.what());
  }

  std::string tp_first, tp_last;
  bool cfg_add_bos = false, cfg_add_eos = false;  // tokenizer_config.json said explicitly
  try {
    template_specials(tj.value("post_processor", json()), tp_first, tp_last);
  } catch (const json::exception& e) {  // e.g. "SpecialToken": 3
    fail(path, ": post_processor: unexpected structure: ", e.what());
  }

  const std::string cfg_path = dir + "/tokenizer_config.json";
  if (config_json) {
    json cfg = parse_json(*config_json, cfg_path);
    auto find_id = [&](const std::string& text) -> int32_t {
      if (text.empty()) return -1;
      for (size_t i = 0; i < spec.tokens.size(); ++i)
        if (spec.tokens[i] == text) return static_cast<int32_t>(i);
      fail(cfg_path, ": token \"", text, "\" is not in ", path);
    };
    try {
      if (cfg.contains("bos_token")) spec.bos_id = find_id(token_content(cfg["bos_token"]));
      if (cfg.contains("eos_token")) spec.eos_id = find_id(token_content(cfg["eos_token"]));
      if (cfg.contains("pad_token")) spec.pad_id = find_id(token_content(cfg["pad_token"]));
      if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
        spec.add_bos = cfg["add_bos_token"].get<bool>(), cfg_add_bos = true;
      if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
        spec.add_eos = cfg["add_eos_token"].get<bool>(), cfg_add_eos = true;
      if (cfg.contains("chat_template")) {
        const json& ct = cfg["chat_template"];
        if (ct.is_string()) {
          spec.chat_template = ct.get<std::string>();
        } else if (ct.is_array()) {  // [{"name": "default", "template": ...}, ...]
          for (const auto& t : ct)
            if (t.value("name", "") == "default") spec.chat_template = t.value("template", "");
        }
      }
    } catch (const json::exception& e) {
      fail(cfg_path, ": unexpected structure: ", e.what());
    }
  }
  if (spec.chat_template.empty()) spec.chat_template = chat_jinja;
  // A post_processor template that starts with BOS / ends with EOS means they are added,
  // unless tokenizer_config.json says otherwise.
  if (!cfg_add_bos && spec.bos_id >= 0 && !tp_first.empty() && spec.tokens[spec.bos_id] == tp_first) spec.add_bos = true;
  if (!cfg_add_eos && spec.eos_id >= 0 && !tp_last.empty() && spec.tokens[spec.eos_id] == tp_last) spec.add_eos = true;
  return from_spec(std::move(spec));
}

}  // namespace rs::tok
