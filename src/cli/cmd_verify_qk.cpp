// reasonscope verify qk: find the attention heads whose query-key alignment picks the logically
// right answer (METHODS.md section 2), or apply saved heads (--heads) to new data.
// Thin: options -> rows -> prompts -> rs::qk::scan / select_heads / evaluate -> outputs in --out:
// summary.json, examples.jsonl, heads.json (selection), head_scores.safetensors, report.html.
//
// Registered as "verify-qk", a placeholder that attaches `qk` under the `verify` command
// (creating it when no other analysis has), as `data check` does under `data`.
#include <chrono>
#include <algorithm>
#include <memory>
#include <numeric>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "cli/verify_qk_report.h"
#include "core/atomic_file.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "io/safetensors.h"
#include "methods/qk/qk_data.h"
#include "methods/qk/qk_eval.h"
#include "methods/qk/qk_judge.h"
#include "methods/qk/qk_question.h"
#include "methods/qk/qk_runner.h"
#include "model/generate.h"

namespace rs::cli {
namespace {

struct QkOptions {
  ModelOptions model;
  std::string data, format = "prontoqa", template_text, rope, heads, out;
  int64_t calib = 200, ensemble = 5, batch_size = 8, limit = 0;
  int bootstrap = 9999;
  bool resume = false;
  ShardOptions shard;
};

void write_head_scores(const std::string& path, const qk::JudgeScores& js) {
  // [N, 2, L, H, O]: raw scores per example, order (given, reversed), layer, head, content
  const at::Tensor t = at::stack({js.heads[0], js.heads[1]}, 1).to(at::kFloat).contiguous();
  SafetensorsWriter w;
  w.set_metadata("layout", "[example, order (0 given, 1 reversed), layer, head, option in content order]");
  w.add("scores", StDtype::F32, t.sizes().vec(), t.data_ptr<float>());
  w.write(path);
}

void run_qk(const QkOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const qk::Format format = qk::parse_format(o.format);
  const bool apply = !o.heads.empty();
  if (!o.rope.empty() && o.rope != "pre" && o.rope != "post") fail("--rope: expected pre or post, got '", o.rope, "'");

  // Saved heads first: their template and RoPE setting are the judge's, unless overridden.
  qk::SavedHeads saved;
  if (apply) {
    saved = classify(ExitCode::kBadInput, [&] { return qk::read_heads_file(o.heads); });
  }
  std::string tmpl = o.template_text.empty() ? (apply ? saved.template_text : qk::kDefaultTemplate)
                                             : qk::unescape_template(o.template_text);
  qk::check_template(tmpl);
  const std::string rope = !o.rope.empty() ? o.rope : apply ? saved.rope : "pre";
  if (apply && tmpl != saved.template_text) log_warn("--template differs from the template the heads were selected with");
  if (apply && rope != saved.rope) log_warn("--rope differs from the setting the heads were selected with");

  // Every row checked before the model loads: bad input fails fast and writes nothing.
  std::vector<qk::Example> examples;
  classify(ExitCode::kBadInput, [&] {
    data::JsonlReader reader(o.data);
    data::JsonlRow r;
    while (reader.next(r)) {
      const std::string where = str(o.data, ":", r.line);
      qk::Example e = qk::parse_example(r.value, format, where, /*require_label=*/!apply);
      e.line = r.line;
      if (e.id.empty()) e.id = "line-" + std::to_string(r.line);
      if (!examples.empty() && e.options.size() != examples[0].options.size())
        fail(where, ": ", e.options.size(), " options, but line ", examples[0].line, " has ", examples[0].options.size(),
             "; one run needs one option count");
      examples.push_back(std::move(e));
      if (o.limit > 0 && static_cast<int64_t>(examples.size()) >= o.limit) break;
    }
  });
  if (examples.empty()) fail_as(ExitCode::kBadInput, o.data, ": no rows");
  const int64_t N = static_cast<int64_t>(examples.size());
  const int64_t n_options = static_cast<int64_t>(examples[0].options.size());
  std::vector<int64_t> calib_rows;
  if (!apply) calib_rows = qk::calibration_rows(examples, o.calib, o.model.seed);
  if (o.batch_size < 1) fail("--batch-size: expected >= 1, got ", o.batch_size);

  LoadedModel lm = load_for_cli(o.model);
  const ModelConfig& cfg = lm.model.config;
  if (apply) qk::check_fits(saved, cfg, n_options, o.heads);
  if (!apply && (o.ensemble < 1 || o.ensemble > cfg.n_layer * cfg.n_head))
    fail("--ensemble: expected 1..", cfg.n_layer * cfg.n_head, " heads, got ", o.ensemble);

  // Prompts 0..N-1: options as listed; N..2N-1: reversed.
  std::vector<qk::Prompt> prompts;
  for (int order = 0; order < 2; ++order)
    for (const qk::Example& e : examples) {
      const std::string where = str(o.data, ":", e.line);
      prompts.push_back(qk::build_prompt(*lm.tokenizer, tmpl, e, qk::display_order(n_options, order == 1), where));
      const qk::Prompt& p = prompts.back();
      check_prompt_fits(cfg, p.ids.size(), where, static_cast<int64_t>(p.fed_tokens() - p.ids.size()));
    }

  qk::ScanOptions so;
  so.post_rope = rope == "post";
  so.batch_size = o.batch_size;
  so.pad_id = qk::scan_pad_id(*lm.tokenizer);
  Progress progress("verify qk", prompts.size());
  // The scan runs batch by batch with a checkpoint (cli/checkpoint.h). The batches are the ones
  // qk::scan forms (longest first, stable), so each is the same padded forward as in one call
  // over every prompt, and a resumed run gets the same bits.
  const nlohmann::json settings = {
      {"command", "verify qk"}, {"data", file_fingerprint(o.data)}, {"format", o.format}, {"template", tmpl},
      {"rope", rope}, {"batch_size", o.batch_size}, {"limit", o.limit}, {"model", model_settings(o.model, lm.path)},
      // rows before seq_lp joined them lack it: refused on --resume rather than read as torn
      {"row_fields", {"first_token_lp", "seq_lp", "scores"}}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_dir(o.out)), shard.settings(settings), o.resume, "verify qk");
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return prompts[a].ids.size() > prompts[b].ids.size(); });
  const size_t B = static_cast<size_t>(o.batch_size);
  const size_t n_batches = (order.size() + B - 1) / B;
  const auto t_scan = std::chrono::steady_clock::now();
  qk::ScanResult res;
  for (size_t b = 0; b < n_batches; ++b) {
    if (!shard.owns(b, n_batches)) continue;
    const std::vector<size_t> rows(order.begin() + static_cast<std::ptrdiff_t>(b * B),
                                   order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), (b + 1) * B)));
    const std::string key = std::to_string(b);
    if (!ck.find(key)) {
      ck.check_interrupt(n_batches);
      std::vector<qk::Prompt> part;
      for (size_t r : rows) part.push_back(prompts[r]);
      qk::ScanOptions sb = so;
      sb.on_batch = nullptr;
      const qk::ScanResult pr = qk::scan(lm.model, part, sb);
      // The f64 log-probs as JSON numbers (exact, nan/inf as strings); the f32 scores as a tensor.
      auto rows_json = [](const at::Tensor& t) {
        const at::Tensor c = t.to(at::kDouble).contiguous();
        nlohmann::json out = nlohmann::json::array();
        for (int64_t i = 0; i < c.size(0); ++i) {
          nlohmann::json r = nlohmann::json::array();
          for (int64_t j = 0; j < c.size(1); ++j) r.push_back(double_to_json(c[i][j].item<double>()));
          out.push_back(std::move(r));
        }
        return out;
      };
      ck.add(key, {{"first_token_lp", rows_json(pr.first_token_lp)}, {"seq_lp", rows_json(pr.seq_lp)}},
             {{"scores", pr.scores}});
    }
    const at::Tensor sc = ck.tensors(key).at("scores");
    const nlohmann::json& row = *ck.find(key);
    const nlohmann::json& lps = row.at("first_token_lp");
    const nlohmann::json& seqs = row.at("seq_lp");
    if (!res.scores.defined()) {
      auto shape = sc.sizes().vec();
      shape[0] = static_cast<int64_t>(prompts.size());
      res.scores = at::zeros(shape, at::kFloat);
      res.first_token_lp = at::zeros({static_cast<int64_t>(prompts.size()), static_cast<int64_t>(lps[0].size())}, at::kDouble);
      res.seq_lp = at::zeros_like(res.first_token_lp);
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto r = static_cast<int64_t>(rows[i]);
      res.scores[r].copy_(sc[static_cast<int64_t>(i)]);
      for (size_t j = 0; j < lps[i].size(); ++j) {
        res.first_token_lp[r][static_cast<int64_t>(j)] = double_from_json(lps[i][j]);
        res.seq_lp[r][static_cast<int64_t>(j)] = double_from_json(seqs[i][j]);
      }
    }
    progress.tick(rows.size());
  }
  ck.check_interrupt(n_batches);
  progress.done();
  if (shard.finish(ck.dir(), n_batches)) return;
  const double scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scan).count();
  const qk::JudgeScores js = qk::judge_scores(res, res.seq_lp, prompts);

  if (!apply) {
    std::vector<int64_t> ans;
    for (const qk::Example& e : examples) ans.push_back(e.answer);
    saved = qk::select_heads(js, at::tensor(ans, at::kLong), calib_rows, o.ensemble, cfg.n_head_kv);
    saved.model = lm.path;
    saved.format = qk::format_name(format);
    saved.template_text = tmpl;
    saved.rope = rope;
  }
  qk::EvalOptions eo;
  eo.seed = o.model.seed;
  eo.n_resamples = o.bootstrap;
  qk::Evaluation ev = qk::evaluate(js, examples, saved, calib_rows, eo);

  nlohmann::json summary = {{"command", "verify qk"}, {"model", lm.path}, {"data", o.data},
                            {"format", qk::format_name(format)}, {"template", tmpl}, {"rope", rope},
                            {"heads_file", apply ? nlohmann::json(o.heads) : nlohmann::json(nullptr)},
                            {"ensemble_k", saved.ensemble.size()}, {"n_options", n_options},
                            {"seed", o.model.seed}, {"batch_size", o.batch_size}, {"dtype", o.model.dtype}};
  summary.update(ev.summary);
  data::stamp_layer_convention(summary);
  summary["scan_seconds"] = scan_seconds;
  summary["prompts_per_second"] = static_cast<double>(prompts.size()) / scan_seconds;
  summary["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The last point to stop with nothing written: every output below is committed whole.
  ck.check_interrupt(n_batches);
  make_dirs(o.out);
  if (!apply) {
    nlohmann::json heads = qk::to_json(saved);
    data::stamp_layer_convention(heads);
    write_file_atomic(o.out + "/heads.json", heads.dump(2) + "\n");
  }
  write_head_scores(o.out + "/head_scores.safetensors", js);
  data::write_jsonl(o.out + "/examples.jsonl", ev.examples);
  build_qk_report(ev, summary).write(o.out + "/report.html");
  data::write_summary_json(o.out + "/summary.json", summary);
  ck.remove();

  if (summary["top1_test_accuracy"].is_number())
    log_info(str("verify qk: ", N, " questions; best head L", saved.top1.layer, ".H", saved.top1.head, " ",
                 summary["top1_test_accuracy"].get<double>(), ", ensemble ", summary["ensemble_test_accuracy"].get<double>(),
                 ", model first-token ", summary["baseline_first_token_accuracy"].get<double>(),
                 summary.value("first_token_tied_rows", int64_t{0}) > 0
                     ? str(" (tied on ", summary["first_token_tied_rows"].get<int64_t>(),
                           " test rows whose options share their first token), option log-likelihood ",
                           summary["baseline_sequence_accuracy"].get<double>())
                     : std::string(),
                 " -> ", o.out));
  else
    log_info(str("verify qk: ", N, " questions scored with saved heads -> ", o.out));
}

