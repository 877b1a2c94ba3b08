// reasonscope cluster train | analyze: task clustering of hidden states (METHODS.md section 5;
// Wu & Varshney, arXiv 2402.12151). Thin: parse options, call methods/cluster, write outputs.
#include <ATen/Parallel.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cluster_report.h"
#include "cli/cmd_model_common.h"
#include "core/atomic_file.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "methods/cluster/analyze.h"
#include "methods/cluster/trainer.h"

namespace rs::cli {
namespace {
using nlohmann::json;

json layers_of(const std::vector<int64_t>& layers) {
  return data::layers_json(std::vector<int>(layers.begin(), layers.end()));
}

// ------------------------------------------------------------------------------------ train
struct TrainCli {
  cluster::TrainConfig cfg;
  std::string position = "input";
  std::string out;
  int threads = 0;
  bool resume = false;
};

void run_train(const TrainCli& o) {
  cluster::TrainConfig c = o.cfg;
  c.position = cluster::parse_train_position(o.position);
  set_threads(o.threads);
  make_dirs(o.out);
  const cluster::TrainResult r = cluster::train_task_model(c, o.out, o.resume);
  json clustering = r.clustering, accuracy = r.accuracy;
  const auto& t = r.timing;
  json summary = {
      {"command", "cluster train"},
      {"config", c.to_json()},
      {"steps", r.steps},
      {"resumed_from", r.resumed_from < 0 ? json(nullptr) : json(r.resumed_from)},
      {"model_dir", o.out},
      {"n_params", r.n_params},
      {"vocab_size", r.vocab_size},
      {"n_train_rows", r.n_train_rows},
      {"n_val_rows", r.n_val_rows},
      {"layers", layers_of(r.layers)},
      {"curves", {{"clustering", clustering}, {"accuracy", accuracy}}},
      {"final", {{"train_accuracy", r.train_accuracy}, {"val_accuracy", r.val_accuracy},
                 {"ari_by_layer", r.ari_by_layer}, {"nmi_by_layer", r.nmi_by_layer},
                 {"silhouette_by_layer", r.silhouette_by_layer},
                 {"train_ari_by_layer", r.train_ari_by_layer}, {"train_nmi_by_layer", r.train_nmi_by_layer}}},
      {"timing", {{"threads", at::get_num_threads()}, {"steps_run", t.steps_run}, {"total_s", t.total_s},
                  {"forward_s", t.forward_s}, {"backward_s", t.backward_s}, {"optimizer_s", t.optimizer_s},
                  {"eval_s", t.eval_s}, {"checkpoint_s", t.checkpoint_s},
                  {"steps_per_s", t.steps_run > 0 ? t.steps_run / (t.forward_s + t.backward_s + t.optimizer_s) : 0.0}}},
  };
  data::stamp_layer_convention(summary);
  summary["command_line"] =
      str("reasonscope cluster train --tasks ", c.tasks, " --distributions ", c.distributions, " --layers ", c.layers,
          " --d-model ", c.d_model, " --heads ", c.heads, " --steps ", c.steps, " --batch ", c.batch, " --lr ", c.lr,
          " --eval-every ", c.eval_every, " --eval-rows ", c.eval_rows, " --position ", o.position, " --seed ", c.seed,
          " --out ", o.out);
  data::write_jsonl(o.out + "/examples.jsonl", std::vector<json>(r.val_examples.begin(), r.val_examples.end()));
  write_cluster_train_report(r, summary, o.out + "/report.html");
  data::write_summary_json(o.out + "/summary.json", summary);
  log_info(str("cluster train: ", r.steps, " steps, val accuracy ", r.val_accuracy, ", train accuracy ",
               r.train_accuracy, ", ", t.total_s, " s -> ", o.out));
}

void add_train(CLI::App& parent) {
  auto o = std::make_shared<TrainCli>();
  CLI::App* sub = parent.add_subcommand(
      "train",
      "Train a small llama-architecture causal LM from scratch on the synthetic instruction tasks "
      "(data make instructions) and measure, every --eval-every steps on training and held-out "
      "validation instances, task accuracy and per-layer k-means ARI / NMI / silhouette against "
      "the task. Writes the final model (config.json, model.safetensors, tokenizer.json: every "
      "other command loads it), checkpoints (resume with --resume), summary.json, "
      "examples.jsonl and report.html into --out.");
  sub->footer("Example:\n  reasonscope cluster train --out runs/cluster --threads 2\n"
              "  reasonscope cluster analyze --model runs/cluster --data val.jsonl --label-field task "
              "--text-field instruction --out runs/cluster-analyze");
  auto& c = o->cfg;
  sub->add_option("--tasks", c.tasks, "Number of tasks T")->capture_default_str();
  sub->add_option("--distributions", c.distributions, "Instruction distributions M")->capture_default_str();
  sub->add_option("--layers", c.layers, "Number of transformer blocks of the model trained (a count; "
                  "every block and the embeddings are clustered)")->capture_default_str();
  sub->add_option("--d-model", c.d_model, "Residual width")->capture_default_str();
  sub->add_option("--heads", c.heads, "Attention heads")->capture_default_str();
  sub->add_option("--steps", c.steps, "Optimizer steps")->capture_default_str();
  sub->add_option("--batch", c.batch, "Sequences per step")->capture_default_str();
  sub->add_option("--lr", c.lr, "Peak AdamW learning rate (warm-up, then cosine to lr/10)")->capture_default_str();
  sub->add_option("--eval-every", c.eval_every, "Evaluate (and checkpoint) every K steps")->capture_default_str();
  sub->add_option("--eval-rows", c.eval_rows, "Evaluation instances per split")->capture_default_str();
  sub->add_option("--position", o->position, "Hidden state clustered: input (the input token), separator (the \" |\" token) or mean (over the instruction)")
      ->capture_default_str();
  sub->add_option("--seed", c.seed, "Seed of the data, the initial weights and the batches")->capture_default_str();
  sub->add_option("--threads", o->threads, "CPU threads (default: OMP_NUM_THREADS if set, else all cores)");
  sub->add_flag("--resume", o->resume, "Continue from --out/checkpoint when there is one");
  sub->add_option("--out", o->out, "Output directory (the model directory too)")->required();
  sub->callback([o] { run_train(*o); });
}

// ---------------------------------------------------------------------------------- analyze
struct AnalyzeCli {
  ModelOptions model;
  std::string data, label_field, text_field = "text", position = "last", layers = "embed,all", out;
  int64_t limit = 0;
  int64_t batch = 16;
  bool resume = false;
  ShardOptions shard;
};

struct ShardDone {};  // a shard's items are kept: analyze_clustering's k-means is skipped

void run_analyze(const AnalyzeCli& o) {
  // Read and check every row first: bad input fails before the model loads and writes nothing.
  std::vector<std::string> texts, labels;
  std::vector<json> ids;
  classify(ExitCode::kBadInput, [&] {
    data::JsonlReader reader(o.data);
    data::JsonlRow r;
    while (reader.next(r)) {
      const std::string where = str(o.data, ":", r.line);
      if (!r.value.is_object()) fail(where, ": expected a JSON object");
      for (const std::string& f : {o.text_field, o.label_field})
        if (!r.value.contains(f)) fail(where, ": field '", f, "' is missing");
      const json& text = r.value[o.text_field];
      const json& label = r.value[o.label_field];
      if (!text.is_string()) fail(where, ": field '", o.text_field, "' must be a string, found ", text.type_name());
      if (!label.is_string() && !label.is_number_integer() && !label.is_boolean())
        fail(where, ": field '", o.label_field, "' must be a string, integer or boolean, found ", label.type_name());
      texts.push_back(text.get<std::string>());
      labels.push_back(label.is_string() ? label.get<std::string>() : label.dump());
      ids.push_back(r.value.contains("id") ? r.value["id"] : json(r.line));
      if (o.limit > 0 && static_cast<int64_t>(texts.size()) >= o.limit) break;
    }
  });
  const std::string what = str(o.data, ": field '", o.label_field, "'");
  if (texts.empty()) fail(o.data, ": no rows");
  cluster::encode_labels(labels, what);  // one class / too few rows: fail before loading
  const cluster::Pool pool = cluster::parse_pool(o.position);
  LoadedModel lm = load_for_cli(o.model);
  cluster::AnalyzeOptions ao;
  ao.pool = pool;
  for (int l : parse_layers("--layers", o.layers, lm.model.config.n_layer, /*allow_embed=*/true)) ao.layers.push_back(l);
  ao.seed = o.model.seed;
  ao.batch = o.batch;
  make_dirs(o.out);
  // Hidden states in chunks of whole batches with a checkpoint (cli/checkpoint.h); hidden_states
  // batches consecutive rows, so the chunks are the same forwards as one call. The k-means that
  // follows runs to the end once started (seconds), then the outputs are written.
  const json settings = {{"command", "cluster analyze"}, {"data", file_fingerprint(o.data)},
                         {"text_field", o.text_field}, {"label_field", o.label_field}, {"position", o.position},
                         {"layers", ao.layers}, {"batch", o.batch}, {"limit", o.limit},
                         {"model", model_settings(o.model, lm.path)}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_dir(o.out)), shard.settings(settings), o.resume,
                "cluster analyze");
  ao.states = [&](const std::vector<std::vector<int64_t>>& seqs, int64_t pad) {
    const size_t chunk = 4 * static_cast<size_t>(o.batch), n_chunks = (seqs.size() + chunk - 1) / chunk;
    std::vector<std::vector<at::Tensor>> parts(ao.layers.size());
    Progress progress("cluster analyze", seqs.size());
    for (size_t c = 0; c < n_chunks; ++c) {
      if (!shard.owns(c, n_chunks)) continue;
      const size_t begin = c * chunk, end = std::min(seqs.size(), begin + chunk);
      const std::string key = std::to_string(c);
      if (!ck.find(key)) {
        ck.check_interrupt(n_chunks);
        const std::vector<std::vector<int64_t>> part(seqs.begin() + static_cast<std::ptrdiff_t>(begin),
                                                     seqs.begin() + static_cast<std::ptrdiff_t>(end));
        const auto hs = cluster::hidden_states(lm.model, part, pad, ao.pool, ao.layers, o.batch).by_layer;
        std::map<std::string, at::Tensor> t;
        for (size_t l = 0; l < hs.size(); ++l) t[std::to_string(l)] = hs[l];
        ck.add(key, {{"rows", end - begin}}, t);
      }
      const auto t = ck.tensors(key);
      for (size_t l = 0; l < parts.size(); ++l) parts[l].push_back(t.at(std::to_string(l)));
      progress.tick(end - begin);
    }
    ck.check_interrupt(n_chunks);
    progress.done();
    if (shard.finish(ck.dir(), n_chunks)) throw ShardDone{};
    std::vector<at::Tensor> out;
    for (auto& p : parts) out.push_back(at::cat(p, 0));
    return out;
  };
  const auto t0 = std::chrono::steady_clock::now();
  cluster::AnalyzeResult r;
  try {
    r = cluster::analyze_clustering(lm.model, *lm.tokenizer, texts, labels, ao, what);
  } catch (const ShardDone&) {
    return;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json by_layer = json::array();
  for (size_t i = 0; i < r.layers.size(); ++i)
    by_layer.push_back({{"layer", data::layer_json(static_cast<int>(r.layers[i]))}, {"ari", r.scores[i].ari}, {"nmi", r.scores[i].nmi},
                        {"silhouette", r.scores[i].silhouette}, {"ari_shuffled", r.shuffled[i].ari},
                        {"nmi_shuffled", r.shuffled[i].nmi}, {"silhouette_shuffled", r.shuffled[i].silhouette}});
  json summary = {{"command", "cluster analyze"}, {"model", lm.path}, {"data", o.data},
                  {"label_field", o.label_field}, {"text_field", o.text_field},
                  {"position", o.position}, {"n_rows", texts.size()}, {"n_classes", r.labels.n_classes()},
                  {"classes", r.labels.names}, {"n_tokens", r.n_tokens}, {"k", r.labels.n_classes()},
                  {"kmeans_restarts", ao.restarts}, {"seed", ao.seed},
                  {"layers", layers_of(r.layers)},
                  {"by_layer", by_layer}, {"dtype", o.model.dtype}, {"seconds", seconds}};
  data::stamp_layer_convention(summary);
  data::JsonlWriter ex(o.out + "/examples.jsonl");
  for (size_t i = 0; i < texts.size(); ++i) {
    json row = {{"id", ids[i]}, {"label", labels[i]}};
    json cl = json::array();
    for (const auto& s : r.scores) cl.push_back(s.clusters[i]);
    row["cluster_by_layer"] = cl;
    ex.write(row);
  }
  ex.commit();
  write_cluster_analyze_report(r, summary, o.out + "/report.html");
  data::write_summary_json(o.out + "/summary.json", summary);
  ck.remove();
  log_info(str("cluster analyze: ", texts.size(), " rows, ", r.labels.n_classes(), " classes, ", r.layers.size(),
               " layers -> ", o.out));
}

void add_analyze(CLI::App& parent) {
  auto o = std::make_shared<AnalyzeCli>();
  CLI::App* sub = parent.add_subcommand(
      "analyze",
      "Per-layer task clustering of any model's hidden states: k-means (k = number of distinct "
      "labels, k-means++, 10 restarts) ARI and NMI against --label-field, the silhouette of the "
      "label groups, and the same scores against shuffled labels (chance baseline).");
  sub->footer("Example:\n  reasonscope data make instructions --n 800 --seed 1 --out instr.jsonl\n"
              "  reasonscope cluster analyze --data instr.jsonl --label-field task --text-field instruction "
              "--out runs/analyze --threads 1");
  add_model_options(*sub, o->model);
  sub->add_option("--data", o->data, "JSONL file, one object per line")->required();
  sub->add_option("--label-field", o->label_field, "Field holding the class label (string, integer or boolean)")->required();
  sub->add_option("--text-field", o->text_field, "Field holding the text")->capture_default_str();
  sub->add_option("--position", o->position, "Hidden state per row: last (token) or mean (over all tokens)")
      ->capture_default_str();
  sub->add_option("--layers", o->layers,
                  "Layers to cluster (README, \"Layer convention\"): embed (the token embeddings), all (every "
                  "block 0..n_layer-1), A-B or A,B,C, combined with commas")
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Rows per forward pass")->capture_default_str();
  sub->add_option("--limit", o->limit, "Use only the first N rows");
  sub->add_option("--out", o->out, "Output directory")->required();
  sub->add_flag("--resume", o->resume, "Continue an interrupted run from the rows read into --out/resume");
  add_shard_option(*sub, o->shard);
  sub->callback([o] { run_analyze(*o); });
}

Registrar cluster_command{"cluster", "Task clustering of hidden states: train a small LM and watch (train), or any model (analyze)",
              [](CLI::App& sub) {
                sub.require_subcommand(1);
                add_train(sub);
                add_analyze(sub);
              }};

}  // namespace
}  // namespace rs::cli
