// GGUF -> Model in the Hugging Face layout.
// Tensor names: llama.cpp's GGUF tensor naming (token_embd, blk.N.attn_q, ..., output_norm,
// output), see the GGUF specification (ggml docs/gguf.md, "Standardized tensor names").
// A GGUF tensor with ne = [ne0, ne1] (ne0 innermost) is the torch tensor [ne1, ne0], so a Linear
// weight [out, in] is stored as ne = [in, out] and its rows need no transpose.
// Speed: every tensor is dequantised straight from the mapping into its final f32 buffer
// (q/k rows land at their un-permuted row), in parallel over row chunks; no intermediate copies.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/native.h"

namespace rs {
namespace {

// One tensor to fill: source rows -> destination rows (row_map[r] = destination row, or identity).
struct Job {
  const gguf::TensorInfo* info;
  float* dst;
  int64_t rows, cols;
  int64_t qk_heads = 0;  // > 0: undo llama.cpp's q/k permutation with this many heads
};

int64_t hf_row_of_gguf_row(int64_t r, int64_t n_head, int64_t rows) {
  // GGUF row h*d + 2i + j  <-  HF row h*d + j*d/2 + i   (see gguf_to_hf_qk_rows)
  const int64_t d = rows / n_head, h = r / d, rem = r % d, i = rem / 2, j = rem % 2;
  return h * d + j * (d / 2) + i;
}

void run_jobs(const std::vector<Job>& jobs) {
  // Work items: (job, first row, row count) of about 256 K elements each.
  struct Item { size_t job; int64_t r0, n; };
  std::vector<Item> items;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const int64_t per = std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(1, jobs[j].cols));
    for (int64_t r = 0; r < jobs[j].rows; r += per) items.push_back({j, r, std::min(per, jobs[j].rows - r)});
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto worker = [&]() {
    try {
      for (size_t k = next++; k < items.size() && !failed; k = next++) {
        const Item& it = items[k];
        const Job& job = jobs[it.job];
        const GgmlType type = job.info->type;
        const uint64_t row_bytes = ggml_nbytes(type, {job.cols});
        for (int64_t r = it.r0; r < it.r0 + it.n; ++r) {
          const int64_t dst_row = job.qk_heads > 0 ? hf_row_of_gguf_row(r, job.qk_heads, job.rows) : r;
          dequantize(type, job.info->data + static_cast<uint64_t>(r) * row_bytes, job.dst + dst_row * job.cols, job.cols);
        }
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  const unsigned n_threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

Model load_gguf(const std::string& path, const LoadOptions& opts) {
  if (opts.weights == WeightFormat::Native) {
    if (!opts.device.is_cpu())
      fail(path, ": native (quantised) weights run on CPU only; use --weights dequant for ", opts.device.str());
    return load_gguf_native(path);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto file = gguf::File::open(path);
  const gguf::File& f = *file;
  Model m;
  m.config = config_from_gguf(f);
  const ModelConfig& c = m.config;
  const int64_t D = c.d_model, H = c.n_head, Hkv = c.n_head_kv, dh = c.d_head, V = c.n_vocab;
  const bool permuted = c.arch == "llama";  // llama.cpp permutes q/k rows for llama only

  std::vector<Job> jobs;
  // Check a tensor's shape and type, then queue it into dst ([rows, cols] row-major f32).
  auto queue = [&](const std::string& name, at::Tensor dst, int64_t qk_heads = 0) {
    const gguf::TensorInfo& ti = f.tensor(name);
    const int64_t rows = dst.dim() == 1 ? 1 : dst.size(0), cols = dst.size(-1);
    std::vector<int64_t> want = dst.dim() == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows};
    if (ti.ne != want) {
      std::string found, expected;
      for (auto n : ti.ne) found += (found.empty() ? "" : ", ") + std::to_string(n);
      for (auto n : want) expected += (expected.empty() ? "" : ", ") + std::to_string(n);
      fail(path, ": tensor ", name, ": expected ne [", expected, "], found [", found, "]");
    }
    if (!ggml_type_dequant_supported(ti.type))
      fail(path, ": tensor ", name, ": type ", ggml_type_name(ti.type), " cannot be dequantised");
    jobs.push_back({&ti, dst.data_ptr<float>(), rows, cols, qk_heads});
  };
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  auto optional = [&](const std::string& name) { return f.find_tensor(name) != nullptr; };
  auto permute_qk_bias = [&](LayerWeights& w) {
    if (!(permuted && c.attn_qkv_bias)) return;
    w.q_bias.copy_(gguf_to_hf_qk_rows(w.q_bias, H));
    w.k_bias.copy_(gguf_to_hf_qk_rows(w.k_bias, Hkv));
  };

  // Another dtype or device: each group of tensors is converted as soon as it is dequantised,
  // so the peak is the converted model plus one layer in f32, not the whole model in f32.
  const bool convert = opts.dtype != at::kFloat || !opts.device.is_cpu();
  auto move = [&](at::Tensor& t) {
    if (convert && t.defined()) t = t.to(opts.device, opts.dtype);
  };
  auto flush = [&] {
    run_jobs(jobs);
    jobs.clear();
  };

  m.embed = at::empty({V, D}, f32);
  queue("token_embd.weight", m.embed);
  if (convert) {
    flush();
    move(m.embed);
  }
  m.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& w = m.layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    // q, k, v land directly in one fused [(H + 2Hkv) dh, D] buffer; q/k/v are row views of it.
    w = allocate_layer_f32(c, opts.fuse && !convert);
    queue(p + "attn_norm.weight", w.ln1);
    queue(p + "attn_q.weight", w.q, permuted ? H : 0);
    queue(p + "attn_k.weight", w.k, permuted ? Hkv : 0);
    queue(p + "attn_v.weight", w.v);
    if (c.attn_qkv_bias) {
      // a bias is one "row" of H*dh: permute its elements like rows (done after dequantising)
      queue(p + "attn_q.bias", w.q_bias);
      queue(p + "attn_k.bias", w.k_bias);
      queue(p + "attn_v.bias", w.v_bias);
    }
    queue(p + "attn_output.weight", w.o);
    if (c.attn_out_bias) queue(p + "attn_output.bias", w.o_bias);
    queue(p + "ffn_norm.weight", w.ln2);
    // gemma3: per-head q/k norms and the norms on the attention / MLP outputs
    if (c.qk_norm) {
      queue(p + "attn_q_norm.weight", w.q_norm);
      queue(p + "attn_k_norm.weight", w.k_norm);
    }
    if (c.post_attn_norm) queue(p + "post_attention_norm.weight", w.post_attn_norm);
    if (c.post_mlp_norm) queue(p + "post_ffw_norm.weight", w.post_mlp_norm);
    queue(p + "ffn_gate.weight", w.gate);
    queue(p + "ffn_up.weight", w.up);
    queue(p + "ffn_down.weight", w.down);
    if (c.mlp_bias) {
      if (optional(p + "ffn_gate.bias")) queue(p + "ffn_gate.bias", w.gate_bias);
      else w.gate_bias.zero_();
      queue(p + "ffn_up.bias", w.up_bias);
      queue(p + "ffn_down.bias", w.down_bias);
    }
    if (convert) {
      flush();
      permute_qk_bias(w);
      for (at::Tensor* t : {&w.ln1, &w.q, &w.k, &w.v, &w.o, &w.q_bias, &w.k_bias, &w.v_bias, &w.o_bias,
                            &w.q_norm, &w.k_norm, &w.post_attn_norm, &w.ln2, &w.gate, &w.up, &w.down,
                            &w.gate_bias, &w.up_bias, &w.down_bias, &w.post_mlp_norm})
        move(*t);
      if (opts.fuse) fuse_layer_weights(w);  // fused buffers of the converted tensors
    }
  }
  m.final_norm = at::empty({D}, f32);
  queue("output_norm.weight", m.final_norm);
  if (!c.tied_embeddings) {
    m.lm_head = at::empty({V, D}, f32);
    queue("output.weight", m.lm_head);
  }
  if (optional("rope_freqs.weight")) {
    const int64_t n_rot = c.rope.n_rot ? c.rope.n_rot : dh;
    m.rope_freq_factors = at::empty({n_rot / 2}, f32);
    queue("rope_freqs.weight", m.rope_freq_factors);
  }
  flush();
  if (!convert)
    for (auto& w : m.layers) permute_qk_bias(w);
  move(m.final_norm);
  if (c.tied_embeddings) m.lm_head = m.embed;
  else move(m.lm_head);
  init_rope(m);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_debug(str("loaded ", path, " (", c.summary(), ") in ", secs, " s"));
  return m;
}

// Not every libtorch multiplies every dtype on every device (libtorch 1.13 has no f16 GEMM on
// CPU; 2.x does). One tiny product now turns a stack trace from deep inside the first forward
// into a message that says what to choose instead.
static void check_device_and_dtype(const LoadOptions& opts) {
  const std::string device = opts.device.str();
  const std::string dtype = at::toString(opts.dtype);
  at::Tensor probe;
  try {
    probe = at::ones({2, 2}, at::TensorOptions().device(opts.device));
  } catch (const std::exception&) {
    fail("device ", device, " is not available (this libtorch has no such device, or none is "
         "visible); use --device cpu");
  }
  try {
    probe = probe.to(opts.dtype);
    (void)at::matmul(probe, probe);
  } catch (const std::exception&) {
    fail("dtype ", dtype, " has no matrix multiply on ", device, " in this libtorch; use f32 or "
         "bf16 on CPU (f16 needs CUDA or libtorch 2.x)");
  }
}

Model load_model(const std::string& path, const LoadOptions& opts) {
  check_device_and_dtype(opts);
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return load_gguf(path, opts);
  if (opts.weights == WeightFormat::Native)
    fail(path, ": native (quantised) weights need a .gguf file; use --weights dequant for this model");
  // A directory (config.json + safetensors) or a file with another extension: sniff.
  return load_hf_dir(path, opts);
}

}  // namespace rs
