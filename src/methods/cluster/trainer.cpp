// Training loop of the task-clustering experiment (see trainer.h). The one file of the method
// that includes <torch/torch.h> (AdamW, gradient clipping, optimizer serialisation).
#include "methods/cluster/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/layers.h"
#include "core/log.h"
#include "data/gen_instructions.h"
#include "data/outputs.h"
#include "methods/cluster/metrics.h"
#include "methods/cluster/task_model_io.h"
#include "stats/rng.h"
#include "tokenizer/tokenizer.h"

namespace rs::cluster {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// FNV-1a, 64 bit (Fowler, Noll, Vo): a fixed hash, so the held-out split is the same on every
// platform and for every seed.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}
bool held_out(const std::string& instruction) { return fnv1a(instruction) % 5 == 0; }

struct Example {
  std::vector<int64_t> prompt;       // instruction | input
  std::vector<int64_t> instruction;  // instruction tokens alone (for the instruction mean)
  int64_t target = 0;                // the output token
  int64_t task = 0;
  json row;                          // the generated row
};

struct Dataset {
  std::vector<Example> train, train_eval, val;
};

Dataset make_dataset(const TrainConfig& c, const tok::Tokenizer& tk) {
  auto encode = [&](const data::GenRow& r) {
    Example e;
    const std::string instr = r.at("instruction").get<std::string>();
    auto p = tk.encode(task_prompt(instr, r.at("input").get<std::string>()), false, false);
    auto i = tk.encode(instr, false, false);
    auto t = tk.encode(task_target(r.at("output").get<std::string>()), false, false);
    if (t.size() != 1) fail("cluster train: output '", r.at("output"), "' is not one token");
    e.prompt.assign(p.begin(), p.end());
    e.instruction.assign(i.begin(), i.end());
    e.target = t[0];
    e.task = std::stoll(r.at("task").get<std::string>().substr(4));  // "task3" -> 3
    e.row = json::parse(r.dump());  // ordered_json -> json
    return e;
  };
  Dataset d;
  for (const auto& r : data::make_instructions(static_cast<uint64_t>(c.train_pool), c.seed, c.tasks, c.distributions))
    if (!held_out(r.at("instruction").get<std::string>())) d.train.push_back(encode(r));
  // Validation rows come from another seed's stream and keep only held-out instructions.
  const uint64_t want = static_cast<uint64_t>(c.eval_rows);
  for (const auto& r : data::make_instructions(want * 12, c.seed + 0x5A17ull, c.tasks, c.distributions)) {
    if (d.val.size() == want) break;
    if (held_out(r.at("instruction").get<std::string>())) d.val.push_back(encode(r));
  }
  if (d.val.size() < want || d.train.size() < want)
    fail("cluster train: could not make ", want, " evaluation rows per split (train pool ",
         d.train.size(), ", validation ", d.val.size(), "); lower --eval-rows");
  d.train_eval.assign(d.train.begin(), d.train.begin() + static_cast<long>(want));
  return d;
}

// The rows of step s: a pure function of (seed, s), so resuming needs only the step.
std::vector<size_t> batch_rows(uint64_t seed, int64_t step, int64_t batch, size_t pool) {
  stats::SplitMix64 rng(stats::SplitMix64(seed ^ 0xB47C4ull).next() + static_cast<uint64_t>(step));
  std::vector<size_t> rows(static_cast<size_t>(batch));
  for (auto& r : rows) r = static_cast<size_t>(rng.below(pool));
  return rows;
}

// Linear warm-up, then cosine decay from lr to lr / 10 (as nanoGPT's get_lr).
double lr_at(const TrainConfig& c, int64_t step) {
  if (step < c.warmup) return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup);
  const double span = std::max<int64_t>(1, c.steps - c.warmup);
  const double progress = std::min(1.0, static_cast<double>(step - c.warmup) / span);
  const double min_lr = c.lr / 10;
  return min_lr + 0.5 * (1 + std::cos(M_PI * progress)) * (c.lr - min_lr);
}

// logits at the last prompt token: ln_final(resid)[:, -1] @ W_U^T  -> [B, V]
at::Tensor last_logits(const Model& m, const at::Tensor& final_last) {
  return at::matmul(final_last, m.lm_head.t());
}

struct SplitEval {
  double accuracy = 0, loss = 0;
  std::vector<LayerScores> layers;
  std::vector<at::Tensor> states;
  std::vector<int64_t> predicted;
};

