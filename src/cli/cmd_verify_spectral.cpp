// reasonscope verify spectral: is a reasoning trace valid, judged from the spectral signature of
// the model's attention graph (METHODS.md section 1; Noël, arXiv 2601.00791, with our fixes).
// Thin: read and check the rows, run methods/spectral on each text (checkpointing every row in
// --out/resume so an interrupted run resumes with --resume, cli/checkpoint.h), then either select + nested-CV a detector (labelled
// data) or apply a frozen one (--calibration), and write summary.json, examples.jsonl,
// report.html (and the calibration file).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "cli/verify_spectral_report.h"
#include "core/atomic_file.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "methods/spectral/analysis.h"
#include "methods/spectral/runner.h"

namespace rs::cli {
namespace {

using nlohmann::json;
namespace sp = rs::spectral;

struct VerifyOptions {
  ModelOptions model;
  std::string data, text_field = "text", label_field = "label", id_field = "id";
  std::string group_field = "corruption";
  int64_t max_tokens = 512;
  std::string laplacian = "rw", layers = "all", maths_dtype = "f32";
  double hfer_band = 0.1;
  int folds = 5;
  bool per_head = false, resume = false;
  ShardOptions shard;
  std::string save_calibration, calibration, out;
  int64_t limit = 0;
  bool maths_dtype_given = false, laplacian_given = false, max_tokens_given = false, band_given = false, layers_given = false;
};

struct SpectralRow {
  uint64_t line = 0;
  std::string id, text, group;
  int label = -1;  // -1: none
};

std::vector<SpectralRow> read_rows(const VerifyOptions& o) {
  std::vector<SpectralRow> rows;
  std::set<std::string> ids;
  size_t with_label = 0;
  data::JsonlReader reader(o.data);
  data::JsonlRow r;
  while (reader.next(r)) {
    const std::string where = str(o.data, ":", r.line);
    if (!r.value.is_object()) fail(where, ": expected a JSON object");
    SpectralRow row;
    row.line = r.line;
    auto t = r.value.find(o.text_field);
    if (t == r.value.end()) fail(where, ": field '", o.text_field, "' is missing");
    if (!t->is_string()) fail(where, ": field '", o.text_field, "': expected a string, found ", t->type_name());
    row.text = t->get<std::string>();
    if (row.text.find_first_not_of(" \t\r\n") == std::string::npos)
      fail(where, ": field '", o.text_field, "' is empty; there is no reasoning trace to verify");
    auto l = r.value.find(o.label_field);
    if (l != r.value.end()) {
      const bool ok = (l->is_number_integer() || l->is_number_unsigned()) && (*l == 0 || *l == 1);
      if (l->is_boolean()) row.label = l->get<bool>() ? 1 : 0;
      else if (ok) row.label = l->get<int>();
      else fail(where, ": field '", o.label_field, "': expected 0 (invalid) or 1 (valid), found ", l->dump());
      ++with_label;
    } else if (with_label > 0) {
      fail(where, ": field '", o.label_field, "' is missing (earlier rows have labels)");
    }
    auto id = r.value.find(o.id_field);
    if (id != r.value.end() && id->is_string()) row.id = id->get<std::string>();
    else if (id != r.value.end() && id->is_number_integer()) row.id = std::to_string(id->get<int64_t>());
    else row.id = "line" + std::to_string(r.line);
    if (!ids.insert(row.id).second) fail(where, ": field '", o.id_field, "': id '", row.id, "' appears twice");
    auto g = r.value.find(o.group_field);
    if (g != r.value.end() && g->is_string()) row.group = g->get<std::string>();
    rows.push_back(std::move(row));
    if (o.limit > 0 && static_cast<int64_t>(rows.size()) >= o.limit) break;
  }
  if (rows.empty()) fail(o.data, ": no rows");
  if (with_label > 0 && with_label < rows.size())
    fail(o.data, ":", rows[0].line, ": field '", o.label_field, "' is missing (later rows have labels)");
  return rows;
}

json model_identity(const LoadedModel& lm) {
  const ModelConfig& c = lm.model.config;
  std::string file = lm.path.substr(lm.path.find_last_of('/') + 1);
  return {{"file", file}, {"arch", c.arch}, {"n_layer", c.n_layer}, {"d_model", c.d_model},
          {"n_head", c.n_head}, {"n_vocab", c.n_vocab}};
}

json to_json_matrix(const at::Tensor& t) {  // [A, B] double -> [[...]]
  const at::Tensor c = t.to(at::kDouble).contiguous();
  json out = json::array();
  for (int64_t i = 0; i < c.size(0); ++i) {
    json r = json::array();
    for (int64_t j = 0; j < c.size(1); ++j) r.push_back(c[i][j].item<double>());
    out.push_back(std::move(r));
  }
  return out;
}

void run_verify(VerifyOptions o) {
  // ---- options and inputs, all checked before the model loads (bad input writes nothing)
  if (!o.save_calibration.empty() && !o.calibration.empty())
    fail("--save-calibration and --calibration exclude each other (calibrate on one file, apply to another)");
  if (o.folds < 2) fail("--folds: expected at least 2, got ", o.folds);
  if (o.max_tokens < 2) fail("--max-tokens: expected at least 2, got ", o.max_tokens);
  if (!(o.hfer_band > 0 && o.hfer_band <= 1)) fail("--hfer-band: expected a fraction in (0, 1], got ", o.hfer_band);
  sp::parse_laplacian(o.laplacian);
  sp::Detector frozen;
  const bool apply = !o.calibration.empty();
  if (apply) {
    frozen = classify(ExitCode::kBadInput, [&] {
      json j;
      try {
        j = json::parse(read_file(o.calibration));
      } catch (const json::exception& e) {
        fail(o.calibration, ": not valid JSON (", e.what(), ")");
      }
      // Unstamped files (version 1) already named the layer by block index: read as they are.
      data::layer_convention_version(j, o.calibration);
      return sp::detector_from_json(j, o.calibration);
    });
    if (o.laplacian_given && o.laplacian != frozen.laplacian)
      fail("--laplacian ", o.laplacian, " disagrees with ", o.calibration, " (calibrated with ", frozen.laplacian, ")");
    if (o.max_tokens_given && o.max_tokens != frozen.max_tokens)
      fail("--max-tokens ", o.max_tokens, " disagrees with ", o.calibration, " (calibrated with ", frozen.max_tokens, ")");
    if (o.band_given && o.hfer_band != frozen.hfer_band)
      fail("--hfer-band ", o.hfer_band, " disagrees with ", o.calibration, " (calibrated with ", frozen.hfer_band, ")");
    if (o.maths_dtype_given && o.maths_dtype != frozen.maths_dtype)
      fail("--maths-dtype ", o.maths_dtype, " disagrees with ", o.calibration, " (calibrated with ", frozen.maths_dtype, ")");
    o.maths_dtype = frozen.maths_dtype;
    o.laplacian = frozen.laplacian;
    o.max_tokens = frozen.max_tokens;
    o.hfer_band = frozen.hfer_band;
  }
  const std::vector<SpectralRow> rows = classify(ExitCode::kBadInput, [&] { return read_rows(o); });
  const bool labelled = rows[0].label >= 0;
  size_t n_valid = 0;
  for (const SpectralRow& r : rows) n_valid += r.label == 1;
  const size_t n_invalid = labelled ? rows.size() - n_valid : 0;
  if (!apply) {
    if (!labelled)
      fail(o.data, ": no '", o.label_field, "' field; selecting a detector needs 0/1 labels (or pass "
           "--calibration CAL.json to apply a saved one)");
    if (n_valid == 0 || n_invalid == 0)
      fail(o.data, ": all ", rows.size(), " rows have label ", n_valid ? 1 : 0,
           "; selecting a detector needs both valid (1) and invalid (0) rows");
    if (n_valid < static_cast<size_t>(o.folds) || n_invalid < static_cast<size_t>(o.folds))
      fail(o.data, ": ", n_valid, " valid and ", n_invalid, " invalid rows; nested cross-validation with --folds ",
           o.folds, " needs at least that many of each");
  }

  LoadedModel lm = load_for_cli(o.model);
  const json identity = model_identity(lm);
  std::vector<int> layers;
  if (apply) {
    for (const char* k : {"arch", "n_layer", "d_model", "n_head", "n_vocab"})
      if (frozen.model.contains(k) && frozen.model[k] != identity[k])
        fail(o.calibration, ": calibrated on a different model (", k, " ", frozen.model[k].dump(), ", this model has ",
             identity[k].dump(), ")");
    if (frozen.model.contains("file") && frozen.model["file"] != identity["file"])
      log_warn(str("calibrated on ", frozen.model["file"].dump(), ", applying to ", identity["file"].dump()));
    if (o.layers_given) log_warn("--layers is ignored with --calibration (the detector's layer is used)");
    if (frozen.layer >= lm.model.config.n_layer)
      fail(o.calibration, ": layer ", frozen.layer, " is out of range (the model has ", lm.model.config.n_layer, ")");
    layers = {frozen.layer};
  } else {
    layers = parse_layers("--layers", o.layers, static_cast<int>(lm.model.config.n_layer));
  }

  sp::RunOptions ro;
  ro.features.laplacian = sp::parse_laplacian(o.laplacian);
  ro.features.hfer_band = o.hfer_band;
  ro.max_tokens = o.max_tokens;
  ro.layers = layers;
  ro.per_head = o.per_head;
  ro.features.dtype = o.maths_dtype == "f32" ? at::kFloat : at::kDouble;

  // ---- checkpoint (cli/checkpoint.h): one line per analysed row, keyed by id; the settings pin
  // everything a row depends on, so --resume never mixes two configurations.
  make_dirs(o.out);
  const std::string ex_path = o.out + "/examples.jsonl";
  const json run_cfg = {{"command", "verify spectral"}, {"data", file_fingerprint(o.data)},
                        {"text_field", o.text_field}, {"label_field", o.label_field}, {"id_field", o.id_field},
                        {"group_field", o.group_field}, {"model", identity},
                        // path, size, mtime, weights, threads, seed and --edit, as every other
                        // dataset command pins them: the thread count changes a product's
                        // reduction order, so rows from two thread counts would mix last bits
                        {"model_load", model_settings(o.model, lm.path)},
                        {"laplacian", o.laplacian}, {"hfer_band", o.hfer_band}, {"max_tokens", o.max_tokens},
                        {"layers", layers}, {"per_head", o.per_head}, {"dtype", o.model.dtype},
                        {"maths_dtype", o.maths_dtype}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_dir(o.out)), shard.settings(run_cfg), o.resume, "verify spectral");
  std::map<std::string, json> done;

