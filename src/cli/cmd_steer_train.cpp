// reasonscope steer train: one control vector per layer from positive/negative pairs, written as
// a llama.cpp control-vector GGUF, with the per-layer separation (AUROC of the projections)
// in VEC.summary.json beside it.
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "cli/steer_commands.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/steering.h"
#include "model/generate.h"

namespace rs::cli {
namespace {

struct TrainOptions {
  ModelOptions model;
  std::string data, out, method = "pca-c", layers = "all", position = "last";
  double heldout = 0.2;
  int64_t batch = 8;
  int64_t limit = 0;
  bool resume = false;
  ShardOptions shard;
};

struct PairText {
  std::string where, positive, negative;
};

std::string string_field(const nlohmann::json& v, const std::string& where, const char* name) {
  auto it = v.find(name);
  if (it == v.end()) fail(where, ": field '", name, "' is missing");
  if (!it->is_string()) fail(where, ": field '", name, "' must be a string, found ", it->type_name());
  return it->get<std::string>();
}

// Rows are {positive, negative} or {question, answer, wrong_answer} (positive = question + " " +
// answer, as `data make pairs` writes them).
std::vector<PairText> read_pairs(const std::string& path, int64_t limit) {
  std::vector<PairText> out;
  data::JsonlReader reader(path);
  data::JsonlRow r;
  while (reader.next(r)) {
    const std::string where = str(path, ":", r.line);
    if (!r.value.is_object()) fail(where, ": expected a JSON object");
    PairText p{where, "", ""};
    if (r.value.contains("positive") || r.value.contains("negative")) {
      p.positive = string_field(r.value, where, "positive");
      p.negative = string_field(r.value, where, "negative");
      if (p.positive.empty()) fail(where, ": field 'positive' is empty");
      if (p.negative.empty()) fail(where, ": field 'negative' is empty");
    } else if (r.value.contains("question")) {
      const std::string q = string_field(r.value, where, "question");
      const std::string a = string_field(r.value, where, "answer");
      const std::string w = string_field(r.value, where, "wrong_answer");
      if (a.empty()) fail(where, ": field 'answer' is empty");
      if (w.empty()) fail(where, ": field 'wrong_answer' is empty");
      p.positive = q + " " + a;
      p.negative = q + " " + w;
    } else {
      fail(where, ": expected fields {positive, negative} or {question, answer, wrong_answer}");
    }
    out.push_back(std::move(p));
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
  }
  if (out.size() < 2) fail(path, ": need at least 2 pairs, found ", out.size());
  return out;
}

// "--method r,r-c" with "--out v-{method}.gguf": one file per method from one reading.
std::vector<std::string> split_methods(const std::string& s) {
  std::vector<std::string> out = split_commas(s);
  for (const std::string& m : out) steer::parse_vector_method(m);
  return out;
}

std::string out_for(const std::string& out, const std::string& method) {
  const size_t at = out.find("{method}");
  return at == std::string::npos ? out : out.substr(0, at) + method + out.substr(at + 8);
}

void run_train(const TrainOptions& o) {
  const std::vector<std::string> methods = split_methods(o.method);
  const bool sharded = !o.shard.spec.empty();  // --out is then a shard folder; merge checks the file name
  if (!sharded && methods.size() > 1 && o.out.find("{method}") == std::string::npos)
    fail("--out: with several methods put {method} in the path (e.g. vec-{method}.gguf), got '", o.out, "'");
  const steer::ReadPosition where = steer::parse_read_position(o.position);
  if (!sharded && (o.out.size() < 6 || o.out.compare(o.out.size() - 5, 5, ".gguf") != 0))
    fail("--out: expected a path ending in .gguf, got '", o.out, "'");
  const std::vector<PairText> pairs =  // before the model loads
      classify(ExitCode::kBadInput, [&] { return read_pairs(o.data, o.limit); });
  LoadedModel lm = load_for_cli(o.model);
  const ModelConfig& cfg = lm.model.config;
  const std::vector<int64_t> layers = parse_steer_layers("--layers", o.layers, cfg.n_layer);

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int64_t>> pos_ids, neg_ids;
  for (const PairText& p : pairs) {
    pos_ids.push_back(encode_prompt(*lm.tokenizer, p.positive, false));
    neg_ids.push_back(encode_prompt(*lm.tokenizer, p.negative, false));
    check_prompt_fits(cfg, std::max(pos_ids.back().size(), neg_ids.back().size()), p.where);
  }
  int64_t pad = lm.tokenizer->pad_id();
  if (pad < 0) pad = std::max<int64_t>(lm.tokenizer->eos_id(), 0);
  // Read in chunks of whole batches with a checkpoint (cli/checkpoint.h): read_resid_post batches
  // consecutive prompts, so a chunk of k batches is the same forwards as in one call.
  const nlohmann::json settings = {{"command", "steer train"}, {"data", file_fingerprint(o.data)},
                                   {"layers", layers}, {"position", o.position}, {"batch", o.batch},
                                   {"limit", o.limit}, {"model", model_settings(o.model, lm.path)}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_file(o.out)), shard.settings(settings), o.resume, "steer train");
  const size_t chunk = 4 * static_cast<size_t>(o.batch), n_chunks = (pairs.size() + chunk - 1) / chunk;
  Progress progress("steer train", 2 * pairs.size());
  std::vector<at::Tensor> hp_parts, hn_parts;
  for (size_t c = 0; c < n_chunks; ++c) {
    if (!shard.owns(c, n_chunks)) continue;
    const size_t begin = c * chunk, end = std::min(pairs.size(), begin + chunk);
    const std::string key = std::to_string(c);
    if (!ck.find(key)) {
      ck.check_interrupt(n_chunks);
      auto part = [&](const std::vector<std::vector<int64_t>>& ids) {
        return std::vector<std::vector<int64_t>>(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                                 ids.begin() + static_cast<std::ptrdiff_t>(end));
      };
      const at::Tensor p = steer::read_resid_post(lm.model, part(pos_ids), layers, where, o.batch, pad);
      const at::Tensor n = steer::read_resid_post(lm.model, part(neg_ids), layers, where, o.batch, pad);
      ck.add(key, {{"pairs", end - begin}}, {{"pos", p}, {"neg", n}});
    }
    const auto t = ck.tensors(key);
    hp_parts.push_back(t.at("pos"));
    hn_parts.push_back(t.at("neg"));
    progress.tick(2 * (end - begin));
  }
  ck.check_interrupt(n_chunks);
  progress.done();
  if (shard.finish(ck.dir(), n_chunks)) return;
  const at::Tensor hp = at::cat(hp_parts, 0), hn = at::cat(hn_parts, 0);
  const double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const std::string& name : methods) {
  const auto t1 = std::chrono::steady_clock::now();
  const std::string out = out_for(o.out, name);
  const steer::VectorMethod method = steer::parse_vector_method(name);
  const steer::TrainResult fit = steer::fit_control_vectors(hp, hn, layers, method, o.heldout, o.model.seed);
  const double seconds = read_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  steer::ControlVectors cv;
  cv.model_hint = cfg.arch;
  cv.n_embd = cfg.d_model;
  for (size_t i = 0; i < layers.size(); ++i) cv.layers[layers[i]] = fit.vectors[static_cast<int64_t>(i)].contiguous();
  cv.info["method"] = name;
  cv.info["position"] = o.position;
  cv.info["n_pairs"] = std::to_string(pairs.size());
  cv.info["data"] = o.data;
  cv.info["model"] = lm.path;

  nlohmann::json per_layer = nlohmann::json::array();
  int64_t best = -1;
  double best_auc = -1;
  for (const auto& f : fit.fits) {
    per_layer.push_back({{"layer", f.layer}, {"norm", f.norm}, {"auroc_train", f.auroc_train},
                         {"auroc_heldout", std::isnan(f.auroc_heldout) ? nlohmann::json(nullptr) : nlohmann::json(f.auroc_heldout)},
                         {"pair_acc_heldout", std::isnan(f.pair_acc_heldout) ? nlohmann::json(nullptr) : nlohmann::json(f.pair_acc_heldout)},
                         {"cos_rc", f.cos_rc}});
    const double a = std::isnan(f.auroc_heldout) ? f.auroc_train : f.auroc_heldout;
    if (a > best_auc) best_auc = a, best = f.layer;
  }
  nlohmann::json summary = {
      {"command", "steer train"}, {"model", lm.path}, {"data", o.data}, {"vector", out},
      {"method", name}, {"position", o.position}, {"n_pairs", pairs.size()},
      {"n_heldout", fit.n_heldout}, {"heldout_split", "seeded shuffle (SplitMix64 Fisher-Yates)"},
      {"seed", o.model.seed}, {"heldout_rows", fit.heldout_rows},
      {"layers", per_layer}, {"best_layer", best},
      {"best_layer_auroc", best_auc}, {"read_seconds", read_seconds}, {"seconds", seconds},
      {"dtype", o.model.dtype}};
  data::stamp_layer_convention(summary);
  steer::write_control_vectors(out, cv);
  data::write_summary_json(train_summary_path(out), summary);
  log_info(str("wrote ", layers.size(), " ", name, " vectors from ", pairs.size(), " pairs to ", out,
               "; best separating layer ", best, " (AUROC ", best_auc, ") in ", seconds, " s"));
  }
  ck.remove();
}

}  // namespace

