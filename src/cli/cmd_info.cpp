// reasonscope info: what a model is (architecture, sizes, RoPE, norms, vocabulary, special
// tokens, chat format, parameters, memory, load time) and, with --hooks, every hook point with
// its shape. --json prints the same as one JSON object on stdout.
#include <sys/resource.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cmd_model_common.h"
#include "core/blas_kernel.h"
#include "hooks/hooks.h"

namespace rs::cli {
namespace {

struct InfoOptions {
  ModelOptions model;
  bool json = false;
  bool hooks = false;
};

const char* rope_scaling_name(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::None: return "none";
    case RopeScalingType::Linear: return "linear";
    case RopeScalingType::Llama3: return "llama3";
  }
  return "?";
}

// Symbolic shape of a hook point (hooks/hooks.h): B batch, T positions, K key positions.
std::vector<std::string> hook_shape(const ModelConfig& c, HookPoint p) {
  const std::string D = std::to_string(c.d_model), H = std::to_string(c.n_head),
                    Hkv = std::to_string(c.n_head_kv), dh = std::to_string(c.d_head),
                    F = std::to_string(c.d_ff), V = std::to_string(c.n_vocab);
  switch (p) {
    case HookPoint::q: case HookPoint::rot_q: case HookPoint::z: return {"B", "T", H, dh};
    case HookPoint::k: case HookPoint::v: case HookPoint::rot_k: return {"B", "T", Hkv, dh};
    case HookPoint::attn_scores: case HookPoint::pattern: return {"B", H, "T", "K"};
    case HookPoint::result: return {"B", "T", H, D};
    case HookPoint::mlp_pre: case HookPoint::mlp_post: return {"B", "T", F};
    case HookPoint::logits: return {"B", "T", V};
    default: return {"B", "T", D};
  }
}

std::string join_shape(const nlohmann::json& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + (s[i].is_string() ? s[i].get<std::string>() : s[i].dump());
  return out + "]";
}

nlohmann::json special(const tok::Tokenizer& t, int32_t id) {
  if (id < 0) return nullptr;
  return {{"id", id}, {"text", t.piece(id)}};
}

void run_info(const InfoOptions& o) {
  LoadedModel lm = load_for_cli(o.model);
  const ModelConfig& c = lm.model.config;
  const tok::Tokenizer& t = *lm.tokenizer;
  nlohmann::json j;
  j["model"] = lm.path;
  j["architecture"] = c.arch;
  j["n_layer"] = c.n_layer;
  j["d_model"] = c.d_model;
  j["n_head"] = c.n_head;
  j["n_head_kv"] = c.n_head_kv;
  j["d_head"] = c.d_head;
  j["d_ff"] = c.d_ff;
  j["n_vocab"] = c.n_vocab;
  j["context_length"] = c.n_ctx_train;
  j["rope"] = {{"theta", c.rope.theta},
               {"n_rot", c.rope.n_rot ? c.rope.n_rot : c.d_head},
               {"layout", "half-split (Hugging Face rotate_half)"},
               {"scaling", rope_scaling_name(c.rope.scaling)},
               {"factor", c.rope.factor}};
  j["norm"] = {{"type", "rmsnorm"}, {"eps", c.rms_eps}, {"weight_plus_one", c.norm_weight_plus_one},
               {"qk_norm", c.qk_norm}, {"post_attn_norm", c.post_attn_norm},
               {"post_mlp_norm", c.post_mlp_norm}};
  j["activation"] = c.activation == Activation::SiLU ? "swiglu" : "geglu-tanh";
  {
    nlohmann::json global = nlohmann::json::array();
    for (int64_t l = 0; l < c.n_layer; ++l)
      if (c.layer_sliding.empty() || !c.layer_sliding[static_cast<size_t>(l)]) global.push_back(l);
    j["attention"] = {{"query_scale", c.attn_scale > 0 ? c.attn_scale : 1.0 / std::sqrt(static_cast<double>(c.d_head))},
                      {"sliding_window", c.sliding_window},
                      {"global_layers", global},
                      {"rope_theta_local", c.rope_theta_local > 0 ? c.rope_theta_local : c.rope.theta}};
  }
  j["embedding_scale"] = c.embedding_scale;
  j["final_logit_softcap"] = c.final_logit_softcap;
  j["tied_embeddings"] = c.tied_embeddings;
  j["biases"] = {{"qkv", c.attn_qkv_bias}, {"attn_out", c.attn_out_bias}, {"mlp", c.mlp_bias}};
  j["n_params"] = lm.model.n_params();
  j["weights_bytes"] = lm.model.nbytes();
  j["dtype"] = o.model.dtype;
  j["device"] = o.model.device;
  j["load_seconds"] = lm.load_seconds;
  const blas::BlasKernel& bk = blas::blas_kernel();  // core/blas_kernel.h: the start-up check
  j["blas"] = {{"library", bk.openblas ? "openblas" : "other"}, {"config", bk.config},
               {"core", bk.core}, {"openblas_choice", bk.openblas_choice},
               {"chosen_by", bk.chosen_by}, {"reason", bk.reason}, {"cpu", bk.cpu},
               {"simulated", bk.simulated}};
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);  // ru_maxrss is in KiB on Linux (getrusage(2))
  j["peak_rss_bytes"] = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  j["tokenizer"] = {{"kind", t.model_kind()},
                    {"pre", t.pre_type()},
                    {"n_vocab", t.n_vocab()},
                    {"add_bos", t.add_bos()},
                    {"bos", special(t, t.bos_id())},
                    {"eos", special(t, t.eos_id())},
                    {"eot", special(t, t.eot_id())},
                    {"pad", special(t, t.pad_id())},
                    {"chat_format", tok::chat_format_name(t.chat_format())}};
  if (o.hooks) {
    nlohmann::json hooks = nlohmann::json::array();
    for (const std::string& name : all_hook_names(c)) {
      HookId id = resolve_hooks(c, name).at(0);
      nlohmann::json shape = nlohmann::json::array();  // numbers for sizes, letters for B/T/K
      for (const std::string& d : hook_shape(c, id.point))
        shape.push_back(std::isdigit(static_cast<unsigned char>(d[0])) ? nlohmann::json(std::stoll(d))
                                                                      : nlohmann::json(d));
      hooks.push_back({{"name", name}, {"shape", shape}});
    }
    j["hooks"] = hooks;
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  auto tokstr = [&](const nlohmann::json& s) {
    return s.is_null() ? std::string("none")
                       : str(s["id"].get<int>(), " ", nlohmann::json(s["text"]).dump());
  };
  std::printf("model         %s\n", lm.path.c_str());
  std::printf("architecture  %s: %lld layers, d_model %lld, %lld heads (%lld kv, d_head %lld), "
              "d_ff %lld, %s\n",
              c.arch.c_str(), (long long)c.n_layer, (long long)c.d_model, (long long)c.n_head,
              (long long)c.n_head_kv, (long long)c.d_head, (long long)c.d_ff,
              j["activation"].get<std::string>().c_str());
  std::printf("context       %lld tokens\n", (long long)c.n_ctx_train);
  std::printf("rope          theta %g, %lld rotated dims per head, half-split, scaling %s\n",
              c.rope.theta, (long long)j["rope"]["n_rot"].get<int64_t>(), rope_scaling_name(c.rope.scaling));
  std::printf("norm          RMSNorm eps %g%s%s%s%s\n", c.rms_eps, c.norm_weight_plus_one ? ", weight (1 + w)" : "",
              c.qk_norm ? ", q/k norm" : "", c.post_attn_norm ? ", post-attention norm" : "",
              c.post_mlp_norm ? ", post-MLP norm" : "");
  if (c.sliding_window > 0)
    std::printf("attention     sliding window %lld (rope theta %g) except global layers %s; query scale %g\n",
                (long long)c.sliding_window, j["attention"]["rope_theta_local"].get<double>(),
                j["attention"]["global_layers"].dump().c_str(), j["attention"]["query_scale"].get<double>());
  if (c.embedding_scale != 1.0) std::printf("embed scale   %g\n", c.embedding_scale);
  std::printf("embeddings    %s, vocabulary %lld\n", c.tied_embeddings ? "tied" : "untied",
              (long long)c.n_vocab);
  std::printf("tokenizer     %s (pre %s), add_bos %s, chat format %s\n", t.model_kind().c_str(),
              t.pre_type().c_str(), t.add_bos() ? "yes" : "no", tok::chat_format_name(t.chat_format()));
  std::printf("special       bos %s | eos %s | eot %s | pad %s\n", tokstr(j["tokenizer"]["bos"]).c_str(),
              tokstr(j["tokenizer"]["eos"]).c_str(), tokstr(j["tokenizer"]["eot"]).c_str(),
              tokstr(j["tokenizer"]["pad"]).c_str());
  std::printf("parameters    %lld (%.1f M)\n", (long long)lm.model.n_params(), lm.model.n_params() / 1e6);
  std::printf("memory        %.1f MiB of weights as %s on %s; process peak RSS %.1f MiB\n",
              lm.model.nbytes() / 1048576.0, o.model.dtype.c_str(), o.model.device.c_str(),
              j["peak_rss_bytes"].get<int64_t>() / 1048576.0);
  std::printf("load time     %.2f s\n", lm.load_seconds);
  std::printf("blas          %s\n", blas::blas_kernel_line().c_str());
  if (o.hooks) {
    std::printf("hooks         %zu points (B batch, T positions, K key positions)\n", j["hooks"].size());
    for (const auto& h : j["hooks"])
      std::printf("  %-40s %s\n", h["name"].get<std::string>().c_str(), join_shape(h["shape"]).c_str());
  }
}

Registrar info_command{"info", "Describe a model: architecture, sizes, tokenizer, parameters, hook points",
              [](CLI::App& sub) {
                auto o = std::make_shared<InfoOptions>();
                add_model_options(sub, o->model);
                sub.add_flag("--json", o->json, "Print one JSON object on stdout");
                sub.add_flag("--hooks", o->hooks, "List every hook point name with its shape");
                sub.footer("Example: reasonscope info --model m.gguf --hooks");
                sub.callback([o] { run_info(*o); });
              }};

}  // namespace
}  // namespace rs::cli