  // ---- the runs
  const tok::Tokenizer& tk = *lm.tokenizer;
  double fwd_s = 0, maths_s = 0;
  size_t todo = 0;
  for (const SpectralRow& r : rows) todo += shard.owns(&r - rows.data(), rows.size()) && ck.find(r.id) == nullptr;
  const size_t n_resumed = rows.size() - todo;
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress("verify spectral", todo);
  for (const SpectralRow& r : rows) {
    if (!shard.owns(&r - rows.data(), rows.size())) continue;
    if (const json* prev = ck.find(r.id)) {
      done[r.id] = *prev;
      continue;
    }
    ck.check_interrupt(rows.size());
    const std::vector<int32_t> ids32 = tk.encode(r.text, true, true);
    sp::TextResult tr;
    try {
      tr = sp::analyse_tokens(lm.model, std::vector<int64_t>(ids32.begin(), ids32.end()), ro);
    } catch (const Error& e) {
      throw Error(str(o.data, ":", r.line, ": ", e.what()), e.code());
    }
    fwd_s += tr.forward_seconds;
    maths_s += tr.maths_seconds;
    json ex = {{"id", r.id}, {"line", r.line}};
    if (r.label >= 0) ex["label"] = r.label;
    if (!r.group.empty()) ex[o.group_field] = r.group;
    ex["token_count"] = tr.n_tokens;
    ex["n_tokens_raw"] = tr.n_tokens_raw;
    ex["truncated"] = tr.truncated;
    ex["mean_logprob"] = tr.mean_logprob;
    ex["layers"] = layers;
    ex["layer_features"] = to_json_matrix(tr.features);
    ex["spectrum"] = to_json_matrix(tr.spectrum);
    if (o.per_head) {
      json ph = json::array();
      for (int64_t i = 0; i < tr.per_head.size(0); ++i) ph.push_back(to_json_matrix(tr.per_head[i]));
      ex["per_head_features"] = ph;
    }
    done[r.id] = ck.add(r.id, ex);
    progress.tick();
  }
  ck.check_interrupt(rows.size());
  progress.done();
  if (shard.finish(ck.dir(), rows.size())) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // ---- gather per-row features in input order
  sp::AnalysisInput in;
  in.layers = layers;
  in.folds = o.folds;
  in.seed = o.model.seed;
  std::vector<std::vector<double>> spectra_all;  // per row, flattened [layer][quantile]
  size_t n_truncated = 0;
  for (const SpectralRow& r : rows) {
    const json& ex = done[r.id];
    std::vector<double> f;
    for (const auto& lf : ex["layer_features"])
      for (const auto& v : lf) f.push_back(v.is_number() ? v.get<double>() : NAN);
    for (double v : f)
      if (!std::isfinite(v)) fail(o.data, ":", r.line, ": a spectral feature is not finite (", ex["layer_features"].dump(), ")");
    in.features.push_back(std::move(f));
    in.token_count.push_back(ex["token_count"].get<double>());
    in.mean_logprob.push_back(ex["mean_logprob"].get<double>());
    if (r.label >= 0) in.labels.push_back(r.label);
    in.group.push_back(r.group);
    n_truncated += ex["truncated"].get<bool>();
  }

