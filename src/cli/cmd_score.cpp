// reasonscope score: log-probabilities and perplexity of texts in a JSONL file.
//   without --prefix-field: each row's text is scored as a whole (perplexity of the text; every
//     token after the first is predicted, windowed when longer than --window)
//   with --prefix-field P: the text is a continuation of the row's P text; only its tokens
//     are scored (log p(continuation | prefix))
// Outputs in --out DIR (atomically): summary.json and examples.jsonl (one row per input line).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "core/atomic_file.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "model/generate.h"
#include "model/score.h"
#include "cli/steer_options.h"

namespace rs::cli {
namespace {

struct ScoreOptions {
  ModelOptions model;
  std::string data;
  std::string field;
  std::string prefix_field;
  std::string out;
  int64_t window = 0;
  int64_t stride = 0;
  bool token_logprobs = false;
  int64_t limit = 0;
  bool resume = false;
  ShardOptions shard;
  SteerCliOptions steer;
};

std::string text_field(const data::JsonlRow& r, const std::string& file, const std::string& field) {
  const std::string where = str(file, ":", r.line);
  if (!r.value.is_object()) fail(where, ": expected a JSON object");
  auto it = r.value.find(field);
  if (it == r.value.end()) fail(where, ": field '", field, "' is missing");
  if (!it->is_string()) fail(where, ": field '", field, "' must be a string, found ", it->type_name());
  return it->get<std::string>();
}

void run_score(const ScoreOptions& o) {
  // Read and check every row before loading the model: bad input fails fast and writes nothing.
  std::vector<data::JsonlRow> rows;
  classify(ExitCode::kBadInput, [&] {
    data::JsonlReader reader(o.data);
    data::JsonlRow r;
    while (reader.next(r)) {
      text_field(r, o.data, o.field);
      if (!o.prefix_field.empty()) text_field(r, o.data, o.prefix_field);
      rows.push_back(std::move(r));
      if (o.limit > 0 && static_cast<int64_t>(rows.size()) >= o.limit) break;
    }
  });
  if (rows.empty()) fail_as(ExitCode::kBadInput, o.data, ": no rows to score");
  LoadedModel lm = load_for_cli(o.model);
  const tok::Tokenizer& t = *lm.tokenizer;
  Hooks steering(lm.model.config);
  Hooks* hooks = apply_steer_options(o.steer, lm.model, steering) ? &steering : nullptr;
  make_dirs(o.out);
  // Rows finished before an interrupt (cli/checkpoint.h), keyed by input line.
  const nlohmann::json settings = {
      {"command", "score"}, {"data", file_fingerprint(o.data)}, {"field", o.field}, {"prefix_field", o.prefix_field},
      {"window", o.window}, {"stride", o.stride}, {"token_logprobs", o.token_logprobs},
      {"model", model_settings(o.model, lm.path)}, {"steer", files_fingerprint(o.steer.files)},
      {"steer_layer", o.steer.layers}, {"steer_alpha", o.steer.alphas}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_dir(o.out)), shard.settings(settings), o.resume, "score");

