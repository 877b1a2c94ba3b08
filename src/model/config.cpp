// ModelConfig from GGUF metadata and from Hugging Face config.json.
// GGUF key names: GGUF specification (ggml docs/gguf.md, "LLM" standardized key-value pairs).
// HF key names: transformers LlamaConfig / Qwen2Config documentation.
#include "model/config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "io/gguf.h"

namespace rs {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> names = {"llama", "qwen2", "gemma3"};
  return names;
}

static std::string supported_list() {
  std::string s;
  for (const auto& a : supported_architectures()) s += (s.empty() ? "" : ", ") + a;
  return s;
}

static void require_supported(const std::string& arch, const std::string& source) {
  for (const auto& a : supported_architectures())
    if (a == arch) return;
  fail("unsupported architecture '", arch, "' in ", source, " (supported: ", supported_list(), ")");
}

// In T = long double, validate() checks that the count fits int64 before n_params() uses it.
template <typename T>
static T count_params(const ModelConfig& c) {
  const T d_model = c.d_model, n_head = c.n_head, n_head_kv = c.n_head_kv, d_head = c.d_head;
  const T attn = d_model * n_head * d_head + 2 * d_model * n_head_kv * d_head +
                 n_head * d_head * d_model +
                 (c.attn_qkv_bias ? (n_head + 2 * n_head_kv) * d_head : 0) +
                 (c.attn_out_bias ? d_model : 0) + (c.qk_norm ? 2 * d_head : 0);
  const T mlp = 3 * d_model * c.d_ff + (c.mlp_bias ? 2 * c.d_ff + d_model : 0);
  const T norms = 2 * d_model + (c.post_attn_norm ? d_model : 0) + (c.post_mlp_norm ? d_model : 0);
  return T(c.n_vocab) * d_model * (c.tied_embeddings ? 1 : 2) + d_model + T(c.n_layer) * (attn + mlp + norms);
}

int64_t ModelConfig::n_params() const { return count_params<int64_t>(*this); }

void ModelConfig::validate() const {
  auto positive = [&](const char* what, int64_t v) {
    if (v <= 0) fail(source, ": model config: ", what, " must be positive, found ", v);
  };
  positive("n_layer (block_count)", n_layer);
  positive("d_model (embedding_length)", d_model);
  positive("n_head (attention.head_count)", n_head);
  positive("n_head_kv (attention.head_count_kv)", n_head_kv);
  positive("d_head", d_head);
  positive("d_ff (feed_forward_length)", d_ff);
  positive("n_vocab", n_vocab);
  if (n_head % n_head_kv != 0)
    fail(source, ": model config: head_count ", n_head, " is not a multiple of head_count_kv ",
         n_head_kv);
  const int64_t n_rot = rope.n_rot ? rope.n_rot : d_head;
  if (n_rot % 2 != 0 || n_rot > d_head)
    fail(source, ": model config: rope dimension ", n_rot, " must be even and <= head dim ", d_head);
  if (!(rope.theta > 0)) fail(source, ": model config: rope theta must be positive, found ", rope.theta);
  if (!(rms_eps > 0)) fail(source, ": model config: rms epsilon must be positive, found ", rms_eps);
  if (rope.scaling != RopeScalingType::None && !(rope.factor > 0))
    fail(source, ": model config: rope scaling factor must be positive, found ", rope.factor);
  if (!layer_sliding.empty() && static_cast<int64_t>(layer_sliding.size()) != n_layer)
    fail(source, ": model config: ", layer_sliding.size(), " sliding-window flags for ", n_layer,
         " layers");
  if (count_params<long double>(*this) > 9.0e18L)  // found by fuzz_hf_config
    fail(source, ": model config: the sizes (n_layer ", n_layer, ", d_model ", d_model, ", d_ff ", d_ff,
         ", n_vocab ", n_vocab, ", ...) give more than 9e18 parameters");
}

void ModelConfig::check_layers_fit(size_t n_tensors) const {
  if (n_layer <= 0) fail(source, ": model config: n_layer (block_count) must be positive, found ", n_layer);
  if (static_cast<uint64_t>(n_layer) > n_tensors)
    fail(source, ": model config: ", n_layer, " blocks, but the weights hold only ", n_tensors,
         " tensors (each block has its own)");
}

std::string ModelConfig::summary() const {
  std::ostringstream os;
  os << arch << " L=" << n_layer << " d=" << d_model << " H=" << n_head << "/" << n_head_kv
     << " dh=" << d_head << " ff=" << d_ff << " V=" << n_vocab << " theta=" << rope.theta
     << " eps=" << rms_eps << (tied_embeddings ? " tied" : " untied");
  if (sliding_window > 0) {
    int64_t n_sliding = 0;
    for (bool b : layer_sliding) n_sliding += b;
    os << " window=" << sliding_window << " (" << n_sliding << " of " << n_layer << " layers, theta "
       << (rope_theta_local > 0 ? rope_theta_local : rope.theta) << ")";
  }
  return os.str();
}