  json summary = {{"command", "verify spectral"}, {"model", lm.path}, {"model_identity", identity},
                  {"data", o.data}, {"text_field", o.text_field}, {"label_field", o.label_field},
                  {"laplacian", o.laplacian}, {"hfer_band", o.hfer_band}, {"max_tokens", o.max_tokens},
                  {"layers", layers}, {"folds", o.folds}, {"seed", o.model.seed}, {"dtype", o.model.dtype},
                  {"maths_dtype", o.maths_dtype},
                  {"n", rows.size()}, {"n_valid", labelled ? json(n_valid) : json(nullptr)},
                  {"n_invalid", labelled ? json(n_invalid) : json(nullptr)},
                  {"n_truncated", n_truncated}, {"n_resumed", n_resumed}};
  data::stamp_layer_convention(summary);
  sp::Analysis analysis;
  sp::Detector det;
  size_t li = 0;
  std::vector<double> score;
  std::vector<int> pred;
  if (!apply) {
    analysis = sp::analyse_labelled(in);
    for (const auto& [k, v] : analysis.summary.items()) summary[k == "by_group" ? "by_" + o.group_field : k] = v;
    det = analysis.detector;
    det.laplacian = o.laplacian;
    det.hfer_band = o.hfer_band;
    det.max_tokens = o.max_tokens;
    det.maths_dtype = o.maths_dtype;
    det.model = identity;
    li = analysis.layer_index;
    score = analysis.score;
    pred = analysis.prediction;
  } else {
    det = frozen;
    const size_t m = static_cast<size_t>(sp::parse_metric(det.metric));
    for (const auto& f : in.features) {
      score.push_back(f[m]);
      pred.push_back(det.predict(f[m]));
    }
    summary["selected"] = {{"layer", det.layer}, {"metric", det.metric},
                           {"direction", sp::direction_name(det.direction)},
                           {"threshold", std::isfinite(det.threshold) ? json(det.threshold) : json(nullptr)}};
    summary["calibration"] = o.calibration;
    if (labelled) {
      summary["frozen"] = sp::evaluate_frozen(det, score, in.labels);
      summary["frozen"]["baselines"] = sp::evaluate_frozen_baselines(det, in.token_count, in.mean_logprob, in.labels);
      bool any = false;
      for (const SpectralRow& r : rows) any |= !r.group.empty();
      if (any) summary["by_" + o.group_field] = sp::group_breakdown(det, score, in.labels, in.group, in.token_count, in.mean_logprob);
    } else {
      summary["frozen"] = {{"n", rows.size()}, {"accuracy", nullptr}, {"auroc", nullptr}};
    }
  }
  if (o.per_head && labelled && n_valid >= 2 && n_invalid >= 2) {
    json ph = json::array();
    const auto& ex0 = done[rows[0].id]["per_head_features"];
    for (size_t l = 0; l < ex0.size(); ++l)
      for (size_t h = 0; h < ex0[l].size(); ++h)
        for (size_t m = 0; m < static_cast<size_t>(sp::kNumMetrics); ++m) {
          std::vector<double> v;
          for (const SpectralRow& r : rows) v.push_back(done[r.id]["per_head_features"][l][h][m].get<double>());
          const sp::ScoreStats st = sp::score_stats(v, in.labels);
          ph.push_back({{"layer", layers[l]}, {"head", h}, {"metric", sp::metric_name(sp::kAllMetrics[m])},
                        {"cohens_d", std::isfinite(st.cohens_d) ? json(st.cohens_d) : json(nullptr)},
                        {"auroc", st.auroc}, {"in_sample_accuracy", st.best.accuracy}});
        }
    summary["per_head_metric"] = ph;
  }
  summary["timing"] = {{"seconds", seconds}, {"forward_seconds", fwd_s}, {"maths_seconds", maths_s},
                       {"rows_computed", todo}};