void add_qk(CLI::App& verify) {
  auto o = std::make_shared<QkOptions>();
  CLI::App* sub = verify.add_subcommand(
      "qk",
      "QK-score (Tulchinskii et al., arXiv 2502.17017): for every (layer, head), the query at the prompt's last "
      "token against the key at each option's last token; heads that pick the right option under both option "
      "orders on a calibration split become a zero-training judge, compared with the model's own answer.");
  sub->footer(
      "Examples:\n"
      "  reasonscope verify qk --data ../shared/benchmarks/prontoqa/dev.jsonl --threads 1 --out qk\n"
      "  reasonscope verify qk --data new.jsonl --heads qk/heads.json --out qk-new\n"
      "  reasonscope verify qk --format mcq --data mcq.jsonl --template '{context}\\n{question}\\n{options}Answer:' --out q\n"
      "Outputs in --out: summary.json, examples.jsonl, heads.json (without --heads), head_scores.safetensors, report.html.");
  add_model_options(*sub, o->model);
  sub->add_option("--data", o->data, "JSONL file of questions")->required();
  sub->add_option("--format", o->format, "prontoqa ({context, query, answer True/False}) or mcq ({context, question, options[], answer_index})")
      ->check(CLI::IsMember({"prontoqa", "mcq"}))
      ->capture_default_str();
  sub->add_option("--template", o->template_text,
                  "Prompt template with {context}, {question}, {options} (one line per option); \\n = newline "
                  "(default \"{context}\\n{question}\\n{options}Answer:\", or the saved heads' template)");
  sub->add_option("--calib", o->calib, "Calibration rows for head selection (stratified by hops and answer)")->capture_default_str();
  sub->add_option("--rope", o->rope, "Score queries and keys before (pre, default) or after (post) RoPE");
  sub->add_option("--ensemble", o->ensemble, "Heads in the top-k ensemble")->capture_default_str();
  sub->add_option("--heads", o->heads, "heads.json from an earlier run: apply those heads, no selection (labels optional)");
  sub->add_option("--batch-size", o->batch_size, "Prompts per forward pass")->capture_default_str();
  sub->add_option("--limit", o->limit, "Use only the first N rows");
  sub->add_option("--bootstrap", o->bootstrap, "Bootstrap resamples for the 95% intervals")->capture_default_str();
  sub->add_option("--out,-o", o->out, "Output directory")->required();
  sub->add_flag("--resume", o->resume, "Continue an interrupted run from the batches finished in --out/resume");
  add_shard_option(*sub, o->shard);
  sub->callback([o] { run_qk(*o); });
}

Registrar verify_qk_command{"verify-qk", "", [](CLI::App& self) {
  attach_under(self, "verify", "Verify reasoning from the model's internals (verify spectral, verify qk)",
               "qk", add_qk);
}};

}  // namespace
}  // namespace rs::cli
