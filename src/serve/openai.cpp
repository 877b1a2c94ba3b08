#include "serve/openai.h"

#include <cmath>

namespace rs::serve {

using nlohmann::json;

const char* error_type(int status) {
  if (status == 401) return "authentication_error";
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return status == 503 ? "service_unavailable_error" : "server_error";
  return "invalid_request_error";
}

json error_body(int status, const std::string& message, const std::string& code, const std::string& param) {
  return {{"error", {{"message", message}, {"type", error_type(status)},
                     {"param", param.empty() ? json(nullptr) : json(param)},
                     {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, "invalid_value", param, message);
}

std::string type_of(const json& v) { return v.type_name(); }

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& obj, const char* name, double lo, double hi, double dflt) {
  const json* v = field(obj, name);
  if (!v) return dflt;
  if (!v->is_number()) bad(name, std::string("'") + name + "': expected a number, got " + type_of(*v));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi))
    bad(name, std::string("'") + name + "': " + json(x).dump() + " is outside [" + json(lo).dump() + ", " +
                  json(hi).dump() + "]");
  return x;
}

int64_t integer(const json& obj, const char* name, int64_t lo, int64_t hi, int64_t dflt) {
  const json* v = field(obj, name);
  if (!v) return dflt;
  if (!v->is_number_integer()) bad(name, std::string("'") + name + "': expected an integer, got " + type_of(*v));
  // Out-of-range unsigned values would wrap through int64: compare as what they are.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    bad(name, std::string("'") + name + "': " + v->dump() + " exceeds the limit of " + std::to_string(hi));
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi)
    bad(name, std::string("'") + name + "': " + std::to_string(x) + (x > hi ? " exceeds the limit of " + std::to_string(hi)
                                                                         : " is below " + std::to_string(lo)));
  return x;
}

bool boolean(const json& obj, const char* name, bool dflt) {
  const json* v = field(obj, name);
  if (!v) return dflt;
  if (!v->is_boolean()) bad(name, std::string("'") + name + "': expected a boolean, got " + type_of(*v));
  return v->get<bool>();
}

// OpenAI message content: a string, or an array of {"type": "text", "text": ...} parts.
std::string message_text(const json& c, const std::string& where) {
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) bad(where, "'" + where + "': expected a string or an array of text parts, got " + type_of(c));
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    const json& p = c[i];
    const std::string pw = where + "[" + std::to_string(i) + "]";
    if (!p.is_object() || p.value("type", json()) != "text" || !p.contains("text") || !p["text"].is_string())
      bad(pw, "'" + pw + "': only {\"type\": \"text\", \"text\": STRING} parts are supported");
    out += p["text"].get<std::string>();
  }
  return out;
}

}  // namespace

