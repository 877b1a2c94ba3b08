// reasonscope edit creme | edit eval: fit the CREME rank-one W_O edits on two-hop cases
// (METHODS.md section 4, step 3; methods/lens/creme.h) and evaluate an edit before/after
// (step 4; methods/lens/twohop_eval.h). Edits are files of weight deltas that every
// model-using command applies with --edit FILE.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/cmd_model_common.h"
#include "cli/lens_cases.h"
#include "core/atomic_file.h"
#include "data/outputs.h"
#include "methods/lens/answer_scoring.h"
#include "methods/lens/creme.h"
#include "methods/lens/tracing.h"
#include "methods/lens/twohop_eval.h"
#include "report/report.h"

namespace rs::cli {
namespace {

// --split fit|eval|all: even-indexed selected cases fit, odd-indexed evaluate.
std::vector<lens::TwohopCase> split_cases(const std::vector<lens::TwohopCase>& cases,
                                          const std::string& split) {
  if (split == "all") return cases;
  if (split != "fit" && split != "eval") fail("--split: expected fit, eval or all, got '", split, "'");
  std::vector<lens::TwohopCase> out;
  for (size_t i = 0; i < cases.size(); ++i)
    if ((i % 2 == 0) == (split == "fit")) out.push_back(cases[i]);
  if (out.empty()) fail("--split ", split, ": no cases in this split");
  return out;
}

// --layers auto: the contiguous block of layers (about 9/32 of the model, the paper's 15-23 of
// LLaMA-2-7B) where patching the guide's attention output at the last token raises p(answer)
// the most, averaged over (up to 16) cases.
std::vector<int> auto_layers(const Model& m, const tok::Tokenizer& t,
                             const std::vector<lens::TwohopCase>& cases, nlohmann::json& info) {
  const int L = m.config.n_layer;
  lens::TraceOptions to;
  to.components = {lens::Component::Attn};
  to.positions = {lens::PatchPosition::Last};
  std::vector<double> gain(static_cast<size_t>(L), 0.0);
  const size_t n = std::min<size_t>(cases.size(), 16);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = cases[i];
    lens::TraceInput in;
    in.composed = lens::prompt_ids(t, c.composed_cloze, c.where());
    in.guide = lens::prompt_ids(t, c.single_cloze, c.where());
    in.answer = lens::answer_ids(t, c.answer, c.where());
    const auto r = lens::trace_case(m, in, to);
    for (int l = 0; l < L; ++l) gain[static_cast<size_t>(l)] += (r.logp[0][0][l].item<double>() - r.clean_logp) / n;
  }
  const int width = std::max(1, static_cast<int>(std::lround(L * 9.0 / 32.0)));
  int best = 0;
  double best_sum = -1e300;
  for (int a = 0; a + width <= L; ++a) {
    double s = 0;
    for (int l = a; l < a + width; ++l) s += gain[static_cast<size_t>(l)];
    if (s > best_sum) best_sum = s, best = a;
  }
  info = {{"traced_cases", n}, {"mean_logp_gain_attn_last", gain}, {"width", width}, {"first", best}};
  std::vector<int> out;
  for (int l = best; l < best + width; ++l) out.push_back(l);
  return out;
}

std::vector<lens::CremePair> pairs_of(const std::vector<lens::TwohopCase>& cases) {
  std::vector<lens::CremePair> p;
  for (const auto& c : cases) p.push_back({c.composed_cloze, c.single_cloze});
  return p;
}

// ------------------------------------------------------------------ edit creme
struct CremeCliOptions {
  ModelOptions model;
  std::string data, layers = "auto", category, split = "fit", out;
  int templates = 5;
  uint64_t limit = 0;
};

void run_creme(const CremeCliOptions& o) {
  const auto cases = classify(ExitCode::kBadInput, [&] {
    return split_cases(select_cases(lens::read_twohop_cases(o.data, o.limit), o.category, o.data), o.split);
  });
  LoadedModel lm = load_for_cli(o.model);
  nlohmann::json auto_info;
  std::vector<int> layers = o.layers == "auto" ? auto_layers(lm.model, *lm.tokenizer, cases, auto_info)
                                               : parse_layers("--layers", o.layers, lm.model.config.n_layer);
  lens::CremeOptions co;
  co.layers = layers;
  co.templates = o.templates;
  std::vector<lens::CremeLayerStats> stats;
  lens::WeightEdit e = lens::fit_creme(lm.model, *lm.tokenizer, pairs_of(cases), co, &stats);
  e.metadata["data"] = o.data;
  e.metadata["split"] = o.split;
  if (!o.model.edit.empty()) e.metadata["on_top_of"] = o.model.edit;
  lens::save_edit(e, o.out);
  nlohmann::json js = nlohmann::json::array();
  for (const auto& s : stats)
    js.push_back({{"layer", s.layer}, {"k_norm", s.k_norm}, {"t_norm", s.t_norm},
                  {"residual_norm", s.residual_norm}, {"delta_norm", s.delta_norm}});
  nlohmann::json summary{{"command", "edit creme"}, {"out", o.out}, {"n_cases", cases.size()},
                         {"layers", layers}, {"templates", o.templates}, {"split", o.split},
                         {"layer_stats", js}};
  if (!auto_info.is_null()) summary["auto"] = auto_info;
  data::stamp_layer_convention(summary);
  std::printf("%s\n", summary.dump(2).c_str());
}

// ------------------------------------------------------------------ edit eval
struct EvalCliOptions {
  ModelOptions model;
  std::string data, category, split = "eval", out, per_case_layers;
  int templates = 5;
  uint64_t limit = 0;
  bool resume = false;
};

// One case's scores as checkpoint rows (cli/checkpoint.h), exact (lp_wrong is -inf without a
// wrong answer).
nlohmann::json case_scores_json(const lens::CaseScores& c) {
  auto group = [](const std::vector<lens::ProbeScore>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : v)
      a.push_back({double_to_json(p.lp_target), double_to_json(p.lp_wrong), p.greedy});
    return a;
  };
  return {{"correction", group(c.correction)}, {"paraphrase", group(c.paraphrase)},
          {"generalization", group(c.generalization)}, {"irrelevant", group(c.irrelevant)}};
}

