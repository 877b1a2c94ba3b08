// Hugging Face directory (config.json + *.safetensors) -> Model. The weights are already in the
// canonical layout; each is converted straight into its final f32 buffer (q/k/v and gate/up into
// the fused buffers), tensors in parallel.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/folder.h"
#include "io/safetensors.h"
#include "model/model.h"

namespace rs {

Model load_hf_dir(const std::string& dir, const LoadOptions& opts) {
  if (!is_directory(dir)) {
    // Not a directory: a GGUF without the extension?
    std::FILE* fp = std::fopen(dir.c_str(), "rb");
    if (!fp) fail(dir, ": no such file or directory (expected a .gguf file or a directory with config.json and *.safetensors)");
    char magic[4] = {0, 0, 0, 0};
    const size_t n = std::fread(magic, 1, 4, fp);
    std::fclose(fp);
    if (n == 4 && std::string(magic, 4) == "GGUF") return load_gguf(dir, opts);
    fail(dir, ": not a GGUF file (magic) and not a directory with config.json + *.safetensors");
  }
  const std::string cfg_path = dir + "/config.json";
  Model m;
  m.config = config_from_hf_json(read_file(cfg_path), cfg_path);
  m.config.source = dir;
  const ModelConfig& c = m.config;
  auto st = SafetensorsModel::open(dir);
  c.check_layers_fit(st->tensors().size());
  const int64_t D = c.d_model, V = c.n_vocab;

  struct Job { const StTensor* t; at::Tensor dst; };
  std::vector<Job> jobs;
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  auto queue = [&](const std::string& name, const at::Tensor& dst) {
    const StTensor& t = st->tensor(name);
    if (t.shape != dst.sizes().vec()) {
      std::ostringstream a, b;
      a << dst.sizes();
      b << at::IntArrayRef(t.shape);
      fail(*t.file, ": tensor ", name, ": expected shape ", a.str(), ", found ", b.str());
    }
    if (!st_dtype_is_float(t.dtype)) fail(*t.file, ": tensor ", name, ": dtype ", st_dtype_name(t.dtype), " is not a float type");
    jobs.push_back({&t, dst});
  };

  m.embed = at::empty({V, D}, f32);
  queue("model.embed_tokens.weight", m.embed);
  m.layers.resize(static_cast<size_t>(c.n_layer));
  const bool fuse = opts.fuse && opts.dtype == at::kFloat && opts.device.is_cpu();
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& w = m.layers[static_cast<size_t>(l)];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    w = allocate_layer_f32(c, fuse);
    queue(p + "input_layernorm.weight", w.ln1);
    queue(p + "self_attn.q_proj.weight", w.q);
    queue(p + "self_attn.k_proj.weight", w.k);
    queue(p + "self_attn.v_proj.weight", w.v);
    if (c.attn_qkv_bias) {
      queue(p + "self_attn.q_proj.bias", w.q_bias);
      queue(p + "self_attn.k_proj.bias", w.k_bias);
      queue(p + "self_attn.v_proj.bias", w.v_bias);
    }
    queue(p + "self_attn.o_proj.weight", w.o);
    if (c.attn_out_bias) queue(p + "self_attn.o_proj.bias", w.o_bias);
    queue(p + "post_attention_layernorm.weight", w.ln2);
    queue(p + "mlp.gate_proj.weight", w.gate);
    queue(p + "mlp.up_proj.weight", w.up);
    queue(p + "mlp.down_proj.weight", w.down);
    if (c.mlp_bias) {
      queue(p + "mlp.gate_proj.bias", w.gate_bias);
      queue(p + "mlp.up_proj.bias", w.up_bias);
      queue(p + "mlp.down_proj.bias", w.down_bias);
    }
  }
  m.final_norm = at::empty({D}, f32);
  queue("model.norm.weight", m.final_norm);
  if (c.tied_embeddings || !st->find("lm_head.weight")) {
    m.config.tied_embeddings = true;
    m.lm_head = m.embed;
  } else {
    m.lm_head = at::empty({V, D}, f32);
    queue("lm_head.weight", m.lm_head);
  }

  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto worker = [&]() {
    try {
      for (size_t k = next++; k < jobs.size() && !failed; k = next++) st_to_float(*jobs[k].t, jobs[k].dst.data_ptr<float>());
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  const unsigned n_threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16));
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  if (opts.dtype != at::kFloat || !opts.device.is_cpu()) {
    auto move = [&](at::Tensor& t) {
      if (t.defined()) t = t.to(opts.device, opts.dtype);
    };
    move(m.embed);
    for (auto& w : m.layers) {
      for (at::Tensor* t : {&w.ln1, &w.q, &w.k, &w.v, &w.o, &w.q_bias, &w.k_bias, &w.v_bias, &w.o_bias,
                            &w.ln2, &w.gate, &w.up, &w.down, &w.gate_bias, &w.up_bias, &w.down_bias})
        move(*t);
      if (opts.fuse) fuse_layer_weights(w);
    }
    move(m.final_norm);
    if (m.config.tied_embeddings) m.lm_head = m.embed;
    else move(m.lm_head);
  }
  init_rope(m);
  return m;
}

}  // namespace rs
