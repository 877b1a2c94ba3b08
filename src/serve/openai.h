// The OpenAI request surface of `reasonscope serve` (README, "Serving"): parse and check a
// /v1/completions or /v1/chat/completions body into a Request, and the error bodies.
//
// Field names, types and defaults follow OpenAI's API reference (Completions and Chat
// Completions, "Create"): temperature 1, top_p 1, n 1, stop up to 4 strings, completions'
// `logprobs` an integer 0..5, chat's `logprobs` a boolean with `top_logprobs` 0..20. Unknown
// fields are ignored (clients send extras); a known field of the wrong type or out of range is
// a 400 naming it in `param`.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace rs::serve {

// An HTTP error with OpenAI's body: {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string code, std::string param, const std::string& message)
      : std::runtime_error(message), status(status), code(std::move(code)), param(std::move(param)) {}
  int status;
  std::string code;
  std::string param;
};

// The OpenAI "type" for a status: invalid_request_error (4xx), authentication_error (401),
// rate/overload and server errors otherwise.
const char* error_type(int status);
nlohmann::json error_body(int status, const std::string& message, const std::string& code = "",
                          const std::string& param = "");

struct SteerTerm {
  std::string vector;  // a name registered with --steer NAME=FILE
  double alpha = 1.0;
};

struct Limits {
  int64_t max_tokens = 2048;         // a request asking for more gets a 400
  int64_t default_max_tokens = 256;  // when a request gives none
};

struct Request {
  bool chat = false;
  std::string model;                      // as sent (not checked: one model is served)
  std::string prompt;                     // completions: the text (when not token ids)
  std::vector<int64_t> prompt_ids;        // completions: token ids, when sent as ids
  bool prompt_is_ids = false;
  std::vector<tok::ChatMessage> messages; // chat
  int64_t max_tokens = 0;
  double temperature = 1.0;
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;             // stream_options.include_usage
  bool logprobs = false;
  int top_logprobs = 0;
  // the `reasonscope` object
  std::vector<SteerTerm> steer;
  std::string edit;                       // a name registered with --edit NAME=FILE; empty: none
  std::vector<std::string> verify;        // "spectral", "qk"
};

// Throws ApiError(400) for malformed JSON, a field of the wrong type or out of range, n != 1.
Request parse_request(const std::string& body, bool chat, const Limits& limits);

}  // namespace rs::serve