void setup_steer_train(CLI::App& steer) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = steer.add_subcommand("train", "Control vectors from positive/negative pairs -> VEC.gguf");
  add_model_options(*sub, o->model);
  sub->add_option("--data", o->data, "JSONL pairs: {positive, negative} or {question, answer, wrong_answer}")->required();
  sub->add_option("--method", o->method,
                  "r, r-c, pca-c, pca-diff or pca-center; a comma list writes one file per method "
                  "(put {method} in --out)")
      ->capture_default_str();
  sub->add_option("--layers", o->layers, kSteerLayersHelp)->capture_default_str();
  sub->add_option("--position", o->position, "last (last real token) or mean (over real tokens)")
      ->check(CLI::IsMember({"last", "mean"}))
      ->capture_default_str();
  sub->add_option("--heldout", o->heldout,
                  "Fraction of pairs held out for the separation AUROC, chosen by a shuffle seeded "
                  "with --seed (the same --seed gives the same split)")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "Prompts per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--limit", o->limit, "Only the first N pairs");
  sub->add_option("--out,-o", o->out, "Output control vector (.gguf, llama.cpp layout)")->required();
  sub->add_flag("--resume", o->resume, "Continue an interrupted run from the batches read into OUT.resume/");
  add_shard_option(*sub, o->shard);
  sub->footer(
      "Writes VEC.gguf (direction.L for each layer L) and VEC.summary.json: per layer norm,\n"
      "auroc_train, auroc_heldout, pair_acc_heldout, cos_rc; best_layer; seed and heldout_rows\n"
      "(0-based pair indices, after --limit) of the seeded held-out split.\n"
      "Example: reasonscope data make babi15 --n 500 --seed 1 --out b.jsonl\n"
      "         reasonscope data make pairs --from b.jsonl --seed 1 --out pairs.jsonl\n"
      "         reasonscope steer train --data pairs.jsonl --method pca-c --out babi.gguf");
  sub->callback([o] { run_train(*o); });
}

}  // namespace rs::cli