  const auto t0 = std::chrono::steady_clock::now();
  data::JsonlWriter examples(o.out + "/examples.jsonl");
  double total_logprob = 0.0, sum_row_ppl = 0.0;
  int64_t total_tokens = 0;
  std::vector<double> row_ppl;
  Progress progress("score", rows.size());
  // One row's result, from the row alone (a resumed run reads it back instead).
  auto score_row = [&](const data::JsonlRow& r) {
    const std::string where = str(o.data, ":", r.line);
    const std::string text = text_field(r, o.data, o.field);
    nlohmann::json ex;
    ex["line"] = r.line;
    if (r.value.contains("id")) ex["id"] = r.value["id"];
    std::vector<double> lps;
    if (o.prefix_field.empty()) {
      std::vector<int32_t> ids32 = t.encode(text, true, true);
      std::vector<int64_t> ids(ids32.begin(), ids32.end());
      if (ids.size() < 2)
        fail_as(ExitCode::kBadInput, where, ": field '", o.field, "' has ", ids.size(),
             " token(s); perplexity needs at least 2 (the first is only context)");
      PerplexityOptions po;
      po.window = o.window;
      po.stride = o.stride;
      po.hooks = hooks;
      PerplexityResult p = perplexity(lm.model, ids, po);
      lps = p.token_logprobs;
      ex["n_tokens"] = ids.size();
    } else {
      const std::string prefix = text_field(r, o.data, o.prefix_field);
      std::vector<int32_t> p32 = t.encode(prefix, true, true), c32 = t.encode(text, false, true);
      std::vector<int64_t> p(p32.begin(), p32.end()), c(c32.begin(), c32.end());
      if (p.empty()) fail_as(ExitCode::kBadInput, where, ": field '", o.prefix_field, "' gives no tokens; the continuation needs a prefix");
      if (c.empty()) fail_as(ExitCode::kBadInput, where, ": field '", o.field, "' is empty; nothing to score");
      check_prompt_fits(lm.model.config, p.size() + c.size(), where);
      ContinuationScore s = score_continuation(lm.model, p, c, hooks);
      lps = s.token_logprobs;
      ex["n_prefix_tokens"] = p.size();
      ex["n_tokens"] = c.size();
      ex["n_greedy_correct"] = s.n_greedy_correct;
    }
    double sum = 0.0;
    for (double v : lps) sum += v;
    const int64_t n = static_cast<int64_t>(lps.size());
    ex["n_scored"] = n;
    ex["sum_logprob"] = sum;
    ex["mean_logprob"] = sum / n;
    ex["perplexity"] = std::exp(-sum / n);
    if (o.token_logprobs) ex["token_logprobs"] = lps;
    return ex;
  };
  for (const auto& r : rows) {
    if (!shard.owns(&r - rows.data(), rows.size())) continue;
    const std::string key = std::to_string(r.line);
    const nlohmann::json* prev = ck.find(key);
    if (!prev) ck.check_interrupt(rows.size());
    const nlohmann::json& ex = prev ? *prev : ck.add(key, score_row(r));
    examples.write(ex);
    const double sum = ex["sum_logprob"].get<double>();
    const int64_t n = ex["n_scored"].get<int64_t>();
    total_logprob += sum;
    total_tokens += n;
    row_ppl.push_back(std::exp(-sum / n));
    sum_row_ppl += row_ppl.back();
    progress.tick();
  }
  ck.check_interrupt(rows.size());
  progress.done();
  if (shard.finish(ck.dir(), rows.size())) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> sorted = row_ppl;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  nlohmann::json summary = {
      {"command", "score"},
      {"model", lm.path},
      {"data", o.data},
      {"field", o.field},
      {"prefix_field", o.prefix_field.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.prefix_field)},
      {"mode", o.prefix_field.empty() ? "perplexity" : "continuation"},
      {"n_rows", rows.size()},
      {"n_scored_tokens", total_tokens},
      {"sum_logprob", total_logprob},
      {"mean_logprob", total_logprob / total_tokens},
      {"perplexity", std::exp(-total_logprob / total_tokens)},
      {"mean_row_perplexity", sum_row_ppl / n},
      {"median_row_perplexity", median},
      {"dtype", o.model.dtype},
      {"seconds", seconds},
  };
  examples.commit();
  data::write_summary_json(o.out + "/summary.json", summary);
  ck.remove();
  log_info(str("scored ", rows.size(), " rows, ", total_tokens, " tokens: perplexity ",
               summary["perplexity"].get<double>(), " -> ", o.out));
}

Registrar score_command{
    "score", "Log-probabilities and perplexity of the texts in a JSONL file",
    [](CLI::App& sub) {
      auto o = std::make_shared<ScoreOptions>();
      add_model_options(sub, o->model);
      sub.add_option("--data", o->data, "JSONL file, one object per line")->required();
      sub.add_option("--field", o->field, "Field holding the text to score")->required();
      sub.add_option("--prefix-field", o->prefix_field,
                     "Score the text as a continuation of this field's text (only its tokens count)");
      sub.add_option("--out,-o", o->out, "Output directory (summary.json, examples.jsonl)")->required();
      sub.add_option("--window", o->window, "Longest context per forward for long texts (default: "
                                            "the model's context, at most 2048)");
      sub.add_option("--stride", o->stride, "Window step for long texts (default: window / 2)");
      sub.add_flag("--token-logprobs", o->token_logprobs, "Also write every token's log-probability");
      sub.add_option("--limit", o->limit, "Only the first N rows");
      sub.add_flag("--resume", o->resume, "Continue an interrupted run from the rows finished in --out/resume");
      add_steer_options(sub, o->steer);
      add_shard_option(sub, o->shard);
      sub.footer(
          "summary.json: n_rows, n_scored_tokens, sum_logprob, mean_logprob, perplexity (over all\n"
          "scored tokens), mean_row_perplexity, median_row_perplexity, seconds.\n"
          "examples.jsonl: line, id (if the row has one), n_tokens, n_scored, sum_logprob,\n"
          "mean_logprob, perplexity[, n_prefix_tokens, n_greedy_correct][, token_logprobs].\n"
          "Log-probabilities are natural logs.\n"
          "Example: reasonscope score --data texts.jsonl --field text --out runs/score");
      sub.callback([o] { run_score(*o); });
    }};

}  // namespace
}  // namespace rs::cli