lens::CaseScores case_scores_from_json(const nlohmann::json& j) {
  auto group = [](const nlohmann::json& a) {
    std::vector<lens::ProbeScore> v;
    for (const auto& p : a) v.push_back({double_from_json(p.at(0)), double_from_json(p.at(1)), p.at(2).get<std::string>()});
    return v;
  };
  return {group(j.at("correction")), group(j.at("paraphrase")), group(j.at("generalization")), group(j.at("irrelevant"))};
}

nlohmann::json group_json(const lens::GroupMetrics& g) {
  return {{"n_probes", g.n}, {"n_probes_with_wrong", g.n_with_wrong}, {"share_target_gt_wrong_pre", g.share_target_gt_wrong_pre},
          {"share_target_gt_wrong_post", g.share_target_gt_wrong_post},
          {"mean_p_target_pre", g.mean_p_target_pre}, {"mean_p_target_post", g.mean_p_target_post}};
}

nlohmann::json scores_json(const std::vector<lens::ProbeScore>& pre, const std::vector<lens::ProbeScore>& post) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < pre.size(); ++i)
    a.push_back({{"p_target_pre", std::exp(pre[i].lp_target)}, {"p_target_post", std::exp(post[i].lp_target)},
                 {"p_wrong_pre", std::exp(pre[i].lp_wrong)}, {"p_wrong_post", std::exp(post[i].lp_wrong)}});
  return a;
}