// ------------------------------------------------------------------------------------------ GGUF
// Gemma 3 (Gemma Team 2025, "Gemma 3 Technical Report", arXiv 2503.19786; transformers
// Gemma3TextConfig / modeling_gemma3.py; llama.cpp's gemma3 graph) on top of the common keys:
//   - GeGLU MLP with the tanh approximation of GELU;
//   - RMSNorm on q and k per head, and on the attention and MLP outputs before each residual add;
//   - embeddings times sqrt(d_model);
//   - query scale 1/sqrt(key_length) (HF: query_pre_attn_scalar^-1/2, 256 = key_length here);
//   - 5 sliding-window (local) layers to 1 global layer: layer l is global when (l + 1) % 6 == 0
//     (HF sliding_window_pattern 6; llama.cpp set_swa_pattern(6)); local layers see the last
//     `attention.sliding_window` keys and use RoPE base 10000 (HF rope_local_base_freq), global
//     ones the file's rope.freq_base (1e6) and its scaling;
//   - norm weights: HF multiplies by (1 + w); llama.cpp's converter stores 1 + w in the GGUF
//     (convert_hf_to_gguf.py Gemma3Model: "norm.weight" + 1; transformers' GGUF loader subtracts
//     it again), so from a GGUF the stored weight multiplies directly.
static void set_gemma3_options(ModelConfig& c, const gguf::File& f) {
  const std::string a = c.arch + ".";
  c.activation = Activation::GeluTanh;
  c.qk_norm = c.post_attn_norm = c.post_mlp_norm = true;
  c.norm_weight_plus_one = false;
  c.embedding_scale = std::sqrt(static_cast<double>(c.d_model));
  c.attn_scale = 1.0 / std::sqrt(static_cast<double>(c.d_head));
  c.sliding_window = f.get_int_or(a + "attention.sliding_window", 0);
  c.rope_theta_local = 10000.0;
  c.final_logit_softcap = f.get_float_or(a + "final_logit_softcapping", 0.0);
  if (c.sliding_window > 0) {
    const int64_t pattern = f.get_int_or(a + "attention.sliding_window_pattern", 6);
    if (pattern <= 0)
      fail(f.path(), ": metadata key ", a, "attention.sliding_window_pattern: expected > 0, found ", pattern);
    c.layer_sliding.assign(static_cast<size_t>(c.n_layer), true);
    for (int64_t l = 0; l < c.n_layer; ++l) c.layer_sliding[static_cast<size_t>(l)] = (l + 1) % pattern != 0;
  }
}

ModelConfig config_from_gguf(const gguf::File& f) {
  ModelConfig c;
  c.source = f.path();
  c.arch = f.get_string("general.architecture");
  require_supported(c.arch, f.path());
  const std::string a = c.arch + ".";
  c.n_layer = f.get_int(a + "block_count");
  c.d_model = f.get_int(a + "embedding_length");
  c.d_ff = f.get_int(a + "feed_forward_length");
  c.n_head = f.get_int(a + "attention.head_count");
  c.n_head_kv = f.get_int_or(a + "attention.head_count_kv", c.n_head);
  if (c.n_head <= 0) fail(f.path(), ": metadata key ", a, "attention.head_count: expected > 0, found ", c.n_head);
  c.d_head = f.get_int_or(a + "attention.key_length", c.d_model / c.n_head);
  c.n_ctx_train = f.get_int_or(a + "context_length", 0);
  c.rms_eps = f.get_float_or(a + "attention.layer_norm_rms_epsilon", 1e-5);
  c.rope.theta = f.get_float_or(a + "rope.freq_base", 10000.0);
  c.rope.n_rot = f.get_int_or(a + "rope.dimension_count", c.d_head);
  const std::string scaling = f.get_string_or(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    c.rope.scaling = RopeScalingType::Linear;
    c.rope.factor = f.get_float(a + "rope.scaling.factor");
  } else if (scaling != "none") {
    fail(f.path(), ": metadata key ", a, "rope.scaling.type: expected none or linear, found '",
         scaling, "'");
  }
  // llama3-style scaling arrives in GGUF as a rope_freqs.weight tensor of per-frequency divisors
  // (applied by the loader), not as metadata.
  if (f.find_tensor("rope_freqs.weight")) c.rope.scaling = RopeScalingType::Llama3;

  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) fail(f.path(), ": tensor token_embd.weight: missing");
  if (embd->ne.size() != 2)
    fail(f.path(), ": tensor token_embd.weight: expected 2 dimensions, found ", embd->ne.size());
  c.n_vocab = embd->ne[1];
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  c.attn_qkv_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.attn_out_bias = f.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.mlp_bias = f.find_tensor("blk.0.ffn_up.bias") != nullptr;
  c.check_layers_fit(f.tensors().size());  // before set_gemma3_options' per-layer flags
  if (c.arch == "gemma3") set_gemma3_options(c, f);
  c.validate();
  return c;
}