SplitEval evaluate(const Model& m, const std::vector<Example>& rows, const TrainConfig& c,
                   int64_t pad_id) {
  std::vector<std::vector<int64_t>> prompts, instructions;
  std::vector<int64_t> targets, labels;
  for (const auto& e : rows) {
    prompts.push_back(e.prompt);
    instructions.push_back(e.instruction);
    targets.push_back(e.target);
    labels.push_back(e.task);
  }
  const std::vector<int64_t> layers = embed_and_blocks(m.config.n_layer);
  SplitEval ev;
  const bool at_input = c.position == TrainPosition::Input;
  HiddenStates hs = hidden_states(m, prompts, pad_id, Pool::Last, at_input ? layers : std::vector<int64_t>{}, 256, true);
  if (c.position == TrainPosition::InstructionMean)
    hs.by_layer = hidden_states(m, instructions, pad_id, Pool::Mean, layers, 256).by_layer;
  if (c.position == TrainPosition::Separator) {
    for (auto& p : prompts) p.pop_back();  // instruction | (without the input token)
    hs.by_layer = hidden_states(m, prompts, pad_id, Pool::Last, layers, 256).by_layer;
  }
  {
    at::NoGradGuard ng;
    const at::Tensor logits = last_logits(m, hs.final_last);
    const at::Tensor tgt = at::tensor(targets, at::kLong).to(logits.device());
    ev.loss = at::nll_loss(at::log_softmax(logits, -1), tgt).item<double>();
    const at::Tensor pred = logits.argmax(-1).to(at::kCPU);
    ev.accuracy = pred.eq(tgt.to(at::kCPU)).to(at::kDouble).mean().item<double>();
    ev.predicted.assign(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + pred.numel());
  }
  for (const auto& x : hs.by_layer)
    ev.layers.push_back(score_layer(x, labels, c.tasks, c.kmeans_restarts, c.seed));
  ev.states = std::move(hs.by_layer);
  return ev;
}

// ----------------------------------------------------------------------------- checkpoints
void save_checkpoint(const std::string& dir, const Model& m, torch::optim::Optimizer& opt,
                     const json& state) {
  const std::string tmp = dir + ".tmp", old = dir + ".old";
  fs::remove_all(tmp);
  make_dirs(tmp);
  save_weights(m, tmp + "/model.safetensors");
  std::ostringstream os;
  torch::save(opt, os);
  write_file_atomic(tmp + "/optimizer.pt", os.str());
  write_file_atomic(tmp + "/state.json", state.dump(1) + "\n");
  // Swap directories: a crash between the renames leaves checkpoint.old, which resume uses.
  fs::remove_all(old);
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(tmp, dir);
  fs::remove_all(old);
}

// Curves of a checkpoint written before the layer convention (version 1) counted the
// embeddings as layer 0 and block l as l + 1; convert them to core/layers.h numbering.
json clustering_curves(const json& state, const std::string& where) {
  json curves = state.at("clustering");
  if (data::layer_convention_version(state, where) == 1)
    for (auto& p : curves) {
      const int64_t hf = p.at("layer").get<int64_t>();
      p["layer"] = data::layer_json(hf == 0 ? kEmbedLayer : static_cast<int>(hf - 1));
    }
  return curves;
}

std::string find_checkpoint(const std::string& dir) {
  if (fs::exists(dir + "/state.json")) return dir;
  if (fs::exists(dir + ".old/state.json")) return dir + ".old";
  return "";
}

}  // namespace

TrainPosition parse_train_position(const std::string& s) {
  if (s == "input") return TrainPosition::Input;
  if (s == "separator") return TrainPosition::Separator;
  if (s == "mean") return TrainPosition::InstructionMean;
  fail("--position: expected input, separator or mean, got '", s, "'");
}
const char* train_position_name(TrainPosition p) {
  return p == TrainPosition::Input ? "input" : p == TrainPosition::Separator ? "separator" : "mean";
}

json TrainConfig::to_json() const {
  return {{"tasks", tasks}, {"distributions", distributions}, {"layers", layers},
          {"d_model", d_model}, {"heads", heads}, {"steps", steps}, {"batch", batch},
          {"lr", lr}, {"warmup", warmup}, {"weight_decay", weight_decay},
          {"grad_clip", grad_clip}, {"eval_every", eval_every}, {"eval_rows", eval_rows},
          {"train_pool", train_pool}, {"kmeans_restarts", kmeans_restarts},
          {"position", train_position_name(position)}, {"seed", seed}};
}