void run_eval(const EvalCliOptions& o) {
  const bool per_case = !o.per_case_layers.empty();
  if (o.model.edit.empty() && !per_case)
    fail("edit eval: give --edit FILE (an edit to evaluate) or --per-case-creme LAYERS");
  if (!o.model.edit.empty() && per_case) fail("edit eval: give --edit or --per-case-creme, not both");
  const auto cases = classify(ExitCode::kBadInput, [&] {
    return split_cases(select_cases(lens::read_twohop_cases(o.data, o.limit), o.category, o.data), o.split);
  });
  ModelOptions plain = o.model;
  plain.edit.clear();  // load unedited: the "pre" numbers come first
  LoadedModel lm = load_for_cli(plain);
  const tok::Tokenizer& t = *lm.tokenizer;
  std::vector<int> layers;
  if (per_case) layers = parse_layers("--per-case-creme", o.per_case_layers, lm.model.config.n_layer);
  lens::WeightEdit edit;
  if (!per_case) {  // check the file before the slow part
    classify(ExitCode::kBadInput, [&] {
      edit = lens::load_edit(o.model.edit);
      lens::check_edit(lm.model, edit, o.model.edit);
    });
  }

  const auto probes = lens::build_probes(lm.model, t, cases);
  // Every case's pre and post scores are checkpointed (cli/checkpoint.h); a resumed run reads
  // them back and, for a file edit, applies it where the pre pass ends, as an uninterrupted run.
  const nlohmann::json settings = {
      {"command", "edit eval"}, {"data", file_fingerprint(o.data)}, {"category", o.category}, {"split", o.split},
      {"limit", o.limit}, {"per_case_creme", o.per_case_layers}, {"templates", o.templates},
      {"model", model_settings(o.model, lm.path)}};
  Checkpoint ck(checkpoint_dir_for_out_dir(o.out), settings, o.resume, "edit eval");
  const size_t n_items = 2 * cases.size();
  auto scores = [&](const std::string& phase, size_t i, const std::function<lens::CaseScores()>& compute) {
    const std::string key = phase + "/" + std::to_string(i);
    const nlohmann::json* prev = ck.find(key);
    if (!prev) {
      ck.check_interrupt(n_items);
      prev = &ck.add(key, case_scores_json(compute()));
    }
    return case_scores_from_json(*prev);
  };
  std::vector<lens::CaseScores> pre;
  Progress p1("eval pre", cases.size());
  for (size_t i = 0; i < probes.size(); ++i) {
    pre.push_back(scores("pre", i, [&] { return lens::score_probes(lm.model, t, probes[i]); }));
    p1.tick();
  }
  p1.done();
  std::vector<lens::CaseScores> post;
  if (!per_case) {
    lens::apply_edit(lm.model, edit, o.model.edit);
    Progress p2("eval post", cases.size());
    for (size_t i = 0; i < probes.size(); ++i) {
      post.push_back(scores("post", i, [&] { return lens::score_probes(lm.model, t, probes[i]); }));
      p2.tick();
    }
    p2.done();
  } else {
    // The paper's protocol: one edit per case, fitted on that case, evaluated, then undone.
    std::vector<at::Tensor> saved;
    for (int l : layers) saved.push_back(lm.model.weight(lens::o_proj_name(l)).clone());
    lens::CremeOptions co;
    co.layers = layers;
    co.templates = o.templates;
    Progress p2("eval per-case CREME", cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      post.push_back(scores("post", i, [&] {
        lens::fit_creme(lm.model, t, pairs_of({cases[i]}), co);
        lens::CaseScores s = lens::score_probes(lm.model, t, probes[i]);
        for (size_t j = 0; j < layers.size(); ++j) lm.model.weight(lens::o_proj_name(layers[j])).copy_(saved[j]);
        return s;
      }));
      p2.tick();
    }
    p2.done();
  }
  ck.check_interrupt(n_items);

  make_dirs(o.out);
  data::JsonlWriter examples(o.out + "/examples.jsonl");
  lens::GroupMetrics corr, para, gen;
  lens::SpecificityMetrics spec;
  for (size_t i = 0; i < cases.size(); ++i) {
    lens::accumulate(corr, pre[i].correction, post[i].correction);
    lens::accumulate(para, pre[i].paraphrase, post[i].paraphrase);
    lens::accumulate(gen, pre[i].generalization, post[i].generalization);
    lens::accumulate(spec, pre[i].irrelevant, post[i].irrelevant);
    nlohmann::json irr = nlohmann::json::array();
    for (size_t j = 0; j < pre[i].irrelevant.size(); ++j)
      irr.push_back({{"p_own_pre", std::exp(pre[i].irrelevant[j].lp_target)},
                     {"p_own_post", std::exp(post[i].irrelevant[j].lp_target)},
                     {"greedy_pre", pre[i].irrelevant[j].greedy}, {"greedy_post", post[i].irrelevant[j].greedy}});
    examples.write({{"id", cases[i].id}, {"line", cases[i].line}, {"answer", cases[i].answer},
                    {"wrong_answer", probes[i].correction[0].wrong},
                    {"correction", scores_json(pre[i].correction, post[i].correction)},
                    {"paraphrase", scores_json(pre[i].paraphrase, post[i].paraphrase)},
                    {"generalization", scores_json(pre[i].generalization, post[i].generalization)},
                    {"specificity", irr}});
  }
  lens::finish(corr);
  lens::finish(para);
  lens::finish(gen);
  lens::finish(spec);
  nlohmann::json summary{
      {"command", "edit eval"}, {"model", lm.path}, {"edit", per_case ? nlohmann::json(nullptr) : nlohmann::json(o.model.edit)},
      {"per_case_creme_layers", per_case ? nlohmann::json(layers) : nlohmann::json(nullptr)},
      {"data", o.data}, {"split", o.split}, {"n", cases.size()},
      {"correction", group_json(corr)}, {"paraphrase", group_json(para)}, {"generalization", group_json(gen)},
      {"specificity", {{"n_probes", spec.n}, {"mean_abs_delta_p_own_answer", spec.mean_abs_delta_p_own_answer},
                       {"mean_delta_p_own_answer", spec.mean_delta_p_own_answer},
                       {"share_answer_unchanged", spec.share_answer_unchanged}}}};
  if (!per_case) summary["edit_metadata"] = edit.metadata;
  data::stamp_layer_convention(summary);

  report::Report rep("Edit evaluation: " + std::to_string(cases.size()) + " two-hop cases");
  rep.meta("model", lm.path).meta("data", o.data).meta("split", o.split)
      .meta("edit", per_case ? "per-case CREME, layers " + o.per_case_layers : o.model.edit);
  rep.verdict("correction: share p(target) > p(wrong) " + std::to_string(corr.share_target_gt_wrong_pre) +
              " -> " + std::to_string(corr.share_target_gt_wrong_post) + "; mean p(target) " +
              std::to_string(corr.mean_p_target_pre) + " -> " + std::to_string(corr.mean_p_target_post) +
              "; specificity: mean |delta p(own answer)| " + std::to_string(spec.mean_abs_delta_p_own_answer));
  report::BarChart share;
  share.title = "share with p(target) > p(wrong)";
  share.categories = {"correction", "paraphrase", "generalization"};
  share.y_label = "share";
  share.add("pre", {corr.share_target_gt_wrong_pre, para.share_target_gt_wrong_pre, gen.share_target_gt_wrong_pre});
  share.add("post", {corr.share_target_gt_wrong_post, para.share_target_gt_wrong_post, gen.share_target_gt_wrong_post});
  report::BarChart mp = share;
  mp.series.clear();
  mp.title = "mean p(target), whole answer";
  mp.y_label = "p";
  mp.add("pre", {corr.mean_p_target_pre, para.mean_p_target_pre, gen.mean_p_target_pre});
  mp.add("post", {corr.mean_p_target_post, para.mean_p_target_post, gen.mean_p_target_post});
  rep.section("Before and after").chart(share).chart(mp);
  report::Table tb({"metric", "pre", "post"});
  tb.row({"correction share", corr.share_target_gt_wrong_pre, corr.share_target_gt_wrong_post});
  tb.row({"correction mean p", corr.mean_p_target_pre, corr.mean_p_target_post});
  tb.row({"paraphrase share", para.share_target_gt_wrong_pre, para.share_target_gt_wrong_post});
  tb.row({"paraphrase mean p", para.mean_p_target_pre, para.mean_p_target_post});
  tb.row({"generalization share", gen.share_target_gt_wrong_pre, gen.share_target_gt_wrong_post});
  tb.row({"generalization mean p", gen.mean_p_target_pre, gen.mean_p_target_post});
  tb.row({"specificity mean |dp|", 0.0, spec.mean_abs_delta_p_own_answer});
  tb.row({"specificity share unchanged", 1.0, spec.share_answer_unchanged});
  rep.table(tb);
  examples.commit();
  data::write_summary_json(o.out + "/summary.json", summary);
  rep.write(o.out + "/report.html");
  ck.remove();
  log_info(str("edit eval: ", cases.size(), " cases -> ", o.out));
}