// ------------------------------------------------------------------------------ HF config.json
ModelConfig config_from_hf_json(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": invalid JSON at byte ", e.byte, ": ", e.what());
  } catch (const nlohmann::json::exception& e) {  // e.g. a number out of range (1e999)
    fail(path, ": invalid JSON: ", e.what());
  }
  if (!j.is_object()) fail(path, ": expected a JSON object at the top level");
  auto get_int = [&](const char* key, int64_t def, bool required) -> int64_t {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) fail(path, ": key \"", key, "\": missing");
      return def;
    }
    if (!j[key].is_number_integer())
      fail(path, ": key \"", key, "\": expected an integer, found ", j[key].type_name());
    return j[key].get<int64_t>();
  };
  auto get_num = [&](const nlohmann::json& o, const char* key, double def) -> double {
    if (!o.contains(key) || o[key].is_null()) return def;
    if (!o[key].is_number()) fail(path, ": key \"", key, "\": expected a number, found ", o[key].type_name());
    return o[key].get<double>();
  };
  auto get_bool = [&](const char* key, bool def) -> bool {
    if (!j.contains(key) || j[key].is_null()) return def;
    if (!j[key].is_boolean()) fail(path, ": key \"", key, "\": expected true/false, found ", j[key].type_name());
    return j[key].get<bool>();
  };

  ModelConfig c;
  c.source = path;
  if (!j.contains("model_type") || !j["model_type"].is_string())
    fail(path, ": key \"model_type\": expected a string");
  c.arch = j["model_type"].get<std::string>();
  // Mistral checkpoints are the llama architecture (sliding window aside).
  if (c.arch == "mistral") c.arch = "llama";
  if (c.arch == "gemma3" || c.arch == "gemma3_text")
    fail(path, ": model_type '", c.arch, "': Gemma 3 loads from GGUF files only for now (the "
         "safetensors loader does not read its extra norms); convert it with llama.cpp's "
         "convert_hf_to_gguf.py");
  require_supported(c.arch, path);
  c.n_layer = get_int("num_hidden_layers", 0, true);
  c.d_model = get_int("hidden_size", 0, true);
  c.d_ff = get_int("intermediate_size", 0, true);
  c.n_head = get_int("num_attention_heads", 0, true);
  c.n_head_kv = get_int("num_key_value_heads", c.n_head, false);
  if (c.n_head <= 0) fail(path, ": key \"num_attention_heads\": expected > 0, found ", c.n_head);
  c.d_head = get_int("head_dim", c.d_model / c.n_head, false);
  c.n_vocab = get_int("vocab_size", 0, true);
  c.n_ctx_train = get_int("max_position_embeddings", 0, false);
  c.rms_eps = get_num(j, "rms_norm_eps", 1e-6);
  c.rope.theta = get_num(j, "rope_theta", 10000.0);
  c.rope.n_rot = c.d_head;
  c.tied_embeddings = get_bool("tie_word_embeddings", false);
  c.attn_qkv_bias = c.arch == "qwen2" ? true : get_bool("attention_bias", false);
  c.attn_out_bias = c.arch == "qwen2" ? false : c.attn_qkv_bias;
  c.mlp_bias = get_bool("mlp_bias", false);
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    const auto& rs_ = j["rope_scaling"];
    std::string type;
    if (rs_.contains("rope_type") && rs_["rope_type"].is_string()) type = rs_["rope_type"];
    else if (rs_.contains("type") && rs_["type"].is_string()) type = rs_["type"];
    if (type == "linear") {
      c.rope.scaling = RopeScalingType::Linear;
      c.rope.factor = get_num(rs_, "factor", 1.0);
    } else if (type == "llama3") {
      c.rope.scaling = RopeScalingType::Llama3;
      c.rope.factor = get_num(rs_, "factor", 8.0);
      c.rope.low_freq_factor = get_num(rs_, "low_freq_factor", 1.0);
      c.rope.high_freq_factor = get_num(rs_, "high_freq_factor", 4.0);
      // Range-checked before the cast: a double outside int64 is undefined behaviour (1e300 is
      // valid JSON). Found by fuzz_hf_config.
      const double omp = get_num(rs_, "original_max_position_embeddings", 8192);
      if (!(omp >= 1 && omp <= 1e15))
        fail(path, ": key \"rope_scaling.original_max_position_embeddings\": expected a positive "
             "context length, found ", omp);
      c.rope.original_max_position = static_cast<int64_t>(omp);
    } else if (!type.empty() && type != "default") {
      fail(path, ": key \"rope_scaling\": type '", type, "' is not supported (linear, llama3)");
    }
  }
  c.validate();
  return c;
}

}  // namespace rs