ModelConfig task_model_config(const TrainConfig& c) {
  if (c.layers < 1 || c.d_model < 8 || c.heads < 1 || c.d_model % c.heads != 0 || (c.d_model / c.heads) % 2)
    fail("cluster train: --d-model ", c.d_model, " must be a multiple of --heads ", c.heads,
         " with an even head size, and --layers >= 1 (got ", c.layers, ")");
  ModelConfig m;
  m.arch = "llama";
  m.source = "cluster-train";
  m.n_layer = c.layers;
  m.d_model = c.d_model;
  m.n_head = c.heads;
  m.n_head_kv = c.heads;
  m.d_head = c.d_model / c.heads;
  m.d_ff = (8 * c.d_model / 3 + 31) / 32 * 32;  // SwiGLU width 8/3 d (Shazeer 2020)
  m.n_vocab = task_vocab_size();
  m.n_ctx_train = 64;
  m.rope.theta = 10000.0;
  m.rms_eps = 1e-5;
  m.tied_embeddings = true;
  m.validate();
  return m;
}

TrainResult train_task_model(const TrainConfig& c, const std::string& out_dir, bool resume) {
  if (c.steps < 1 || c.batch < 1 || c.eval_every < 1 || c.eval_rows < 2 || c.lr <= 0 || c.warmup < 1)
    fail("cluster train: --steps, --batch, --eval-every must be >= 1, --lr > 0 (got steps ", c.steps,
         ", batch ", c.batch, ", eval-every ", c.eval_every, ", lr ", c.lr, ")");
  if (c.eval_rows <= c.tasks)
    fail("cluster train: --eval-rows ", c.eval_rows, " must exceed --tasks ", c.tasks,
         " (k-means with k = tasks needs more rows than clusters)");
  const auto t_start = Clock::now();
  const ModelConfig mc = task_model_config(c);
  make_dirs(out_dir);
  write_task_tokenizer(out_dir);
  const auto tk = tok::Tokenizer::from_hf_dir(out_dir);
  const int64_t pad_id = tk->pad_id();
  const Dataset data = make_dataset(c, *tk);

  TrainResult res;
  res.config = c;
  res.vocab_size = mc.n_vocab;
  res.n_train_rows = static_cast<int64_t>(data.train.size());
  res.n_val_rows = static_cast<int64_t>(data.val.size());
  for (int t = 0; t < c.tasks; ++t) res.task_names.push_back("task" + std::to_string(t));
  for (const auto& e : data.val) res.val_labels.push_back(e.task);
  res.clustering = json::array();
  res.accuracy = json::array();
  res.layers = embed_and_blocks(mc.n_layer);

  Model m = make_random_model(mc, c.seed);
  const auto params = m.make_trainable();
  res.n_params = m.n_params();
  // AdamW: decay the matrices, not the norm gains (as nanoGPT's configure_optimizers).
  std::vector<at::Tensor> decay, no_decay, all_params;
  for (const auto& [name, t] : params) {
    (t.dim() >= 2 ? decay : no_decay).push_back(t);
    all_params.push_back(t);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(c.lr).betas(std::make_tuple(0.9, 0.95)).weight_decay(c.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(c.lr).betas(std::make_tuple(0.9, 0.95)).weight_decay(0.0)));
  torch::optim::AdamW opt(std::move(groups));

  const std::string ckpt_dir = out_dir + "/checkpoint";
  int64_t step = 0;
  const std::string found = find_checkpoint(ckpt_dir);
  if (!found.empty() && !resume)
    fail(out_dir, ": holds a checkpoint (", found, "); pass --resume to continue it or choose another --out");
  if (!found.empty()) {
    const json st = json::parse(read_file(found + "/state.json"));
    json want = c.to_json(), have = st.at("config");
    want.erase("steps");
    have.erase("steps");
    if (want != have) {
      for (auto it = want.begin(); it != want.end(); ++it)
        if (!have.contains(it.key()) || have[it.key()] != it.value())
          fail(found, "/state.json: config '", it.key(), "' is ", have.value(it.key(), json()).dump(),
               " but this run asks for ", it.value().dump(), "; resume with the same options");
    }
    load_weights_into(m, found + "/model.safetensors");
    std::istringstream is(read_file(found + "/optimizer.pt"));
    torch::load(opt, is);
    step = st.at("step").get<int64_t>();
    res.clustering = clustering_curves(st, found + "/state.json");
    res.accuracy = st.at("accuracy");
    res.resumed_from = step;
    log_info(str("cluster train: resumed from ", found, " at step ", step));
  }

  auto eval_and_checkpoint = [&](bool final_eval) {
    const auto t0 = Clock::now();
    SplitEval tr = evaluate(m, data.train_eval, c, pad_id);
    SplitEval va = evaluate(m, data.val, c, pad_id);
    for (const auto& [split, ev] : {std::pair<const char*, const SplitEval*>{"train", &tr}, {"val", &va}}) {
      res.accuracy.push_back({{"step", step}, {"split", split}, {"accuracy", ev->accuracy}, {"loss", ev->loss}});
      for (size_t l = 0; l < ev->layers.size(); ++l)
        res.clustering.push_back({{"step", step}, {"split", split}, {"layer", data::layer_json(static_cast<int>(res.layers[l]))},
                                  {"ari", ev->layers[l].ari}, {"nmi", ev->layers[l].nmi},
                                  {"silhouette", ev->layers[l].silhouette}});
    }
    if (res.first_eval_step < 0) {
      res.first_eval_step = step;
      res.first_val_states = va.states;
    }
    res.timing.eval_s += seconds_since(t0);
    log_info(str("cluster train: step ", step, "/", c.steps, "  loss ", tr.loss, "  train acc ",
                 tr.accuracy, "  val acc ", va.accuracy, "  val ARI last layer ", va.layers.back().ari));
    const auto t1 = Clock::now();
    json state = {{"step", step}, {"config", c.to_json()},
                  {"rng", {{"seed", c.seed}, {"scheme", "batch of step s = SplitMix64(seed, s) draws; nothing else is random after init"}}},
                  {"clustering", res.clustering}, {"accuracy", res.accuracy}};
    data::stamp_layer_convention(state);
    save_checkpoint(ckpt_dir, m, opt, state);
    res.timing.checkpoint_s += seconds_since(t1);
    if (final_eval) {
      res.train_accuracy = tr.accuracy;
      res.val_accuracy = va.accuracy;
      for (const auto& s : va.layers) {
        res.ari_by_layer.push_back(s.ari);
        res.nmi_by_layer.push_back(s.nmi);
        res.silhouette_by_layer.push_back(s.silhouette);
      }
      for (const auto& s : tr.layers) {
        res.train_ari_by_layer.push_back(s.ari);
        res.train_nmi_by_layer.push_back(s.nmi);
      }
      res.final_val_states = va.states;
      res.val_examples = json::array();
      for (size_t i = 0; i < data.val.size(); ++i) {
        json r = data.val[i].row;
        std::string word = tk->decode({static_cast<int32_t>(va.predicted[i])});
        if (!word.empty() && word[0] == ' ') word.erase(0, 1);
        r["predicted"] = word;
        r["correct"] = va.predicted[i] == data.val[i].target;
        for (size_t l = 0; l < va.layers.size(); ++l) r["cluster_by_layer"].push_back(va.layers[l].clusters[i]);
        res.val_examples.push_back(r);
      }
    }
  };

  if (step == 0 && res.resumed_from < 0) eval_and_checkpoint(c.steps == 0);
  Progress progress("cluster train", static_cast<uint64_t>(std::max<int64_t>(0, c.steps - step)));
  while (step < c.steps) {
    const double lr = lr_at(c, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    std::vector<std::vector<int64_t>> seqs;
    std::vector<int64_t> targets;
    for (size_t r : batch_rows(c.seed, step, c.batch, data.train.size())) {
      seqs.push_back(data.train[r].prompt);
      targets.push_back(data.train[r].target);
    }
    const Batch b = make_batch(seqs, pad_id, m.device());
    auto t0 = Clock::now();
    ForwardOptions o;
    o.logits = LogitsMode::None;  // the final normed residual; logits only where the loss is
    const at::Tensor h = forward(m, b.tokens, b.mask, o);
    const at::Tensor logits = last_logits(m, h.select(1, h.size(1) - 1));
    // loss = -mean_b log softmax(logits_b)[target_b]
    const at::Tensor loss = at::nll_loss(at::log_softmax(logits, -1), at::tensor(targets, at::kLong));
    res.timing.forward_s += seconds_since(t0);
    t0 = Clock::now();
    opt.zero_grad();
    loss.backward();
    res.timing.backward_s += seconds_since(t0);
    t0 = Clock::now();
    if (c.grad_clip > 0) torch::nn::utils::clip_grad_norm_(all_params, c.grad_clip);
    opt.step();
    res.timing.optimizer_s += seconds_since(t0);
    ++step;
    ++res.timing.steps_run;
    progress.tick();
    if (step % c.eval_every == 0 || step == c.steps) eval_and_checkpoint(step == c.steps);
    if (step == c.interrupt_after) {
      res.interrupted = true;
      res.steps = step;
      return res;
    }
  }
  progress.done();
  if (res.ari_by_layer.empty()) eval_and_checkpoint(true);  // resumed at (or past) the last step
  res.steps = step;
  save_task_model(m, out_dir);
  res.timing.total_s = seconds_since(t_start);
  return res;
}

}  // namespace rs::cluster