Request parse_request(const std::string& body, bool chat, const Limits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    throw ApiError(400, "invalid_json", "", std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ApiError(400, "invalid_json", "", "the request body must be a JSON object, got " + type_of(j));
  Request r;
  r.chat = chat;
  if (const json* m = field(j, "model")) {
    if (!m->is_string()) bad("model", "'model': expected a string, got " + type_of(*m));
    r.model = m->get<std::string>();
  }
  if (chat) {
    const json* msgs = field(j, "messages");
    if (!msgs) throw ApiError(400, "missing_required_parameter", "messages", "'messages' is required");
    if (!msgs->is_array() || msgs->empty()) bad("messages", "'messages': expected a non-empty array of messages");
    for (size_t i = 0; i < msgs->size(); ++i) {
      const json& m = (*msgs)[i];
      const std::string w = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) bad(w, "'" + w + "': expected an object, got " + type_of(m));
      const json* role = field(m, "role");
      if (!role || !role->is_string()) bad(w + ".role", "'" + w + ".role': expected a string");
      std::string rl = role->get<std::string>();
      if (rl == "developer") rl = "system";  // OpenAI's newer name for the system role
      if (rl != "system" && rl != "user" && rl != "assistant")
        bad(w + ".role", "'" + w + ".role': expected system, developer, user or assistant, got '" + rl + "'");
      const json* content = field(m, "content");
      if (!content) bad(w + ".content", "'" + w + ".content' is required");
      r.messages.push_back({rl, message_text(*content, w + ".content")});
    }
    const json* lp = field(j, "logprobs");
    if (lp && !lp->is_boolean()) bad("logprobs", "'logprobs': expected a boolean, got " + type_of(*lp));
    r.logprobs = lp && lp->get<bool>();
    r.top_logprobs = static_cast<int>(integer(j, "top_logprobs", 0, 20, 0));
    if (r.top_logprobs > 0 && !r.logprobs) bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  } else {
    const json* p = field(j, "prompt");
    if (!p) throw ApiError(400, "missing_required_parameter", "prompt", "'prompt' is required");
    // A string, one string in an array, or token ids (an array of integers, or one such array).
    const json* q = p;
    if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) q = &(*p)[0];
    else if (p->is_array() && p->size() > 1 && ((*p)[0].is_string() || (*p)[0].is_array()))
      bad("prompt", "'prompt': one prompt per request (n = 1), got " + std::to_string(p->size()));
    if (q->is_string()) {
      r.prompt = q->get<std::string>();
    } else if (q->is_array()) {
      r.prompt_is_ids = true;
      for (const json& t : *q) {
        if (!t.is_number_integer()) bad("prompt", "'prompt': token ids must be integers, got " + type_of(t));
        r.prompt_ids.push_back(t.get<int64_t>());
      }
    } else {
      bad("prompt", "'prompt': expected a string or token ids, got " + type_of(*q));
    }
    // Completions' logprobs is the number of most likely tokens to list (0..5).
    const json* lp = field(j, "logprobs");
    if (lp && lp->is_boolean()) bad("logprobs", "'logprobs': expected an integer 0..5 on /v1/completions");
    if (lp) {
      r.logprobs = true;
      r.top_logprobs = static_cast<int>(integer(j, "logprobs", 0, 5, 0));
    }
    if (boolean(j, "echo", false)) bad("echo", "'echo' is not supported");
    if (const json* s = field(j, "suffix")) bad("suffix", "'suffix' is not supported (got " + s->dump() + ")");
    if (integer(j, "best_of", 1, 1, 1) != 1) bad("best_of", "'best_of': only 1 is supported");
  }
  const json* mt = field(j, "max_completion_tokens");
  const char* mt_name = mt ? "max_completion_tokens" : "max_tokens";
  r.max_tokens = integer(j, mt_name, 0, INT64_MAX, limits.default_max_tokens);
  if (r.max_tokens > limits.max_tokens)
    throw ApiError(400, "max_tokens_exceeded", mt_name,
                   std::string("'") + mt_name + "': " + std::to_string(r.max_tokens) +
                       " exceeds this server's limit of " + std::to_string(limits.max_tokens) + " (--max-tokens-limit)");
  r.temperature = number(j, "temperature", 0.0, 2.0, 1.0);
  r.top_p = number(j, "top_p", 0.0, 1.0, 1.0);
  if (r.top_p == 0.0) r.top_p = 1e-9;  // OpenAI accepts 0: only the likeliest token survives
  if (integer(j, "n", 1, INT64_MAX, 1) != 1) bad("n", "'n': only 1 is supported");
  for (const char* pen : {"presence_penalty", "frequency_penalty"})
    if (number(j, pen, -2.0, 2.0, 0.0) != 0.0) bad(pen, std::string("'") + pen + "' is not supported (only 0)");
  if (const json* s = field(j, "seed")) {
    if (!s->is_number_integer()) bad("seed", "'seed': expected an integer, got " + type_of(*s));
    r.seed = s->is_number_unsigned() ? s->get<uint64_t>() : static_cast<uint64_t>(s->get<int64_t>());
  }
  if (const json* s = field(j, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > 4) bad("stop", "'stop': at most 4 sequences, got " + std::to_string(s->size()));
      for (const json& x : *s) {
        if (!x.is_string()) bad("stop", "'stop': expected strings, got " + type_of(x));
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "'stop': expected a string or an array of strings, got " + type_of(*s));
    }
  }
  r.stream = boolean(j, "stream", false);
  if (const json* so = field(j, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "'stream_options': expected an object, got " + type_of(*so));
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (const json* ext = field(j, "reasonscope")) {
    if (!ext->is_object()) bad("reasonscope", "'reasonscope': expected an object, got " + type_of(*ext));
    for (const auto& [k, v] : ext->items())
      if (k != "steer" && k != "edit" && k != "verify")
        bad("reasonscope." + k, "'reasonscope." + k + "': unknown field (expected steer, edit, verify)");
    if (const json* st = field(*ext, "steer")) {
      if (!st->is_array()) bad("reasonscope.steer", "'reasonscope.steer': expected an array of {vector, alpha}");
      for (size_t i = 0; i < st->size(); ++i) {
        const json& t = (*st)[i];
        const std::string w = "reasonscope.steer[" + std::to_string(i) + "]";
        if (!t.is_object()) bad(w, "'" + w + "': expected an object {\"vector\": NAME, \"alpha\": A}");
        const json* v = field(t, "vector");
        if (!v || !v->is_string()) bad(w + ".vector", "'" + w + ".vector': expected the name of a registered vector");
        SteerTerm term;
        term.vector = v->get<std::string>();
        term.alpha = number(t, "alpha", -1e6, 1e6, 1.0);
        r.steer.push_back(term);
      }
    }
    if (const json* ed = field(*ext, "edit")) {
      if (!ed->is_string() || ed->get<std::string>().empty())
        bad("reasonscope.edit", "'reasonscope.edit': expected the name of a registered edit, got " + ed->dump());
      r.edit = ed->get<std::string>();
    }
    if (const json* vf = field(*ext, "verify")) {
      if (!vf->is_array()) bad("reasonscope.verify", "'reasonscope.verify': expected an array such as [\"spectral\"]");
      for (const json& x : *vf) {
        if (!x.is_string() || (x != "spectral" && x != "qk"))
          bad("reasonscope.verify", "'reasonscope.verify': unknown verifier " + x.dump() + " (expected spectral, qk)");
        r.verify.push_back(x.get<std::string>());
      }
    }
  }
  return r;
}

}  // namespace rs::serve