Registrar edit_command{"edit", "Weight edits for two-hop reasoning: fit (creme) and evaluate (eval)",
              [](CLI::App& sub) {
                sub.require_subcommand(1);
                {
                  auto o = std::make_shared<CremeCliOptions>();
                  CLI::App* c = sub.add_subcommand(
                      "creme", "Fit CREME's closed-form rank-one W_O edits on two-hop cases; write the weight deltas");
                  add_model_options(*c, o->model);
                  c->add_option("--data", o->data, "Two-hop cases (JSONL)")->required();
                  c->add_option("--layers", o->layers,
                                "Blocks whose W_O is edited (README, \"Layer convention\"): all, A-B, A,B,C or auto "
                                "(from tracing the attention output)")
                      ->capture_default_str();
                  c->add_option("--templates", o->templates, "Context templates per prompt (1-10)")->capture_default_str();
                  c->add_option("--category", o->category, "Label category or 'all' (default: hops_right_comp_wrong when labelled)");
                  c->add_option("--split", o->split, "fit (even-indexed cases), eval (odd) or all")->capture_default_str();
                  c->add_option("--limit", o->limit, "Only the first N rows of the file");
                  c->add_option("--out,-o", o->out, "Edit file to write (.safetensors)")->required();
                  c->callback([o] { run_creme(*o); });
                }
                {
                  auto o = std::make_shared<EvalCliOptions>();
                  CLI::App* c = sub.add_subcommand(
                      "eval", "Correction, paraphrase, generalisation and specificity before and after an edit");
                  add_model_options(*c, o->model);
                  c->add_option("--data", o->data, "Two-hop cases (JSONL)")->required();
                  c->add_option("--category", o->category, "Label category or 'all' (default: hops_right_comp_wrong when labelled)");
                  c->add_option("--split", o->split, "fit (even-indexed cases), eval (odd) or all")->capture_default_str();
                  c->add_option("--per-case-creme", o->per_case_layers,
                                "Instead of --edit: fit a CREME edit on each case alone at these blocks (all, A-B or "
                                "A,B,C), evaluate, undo");
                  c->add_option("--templates", o->templates, "With --per-case-creme: context templates")->capture_default_str();
                  c->add_option("--limit", o->limit, "Only the first N rows of the file");
                  c->add_option("--out,-o", o->out, "Output directory")->required();
                  c->add_flag("--resume", o->resume, "Continue an interrupted run from the cases finished in --out/resume");
                  c->footer(
                      "summary.json: n, correction / paraphrase / generalization {n_probes, n_probes_with_wrong,\n"
                      "share_target_gt_wrong_pre, share_target_gt_wrong_post, mean_p_target_pre,\n"
                      "mean_p_target_post}, specificity {n_probes, mean_abs_delta_p_own_answer,\n"
                      "mean_delta_p_own_answer, share_answer_unchanged}; p = whole answer sequence.");
                  c->callback([o] { run_eval(*o); });
                }
              }};

}  // namespace
}  // namespace rs::cli
