// reasonscope generate: continue a prompt, streamed to stdout as it is produced.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cmd_model_common.h"
#include "hooks/hooks.h"
#include "model/generate.h"
#include "cli/steer_options.h"

namespace rs::cli {
namespace {

struct GenerateCliOptions {
  ModelOptions model;
  std::string prompt;
  bool chat = false;
  std::string system;
  int64_t max_new_tokens = 128;
  double temperature = 0.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  std::vector<std::string> stop;
  std::vector<std::string> ablate;
  bool json = false;
  SteerCliOptions steer;
};

void run_generate(const GenerateCliOptions& o) {
  if (o.prompt.empty()) fail_as(ExitCode::kUsage, "--prompt: empty prompt; give some text to continue");
  SamplingOptions so;
  so.temperature = o.temperature;
  so.top_p = o.top_p;
  so.top_k = o.top_k;
  so.seed = o.model.seed;
  // Before the model loads, so bad options fail fast; an out-of-range value is a bad command line.
  classify(ExitCode::kUsage, [&] { so.validate(); });
  LoadedModel lm = load_for_cli(o.model, /*prefer_native=*/true, /*edit_as_hooks=*/true);
  std::vector<int64_t> ids = encode_prompt(*lm.tokenizer, o.prompt, o.chat, o.system);
  check_prompt_fits(lm.model.config, ids.size(), "--prompt");

  Hooks hooks(lm.model.config);
  for (const std::string& spec : o.ablate) {
    auto [layer, heads] = parse_layer_heads(spec);
    hooks.ablate_heads(layer, heads, Ablation::Zero);
  }
  GenerateOptions go;
  go.max_new_tokens = o.max_new_tokens;
  go.sampling = so;
  go.stop_strings = o.stop;
  const bool steered = apply_steer_options(o.steer, lm.model, hooks);
  if (lm.hook_edit) lens::add_edit_hooks(hooks, *lm.hook_edit);  // last (edit_hooks.h)
  if (!o.ablate.empty() || steered || lm.hook_edit) go.hooks = &hooks;
  if (!o.json) {
    go.on_text = [](int64_t, const std::string& s) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    };
  }
  GenerateStats st;
  auto out = generate(lm.model, lm.tokenizer.get(), {ids}, go, &st);
  const Generation& g = out.at(0);
  if (o.json) {
    nlohmann::json j = {{"prompt", o.prompt},
                        {"prompt_tokens", ids.size()},
                        {"text", g.text},
                        {"tokens", g.tokens},
                        {"stop_reason", g.stop_reason},
                        {"sampling", so.describe()},
                        {"prefill_seconds", st.prefill_seconds},
                        {"decode_seconds", st.decode_seconds},
                        {"decode_forward_seconds", st.forward_seconds},
                        {"decode_steps", st.steps}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);  // the text ends before the timing line on stderr, even through a pipe
  // The first token comes from the prompt's forward, so the decode rate is the single-token
  // forwards (steps) over their time; counting every token overstated it by 1/(n-1).
  const std::string rate = st.steps > 0 && st.decode_seconds > 0
                               ? str("decode ", st.steps / st.decode_seconds, " tok/s (",
                                     1e3 * (st.decode_seconds - st.forward_seconds) / st.steps,
                                     " ms a step outside the forward)")
                               : std::string("no decode step");
  log_info(str(g.tokens.size(), " tokens (", g.stop_reason, "); prompt ", ids.size(), " tokens in ",
               st.prefill_seconds, " s; ", rate, "; ", so.describe()));
}

Registrar generate_command{
    "generate", "Continue a prompt (greedy or sampled), streamed to stdout",
    [](CLI::App& sub) {
      auto o = std::make_shared<GenerateCliOptions>();
      add_model_options(sub, o->model);
      sub.add_option("--prompt,-p", o->prompt, "Text to continue")->required();
      sub.add_flag("--chat", o->chat, "Wrap the prompt in the model's chat template as a user turn");
      sub.add_option("--system", o->system, "System message (with --chat)");
      sub.add_option("--max-new-tokens,-n", o->max_new_tokens, "Most tokens to generate")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub.add_option("--temperature,-t", o->temperature, "Sampling temperature; 0 = greedy")
          ->capture_default_str();
      sub.add_option("--top-p", o->top_p, "Nucleus sampling: smallest set with this much mass")
          ->capture_default_str();
      sub.add_option("--top-k", o->top_k, "Sample among the k likeliest tokens; 0 = all")
          ->capture_default_str();
      sub.add_option("--stop", o->stop, "Stop when this text appears (repeatable); it is not printed");
      sub.add_option("--ablate-head", o->ablate,
                     "Zero-ablate heads while generating: LAYER:HEAD[,HEAD...] (repeatable)");
      add_steer_options(sub, o->steer);
      sub.add_flag("--json", o->json, "Print one JSON object (text, tokens, stop reason) instead of streaming");
      sub.footer(
          "Generation stops at the model's end-of-sequence token, a --stop string, --max-new-tokens\n"
          "or the end of the context. Timing goes to stderr; only the text goes to stdout.\n"
          "Example: reasonscope generate --prompt \"The capital of France is\" -n 16\n"
          "         reasonscope generate --chat --prompt \"Name three colours\" -t 0.7 --top-p 0.9 --seed 1");
      sub.callback([o] { run_generate(*o); });
    }};

}  // namespace
}  // namespace rs::cli
