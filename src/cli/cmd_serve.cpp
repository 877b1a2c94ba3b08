// reasonscope serve: an OpenAI-compatible HTTP server (src/serve, README "Serving"). Thin:
// check the options and the registered files, load the model, hand over to serve::serve.
#include <nlohmann/json.hpp>

#include "cli/cmd_model_common.h"
#include "core/atomic_file.h"
#include "data/outputs.h"
#include "methods/lens/edit_hooks.h"
#include "methods/qk/qk_question.h"
#include "serve/server.h"

namespace rs::cli {
namespace {

struct ServeCliOptions {
  ModelOptions model;
  serve::ServeOptions serve;
  std::vector<std::string> steer;  // NAME=FILE
  std::vector<std::string> edit;   // NAME=FILE
  std::string spectral_calibration;
  std::string qk_heads;
};

// NAME=FILE options -> name -> file, in the order given; usage errors for anything else.
std::map<std::string, std::string> named_files(const std::vector<std::string>& specs, const std::string& option,
                                               const std::string& what) {
  std::map<std::string, std::string> out;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      if (option == "--edit")
        fail_as(ExitCode::kUsage, "--edit: serve registers edits by name and a request selects one with "
                "{\"reasonscope\": {\"edit\": NAME}}: expected NAME=FILE (e.g. --edit fix=edit.safetensors), got '", spec, "'");
      fail_as(ExitCode::kUsage, option, ": expected NAME=FILE (a name requests use, ", what, "), got '", spec, "'");
    }
    const std::string name = spec.substr(0, eq), file = spec.substr(eq + 1);
    if (!out.emplace(name, file).second) fail_as(ExitCode::kUsage, option, ": the name '", name, "' is given twice");
  }
  return out;
}

spectral::Detector read_calibration(const std::string& path) {
  return classify(ExitCode::kBadInput, [&] {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
      fail(path, ": not valid JSON (", e.what(), ")");
    }
    data::layer_convention_version(j, path);
    return spectral::detector_from_json(j, path);
  });
}

void run_serve(ServeCliOptions o) {
  // ---- everything that needs no model first: bad options and files fail before the load
  if (o.serve.limits.max_tokens < 1) fail_as(ExitCode::kUsage, "--max-tokens-limit: expected at least 1");
  if (o.serve.limits.default_max_tokens > o.serve.limits.max_tokens)
    fail_as(ExitCode::kUsage, "--default-max-tokens ", o.serve.limits.default_max_tokens, " exceeds --max-tokens-limit ",
            o.serve.limits.max_tokens);
  if (o.serve.port < 0 || o.serve.port > 65535) fail_as(ExitCode::kUsage, "--port: expected 0..65535, got ", o.serve.port);
  if (!(o.serve.grace_seconds >= 0)) fail_as(ExitCode::kUsage, "--grace-seconds: expected a number >= 0");
  serve::Registry reg;
  const auto steer_files = named_files(o.steer, "--steer", "a control-vector .gguf");
  const auto edit_files = named_files(o.edit, "--edit", "an edit .safetensors");
  for (const auto& [name, file] : steer_files)
    reg.vectors[name] = classify(ExitCode::kBadInput, [&, &file = file] { return steer::read_control_vectors(file); });
  for (const auto& [name, file] : edit_files)
    reg.edits[name] = classify(ExitCode::kBadInput, [&, &file = file] { return lens::load_edit(file); });
  if (!o.qk_heads.empty())
    reg.qk = std::make_shared<qk::SavedHeads>(classify(ExitCode::kBadInput, [&] { return qk::read_heads_file(o.qk_heads); }));
  if (!o.spectral_calibration.empty()) {
    if (o.model.weights == "native")
      fail_as(ExitCode::kUsage, "--spectral-calibration needs exact attention (--weights dequant or auto); "
              "native (quantised) weights have no attention pattern to read");
    reg.spectral = std::make_shared<spectral::Detector>(read_calibration(o.spectral_calibration));
  }

  // Native (quantised) weights decode fastest; the spectral verifier reads the attention pattern,
  // which only the exact (dequantised) path has, so a calibration makes `auto` mean dequant.
  LoadedModel lm = load_for_cli(o.model, /*prefer_native=*/o.spectral_calibration.empty());
  const ModelConfig& c = lm.model.config;
  for (const auto& [name, file] : steer_files)
    classify(ExitCode::kBadInput, [&, &name = name, &file = file] {
      steer::check_against_model(reg.vectors.at(name), c.d_model, c.n_layer, file);
    });
  // Edits are applied per request as hooks (any weights, one edit per row of a batch).
  for (const auto& [name, file] : edit_files)
    classify(ExitCode::kBadInput, [&, &name = name, &file = file] {
      lens::check_edit_hooks(c, reg.edits.at(name), file);
      lens::check_edit(lm.model, reg.edits.at(name), file);
    });
  if (reg.qk)
    classify(ExitCode::kBadInput, [&] { qk::check_fits(*reg.qk, c, reg.qk->n_options, o.qk_heads); });
  if (reg.spectral) {
    const spectral::Detector& d = *reg.spectral;
    const nlohmann::json identity = {{"arch", c.arch}, {"n_layer", c.n_layer}, {"d_model", c.d_model},
                                     {"n_head", c.n_head}, {"n_vocab", c.n_vocab}};
    for (const auto& [k, v] : identity.items())
      if (d.model.contains(k) && d.model[k] != v)
        fail_as(ExitCode::kBadInput, o.spectral_calibration, ": calibrated on a different model (", k, " ",
                d.model[k].dump(), ", this model has ", v.dump(), ")");
    if (d.layer < 0 || d.layer >= c.n_layer)
      fail_as(ExitCode::kBadInput, o.spectral_calibration, ": layer ", d.layer, " is out of range (the model has ",
              c.n_layer, ")");
  }
  if (o.serve.model_id.empty()) {
    std::string base = lm.path.substr(lm.path.find_last_of('/') + 1);
    if (base.empty()) base = lm.path;
    if (base.size() > 5 && base.compare(base.size() - 5, 5, ".gguf") == 0) base.resize(base.size() - 5);
    o.serve.model_id = base;
  }
  o.serve.seed = o.model.seed;
  serve::serve(lm.model, *lm.tokenizer, reg, o.serve);
}

