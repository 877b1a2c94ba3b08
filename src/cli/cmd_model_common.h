// Shared by the model-using commands (generate, trace, score, info): turn the common options
// into a loaded model + tokenizer, and small parsing helpers. Thin glue only.
#pragma once
#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/edit_options.h"
#include "cli/preloaded_model.h"
#include "core/error.h"
#include "core/layers.h"
#include "core/log.h"
#include "core/text.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::cli {

struct LoadedModel {
  std::string path;
  Model model;
  std::unique_ptr<tok::Tokenizer> tokenizer;
  double load_seconds = 0.0;
  // --edit on native weights in a command that asked for it (edit_hooks): to be added as hooks.
  std::shared_ptr<const lens::WeightEdit> hook_edit;
};

inline at::Device parse_device(const std::string& s) {
  if (s == "cpu") return at::Device(at::kCPU);
  if (s.rfind("cuda", 0) == 0) {
    at::Device d(at::kCPU);
    try {
      d = at::Device(s);
    } catch (const std::exception&) {
      fail("--device: expected cpu, cuda or cuda:N, got '", s, "'");
    }
    if (!at::hasCUDA()) fail("--device ", s, ": this build of libtorch has no CUDA support");
    return d;
  }
  fail("--device: expected cpu, cuda or cuda:N, got '", s, "'");
}

inline at::ScalarType parse_dtype(const std::string& s) {
  if (s == "f32") return at::kFloat;
  if (s == "bf16") return at::kBFloat16;
  if (s == "f16") return at::kHalf;
  fail("--dtype: expected f32, bf16 or f16, got '", s, "'");
}

// --weights auto: native (quantised kernels) where the command asks for it (generate) and the
// model is a GGUF on CPU in the default dtype; dequantised tensors otherwise (exact activations).
inline WeightFormat parse_weights(const ModelOptions& o, const std::string& path, bool prefer_native) {
  if (o.weights == "native") return WeightFormat::Native;
  if (o.weights == "dequant") return WeightFormat::Dequantize;
  if (o.weights != "auto") fail("--weights: expected auto, dequant or native, got '", o.weights, "'");
  const bool gguf = path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
  return prefer_native && gguf && o.device == "cpu" && o.dtype == "f32" ? WeightFormat::Native
                                                                        : WeightFormat::Dequantize;
}

// edit_as_hooks: the command adds lm.hook_edit to its hooks, so --edit works on native weights.
inline LoadedModel load_for_cli(const ModelOptions& o, bool prefer_native = false, bool edit_as_hooks = false) {
  LoadedModel lm;
  lm.path = classify(ExitCode::kModel, [&] { return resolve_model_path(o); });
  set_threads(o.threads);
  LoadOptions lo;
  lo.device = parse_device(o.device);
  lo.dtype = parse_dtype(o.dtype);
  lo.weights = parse_weights(o, lm.path, prefer_native);
  const auto t0 = std::chrono::steady_clock::now();
  classify(ExitCode::kModel, [&] {
    if (take_preloaded(lm.path, lo, lm.model, lm.tokenizer)) {
      log_debug(str(lm.path, ": the model the warm engine preloaded (preloaded_model.h)"));
    } else {
      lm.model = load_model(lm.path, lo);
      lm.tokenizer = tok::Tokenizer::from_model_path(lm.path);
    }
  });
  lm.hook_edit = apply_edit_option(lm.model, o.edit, edit_as_hooks);
  lm.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_debug(str("loaded ", lm.path, " in ", lm.load_seconds, " s: ", lm.model.config.summary()));
  return lm;
}

// Prompt text -> token ids. Plain: BOS as the tokenizer says. Chat: wrapped in the model's chat
// template as one user turn (after an optional system turn) plus the assistant prefix; the
// rendered templates carry their own BOS text where the format has one, so none is added.
// Special-token text (e.g. "<|im_end|>") becomes that token in both cases, as in llama.cpp.
inline std::vector<int64_t> encode_prompt(const tok::Tokenizer& t, const std::string& text, bool chat,
                                          const std::string& system = "") {
  std::string s = text;
  if (chat) {
    std::vector<tok::ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    msgs.push_back({"user", text});
    s = t.apply_chat(msgs, true);
  }
  std::vector<int32_t> ids = t.encode(s, /*add_special=*/!chat, /*parse_special=*/true);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

// "L:H[,H...]" -> block index and heads (for --ablate-head). Both are range-checked where the
// model is known (hooks name it).
inline std::pair<int, std::vector<int64_t>> parse_layer_heads(const std::string& spec) {
  const size_t colon = spec.find(':');
  const auto bad = [&] {
    fail_as(ExitCode::kUsage, "--ablate-head: expected LAYER:HEAD[,HEAD...] with integers >= 0 (e.g. 5:0,3), got '",
            spec, "'");
  };
  if (colon == std::string::npos) bad();
  std::vector<int> layer;
  std::vector<int64_t> heads;
  try {
    layer = parse_int_list("--ablate-head", spec.substr(0, colon), 999999);
    for (int h : parse_int_list("--ablate-head", spec.substr(colon + 1), 999999)) heads.push_back(h);
  } catch (const Error&) {
    bad();
  }
  if (layer.size() != 1) bad();
  return {layer[0], heads};
}

}  // namespace rs::cli