  // ---- outputs: examples (final form), calibration, report, summary last
  std::vector<json> out_rows;
  std::vector<std::vector<double>> spectrum_sel;
  for (size_t i = 0; i < rows.size(); ++i) {
    json ex = done[rows[i].id];
    ex["prediction"] = pred[i];
    ex["score"] = score[i];
    json feats = json::object();
    for (sp::Metric m : sp::kAllMetrics) feats[sp::metric_name(m)] = ex["layer_features"][li][static_cast<size_t>(m)];
    ex["features"] = feats;
    ex["selected_layer"] = det.layer;
    std::vector<double> spv;
    for (const auto& v : ex["spectrum"][li]) spv.push_back(v.get<double>());
    spectrum_sel.push_back(std::move(spv));
    out_rows.push_back(std::move(ex));
  }
  data::write_jsonl(ex_path, out_rows);
  if (!o.save_calibration.empty()) {
    json cal = sp::detector_to_json(det);
    data::stamp_layer_convention(cal);
    write_file_atomic(o.save_calibration, cal.dump(2) + "\n");
  }

  SpectralReportData rd;
  rd.summary = summary;
  rd.analysis = apply ? nullptr : &analysis;
  rd.layers = layers;
  rd.labels = in.labels;
  rd.score = score;
  rd.token_count = in.token_count;
  rd.mean_logprob = in.mean_logprob;
  rd.spectrum = spectrum_sel;
  write_spectral_report(rd, o.out + "/report.html");
  data::write_summary_json(o.out + "/summary.json", summary);
  ck.remove();