Registrar serve_command{
    "serve", "OpenAI-compatible HTTP server that steers each request and verifies what it generates",
    [](CLI::App& sub) {
      auto o = std::make_shared<ServeCliOptions>();
      add_model_options(sub, o->model);
      // serve's --edit registers edits by name (below); the shared --edit FILE would edit every request
      sub.remove_option(sub.get_option("--edit"));
      sub.add_option("--host", o->serve.host, "Address to listen on (loopback by default; 0.0.0.0 = every interface)")
          ->capture_default_str();
      sub.add_option("--port", o->serve.port, "TCP port; 0 = any free port (the log line names it)")
          ->capture_default_str();
      sub.add_option("--api-key", o->serve.api_key,
                     "Require the header 'Authorization: Bearer KEY' on every route but /health (401 otherwise)")
          ->envname("REASONSCOPE_API_KEY");
      sub.add_option("--model-name", o->serve.model_id, "The model id /v1/models lists (default: the file name without .gguf)");
      sub.add_option("--steer", o->steer,
                     "Register a control vector (.gguf, llama.cpp layout) under NAME: NAME=FILE (repeatable); "
                     "requests steer with {\"reasonscope\": {\"steer\": [{\"vector\": NAME, \"alpha\": A}]}}, "
                     "on every layer the file has");
      sub.add_option("--edit", o->edit,
                     "Register a weight edit (.safetensors of deltas, e.g. from `edit creme`) under NAME: NAME=FILE "
                     "(repeatable); a request applies one with {\"reasonscope\": {\"edit\": NAME}}, as hooks, "
                     "so requests in one batch may carry different edits or none");
      sub.add_option("--qk-heads", o->qk_heads,
                     "The heads.json of `verify qk`; requests ask for the QK judge with "
                     "{\"reasonscope\": {\"verify\": [\"qk\"]}} (a question in that file's template)");
      sub.add_option("--spectral-calibration", o->spectral_calibration,
                     "A detector saved by `verify spectral --save-calibration`; requests ask for its score with "
                     "{\"reasonscope\": {\"verify\": [\"spectral\"]}} (makes --weights auto load exact weights)");
      sub.add_option("--max-tokens-limit", o->serve.limits.max_tokens, "Largest max_tokens a request may ask for (more: 400)")
          ->capture_default_str();
      sub.add_option("--default-max-tokens", o->serve.limits.default_max_tokens,
                     "max_tokens of a request that gives none")
          ->capture_default_str();
      sub.add_option("--max-body-bytes", o->serve.max_body_bytes, "Largest request body (more: 413)")
          ->capture_default_str();
      sub.add_option("--max-queue", o->serve.max_queue,
                     "Generation requests waiting or running at once; more get 503 with Retry-After")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
      sub.add_option("--max-batch", o->serve.max_batch,
                     "Sequences decoded together (continuous batching); more wait in the queue")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      sub.add_option("--grace-seconds", o->serve.grace_seconds,
                     "On SIGTERM/SIGINT: seconds in-flight requests may still run before they are cut short")
          ->capture_default_str();
      sub.footer(
          "Routes: GET /health, GET /metrics (Prometheus text), GET /v1/models, POST /v1/completions,\n"
          "POST /v1/chat/completions (stream, max_tokens, temperature, top_p, seed, stop, logprobs).\n"
          "--weights auto is native (quantised kernels) for serving, dequant with --spectral-calibration.\n"
          "Concurrent requests share decode steps (up to --max-batch); others wait in the queue.\n"
          "SIGTERM or SIGINT: stop accepting, finish in-flight requests (--grace-seconds), exit 0.\n"
          "Examples:\n"
          "  reasonscope serve --port 8080\n"
          "  reasonscope serve --steer careful=careful.gguf --spectral-calibration cal.json --api-key s3cret\n"
          "  reasonscope serve --edit fix=edit.safetensors --qk-heads qk/heads.json");
      sub.callback([o] { run_serve(*o); });
    }};

}  // namespace
}  // namespace rs::cli
