// The trained task model on disk (see task_model_io.h).
#include "methods/cluster/task_model_io.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/gen_instructions.h"
#include "io/safetensors.h"
#include "tokenizer/utf8.h"

namespace rs::cluster {
namespace {

const char* kPad = "<pad>";

// Vocabulary strings in byte-level form, in id order (without <pad>).
std::vector<std::string> vocab_pieces() {
  const auto& table = tok::byte_unicode();
  std::vector<std::string> pieces;
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    pieces.push_back(table.byte_to_utf8[static_cast<size_t>(b)]);
    seen.insert(pieces.back());
  }
  auto add = [&](const std::string& raw) {
    std::string p = tok::bytes_to_byte_level(raw);
    if (seen.insert(p).second) pieces.push_back(p);  // one-byte words are byte symbols already
  };
  for (const auto& w : data::instruction_vocabulary()) {
    add(w);
    add(" " + w);
  }
  add(" |");
  return pieces;
}

}  // namespace

std::string task_prompt(const std::string& instruction, const std::string& input) {
  return instruction + " | " + input;
}
std::string task_target(const std::string& output) { return " " + output; }

int64_t task_vocab_size() { return static_cast<int64_t>(vocab_pieces().size()) + 1; }

std::string task_tokenizer_json() {
  using nlohmann::ordered_json;
  const auto pieces = vocab_pieces();
  ordered_json vocab = ordered_json::object();
  for (size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = i;
  ordered_json bytelevel = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                            {"trim_offsets", true}, {"use_regex", true}};
  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = ordered_json::array({{{"id", pieces.size()}, {"content", kPad},
                                            {"single_word", false}, {"lstrip", false},
                                            {"rstrip", false}, {"normalized", false},
                                            {"special", true}}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = bytelevel;
  j["post_processor"] = bytelevel;
  j["decoder"] = bytelevel;
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", true},
                {"vocab", vocab}, {"merges", ordered_json::array()}};
  return j.dump(1) + "\n";
}

std::string task_tokenizer_config_json() {
  nlohmann::ordered_json j = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                              {"pad_token", kPad}, {"add_bos_token", false},
                              {"add_eos_token", false}, {"model_max_length", 64}};
  return j.dump(2) + "\n";
}

void write_task_tokenizer(const std::string& dir) {
  write_file_atomic(dir + "/tokenizer.json", task_tokenizer_json());
  write_file_atomic(dir + "/tokenizer_config.json", task_tokenizer_config_json());
}

std::string llama_config_json(const ModelConfig& c, int64_t pad_id) {
  nlohmann::ordered_json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", c.d_model},
      {"intermediate_size", c.d_ff},
      {"num_hidden_layers", c.n_layer},
      {"num_attention_heads", c.n_head},
      {"num_key_value_heads", c.n_head_kv},
      {"head_dim", c.d_head},
      {"hidden_act", "silu"},
      {"max_position_embeddings", c.n_ctx_train},
      {"rms_norm_eps", c.rms_eps},
      {"rope_theta", c.rope.theta},
      {"rope_scaling", nullptr},
      {"tie_word_embeddings", c.tied_embeddings},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"vocab_size", c.n_vocab},
      {"pad_token_id", pad_id},
      {"torch_dtype", "float32"}};
  return j.dump(2) + "\n";
}

void save_weights(const Model& m, const std::string& path) {
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  for (const auto& [name, t] : m.named_weights()) {
    const at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
    w.add(name, StDtype::F32, c.sizes().vec(), c.data_ptr<float>());
  }
  w.write(path);
}

void load_weights_into(Model& m, const std::string& path) {
  auto f = SafetensorsFile::open(path);
  at::NoGradGuard no_grad;
  for (auto& [name, t] : m.named_weights()) {
    const StTensor* s = f->find(name);
    if (!s) fail(path, ": tensor ", name, " is missing");
    if (s->shape != t.sizes().vec())
      fail(path, ": tensor ", name, ": expected shape ", t.sizes(), ", found ", at::IntArrayRef(s->shape));
    std::vector<float> v = st_to_float(*s);
    t.copy_(at::from_blob(v.data(), t.sizes(), at::kFloat).to(t.device(), t.scalar_type()));
  }
}

void save_task_model(const Model& m, const std::string& dir) {
  make_dirs(dir);
  write_task_tokenizer(dir);
  save_weights(m, dir + "/model.safetensors");
  write_file_atomic(dir + "/config.json", llama_config_json(m.config, task_vocab_size() - 1));
}

}  // namespace rs::cluster