  std::string msg = str("verify spectral: ", rows.size(), " rows; detector ", det.metric, " at layer ", det.layer);
  if (!apply) msg += str(", nested-CV accuracy ", summary["nested_cv_accuracy"]["mean"].get<double>());
  else if (labelled) msg += str(", accuracy ", summary["frozen"]["accuracy"].dump());
  log_info(msg + " -> " + o.out);
}

void add_spectral(CLI::App& verify) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* sub = verify.add_subcommand(
      "spectral",
      "Judge reasoning traces (Lean proofs, chains of thought) valid or invalid from the spectral "
      "signature of the model's attention graph (Noel, arXiv 2601.00791, with the fixes of "
      "METHODS.md section 1): per layer, Fiedler value, energy, smoothness, spectral entropy and "
      "HFER from the full Laplacian spectrum; baselines token count and mean log-probability.");
  add_model_options(*sub, o->model);
  sub->add_option("--data", o->data, "JSONL file, one trace per line")->required();
  sub->add_option("--text-field", o->text_field, "Field with the text")->capture_default_str();
  sub->add_option("--label-field", o->label_field, "Field with the label: 1 valid, 0 invalid")->capture_default_str();
  sub->add_option("--id-field", o->id_field, "Field with the row id (default: line number)")->capture_default_str();
  sub->add_option("--group-field", o->group_field, "Field whose values break the results down (e.g. corruption kind)")->capture_default_str();
  auto* mt = sub->add_option("--max-tokens", o->max_tokens, "Truncate texts to this many tokens (counted in the summary)")->capture_default_str();
  auto* lp = sub->add_option("--laplacian", o->laplacian, "rw (paper default), sym or comb")
                 ->check(CLI::IsMember({"rw", "sym", "comb"}))->capture_default_str();
  auto* ly = sub->add_option("--layers", o->layers,
                             "Blocks whose attention is read (README, \"Layer convention\"): all, A-B or A,B,C")
                 ->capture_default_str();
  auto* hb = sub->add_option("--hfer-band", o->hfer_band, "Fraction of the highest frequencies HFER counts")->capture_default_str();
  auto* md = sub->add_option("--maths-dtype", o->maths_dtype,
                  "Precision of the spectral maths: f32 (default; the paper's code used f32) or f64 (about 2x slower)")
      ->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
  sub->add_option("--folds", o->folds, "Folds of the (nested) cross-validation")->capture_default_str();
  sub->add_flag("--per-head", o->per_head, "Also features of every head's own graph (examples.jsonl, per_head_metric)");
  auto* save = sub->add_option("--save-calibration", o->save_calibration, "Write the selected detector here (JSON)");
  auto* cal = sub->add_option("--calibration", o->calibration, "Apply this saved detector instead of selecting one");
  save->excludes(cal);
  sub->add_flag("--resume", o->resume, "Continue an interrupted run from the rows finished in --out/resume (same data, model and settings)");
  sub->add_option("--limit", o->limit, "Only the first N rows");
  sub->add_option("--out,-o", o->out, "Output directory")->required();
  add_shard_option(*sub, o->shard);
  sub->footer(
      "summary.json: n, n_valid, n_invalid, n_truncated, per_layer_metric, selected, in_sample_best,\n"
      "nested_cv_accuracy {mean, std, pooled, folds, chosen_per_fold}, baselines {token_count,\n"
      "mean_logprob}, partial_correlation_given_length[_and_logprob], by_<group-field>, frozen {n, accuracy,\n"
      "auroc, cohens_d, baselines {token_count, mean_logprob}} (--calibration on labelled rows), timing.\n"
      "examples.jsonl: id, line, label, prediction, score, token_count, mean_logprob, features (selected\n"
      "layer), layer_features (every layer), spectrum (eigenvalue quantiles per layer).\n"
      "Examples:\n"
      "  reasonscope verify spectral --data dev.jsonl --save-calibration cal.json --out runs/dev --threads 1\n"
      "  reasonscope verify spectral --data other.jsonl --calibration cal.json --out runs/other");
  sub->callback([o, mt, lp, ly, hb, md] {
    o->maths_dtype_given = md->count() > 0;
    VerifyOptions v = *o;
    v.max_tokens_given = mt->count() > 0;
    v.laplacian_given = lp->count() > 0;
    v.layers_given = ly->count() > 0;
    v.band_given = hb->count() > 0;
    run_verify(v);
  });
}

// `verify` is shared with other verifiers (e.g. `verify qk`): find or create the parent.
rs::cli::Registrar verify_spectral_command{"verify-spectral", "", [](CLI::App& self) {
  attach_under(self, "verify", "Verify reasoning from the model's internals (verify spectral, verify qk)",
               "spectral", add_spectral);
}};

}  // namespace
}  // namespace rs::cli
