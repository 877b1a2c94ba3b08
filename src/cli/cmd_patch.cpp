// reasonscope patch: causal tracing from the guide run (bridge entity written in) into the
// compositional run, averaged over two-hop cases (METHODS.md section 4, step 2;
// methods/lens/tracing.h). Output: p(answer) and rank per layer x component x position.
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/checkpoint.h"
#include "cli/cmd_model_common.h"
#include "cli/lens_cases.h"
#include "core/atomic_file.h"
#include "data/outputs.h"
#include "methods/lens/answer_scoring.h"
#include "methods/lens/tracing.h"
#include "report/report.h"

namespace rs::cli {
namespace {

struct PatchOptions {
  ModelOptions model;
  std::string data, components = "resid,attn,mlp", positions = "last,subject", category, out;
  int window = 6;
  uint64_t limit = 0;
  bool resume = false;
};

void run_patch(const PatchOptions& o) {
  lens::TraceOptions to;
  to.components.clear();
  to.positions.clear();
  for (const auto& c : split_commas(o.components)) {
    if (c == "resid") to.components.push_back(lens::Component::Resid);
    else if (c == "attn") to.components.push_back(lens::Component::Attn);
    else if (c == "mlp") to.components.push_back(lens::Component::Mlp);
    else fail("--components: expected resid, attn or mlp, got '", c, "'");
  }
  for (const auto& p : split_commas(o.positions)) {
    if (p == "last") to.positions.push_back(lens::PatchPosition::Last);
    else if (p == "subject") to.positions.push_back(lens::PatchPosition::Subject);
    else fail("--positions: expected last or subject, got '", p, "'");
  }
  if (to.components.empty() || to.positions.empty()) fail("--components / --positions: nothing to patch");
  if (o.window < 1) fail("--window: expected at least 1, got ", o.window);
  to.window = o.window;
  const auto cases = classify(ExitCode::kBadInput,
                              [&] { return select_cases(lens::read_twohop_cases(o.data, o.limit), o.category, o.data); });
  LoadedModel lm = load_for_cli(o.model);
  const tok::Tokenizer& t = *lm.tokenizer;
  const int L = lm.model.config.n_layer;
  const int64_t C = static_cast<int64_t>(to.components.size()), P = static_cast<int64_t>(to.positions.size());

  make_dirs(o.out);
  data::JsonlWriter examples(o.out + "/examples.jsonl");
  at::Tensor sum_p = at::zeros({C, P, L}, at::kDouble), sum_rank = at::zeros({C, P, L}, at::kDouble);
  double sum_clean = 0, sum_guide = 0, sum_clean_rank = 0, sum_guide_rank = 0;
  int64_t patched = 0, calls = 0, guide_runs = 0;
  Progress progress("patch", cases.size());
  // Rows finished before an interrupt (cli/checkpoint.h), keyed by case id. Each row holds the
  // example and the raw tensors the sums below read, so a resumed run sums the same numbers.
  const nlohmann::json settings = {
      {"command", "patch"}, {"data", file_fingerprint(o.data)}, {"components", o.components}, {"positions", o.positions},
      {"window", o.window}, {"category", o.category}, {"limit", o.limit}, {"model", model_settings(o.model, lm.path)}};
  Checkpoint ck(checkpoint_dir_for_out_dir(o.out), settings, o.resume, "patch");
  auto trace_row = [&](const lens::TwohopCase& c) {
    lens::TraceInput in;
    in.composed = lens::prompt_ids(t, c.composed_cloze, c.where());
    in.guide = lens::prompt_ids(t, c.single_cloze, c.where());
    in.answer = lens::answer_ids(t, c.answer, c.where() + ": field 'answer'");
    in.composed_subject_pos = lens::subject_last_token(t, c.composed_cloze, c.composed_subject, c.where());
    in.guide_subject_pos = lens::subject_last_token(t, c.single_cloze, c.bridge_subject, c.where());
    const lens::TraceResult r = lens::trace_case(lm.model, in, to);
    nlohmann::json ex{{"id", c.id}, {"line", c.line}, {"answer", c.answer},
                      {"clean_p", std::exp(r.clean_logp)}, {"guide_p", std::exp(r.guide_logp)},
                      {"clean_rank", r.clean_rank}, {"guide_rank", r.guide_rank},
                      {"composed_subject_token", in.composed_subject_pos},
                      {"guide_subject_token", in.guide_subject_pos}};
    for (int64_t ci = 0; ci < C; ++ci)
      for (int64_t pi = 0; pi < P; ++pi) {
        const std::string key = std::string(lens::component_name(to.components[static_cast<size_t>(ci)])) + "_" +
                                lens::patch_position_name(to.positions[static_cast<size_t>(pi)]);
        std::vector<double> p, rk;
        for (int l = 0; l < L; ++l) {
          p.push_back(std::exp(r.logp[ci][pi][l].item<double>()));
          rk.push_back(static_cast<double>(r.rank[ci][pi][l].item<int64_t>()));
        }
        ex["p_" + key] = p;
        ex["rank_" + key] = rk;
      }
    return nlohmann::json{{"example", ex}, {"logp", tensor_to_json(r.logp)}, {"rank", tensor_to_json(r.rank)},
                          {"clean_logp", r.clean_logp}, {"guide_logp", r.guide_logp},
                          {"patched_sequences", r.patched_sequences}, {"forward_calls", r.forward_calls},
                          {"guide_runs", r.guide_runs}};
  };
  for (const auto& c : cases) {
    const std::string key = c.id + "@" + std::to_string(c.line);
    const nlohmann::json* prev = ck.find(key);
    if (!prev) ck.check_interrupt(cases.size());
    const nlohmann::json& row = prev ? *prev : ck.add(key, trace_row(c));
    const nlohmann::json& ex = row.at("example");
    sum_p += tensor_from_json(row.at("logp")).exp();
    sum_rank += tensor_from_json(row.at("rank")).to(at::kDouble);
    sum_clean += std::exp(row.at("clean_logp").get<double>());
    sum_guide += std::exp(row.at("guide_logp").get<double>());
    sum_clean_rank += static_cast<double>(ex.at("clean_rank").get<int64_t>());
    sum_guide_rank += static_cast<double>(ex.at("guide_rank").get<int64_t>());
    patched += row.at("patched_sequences").get<int64_t>();
    calls += row.at("forward_calls").get<int64_t>();
    guide_runs += row.at("guide_runs").get<int64_t>();
    examples.write(ex);
    progress.tick();
  }
  ck.check_interrupt(cases.size());
  progress.done();
  const double n = static_cast<double>(cases.size());
  const at::Tensor mean_p = sum_p / n, mean_rank = sum_rank / n;
  nlohmann::json cells = nlohmann::json::object();
  report::Report rep("Causal tracing from the guide run: " + std::to_string(cases.size()) + " cases");
  rep.meta("model", lm.path).meta("data", o.data).meta("window", std::to_string(o.window));
  rep.text("Each cell: the guide run's hidden state (bridge entity written in) copied into the "
           "compositional run at one layer (resid) or a window of " + std::to_string(o.window) +
           " layers centred there (attn, mlp), at the last token or the subject's last token; the "
           "value is p(whole answer), averaged over cases. Unpatched composition: " +
           std::to_string(sum_clean / n) + "; guide run: " + std::to_string(sum_guide / n) + ".");
  for (int64_t pi = 0; pi < P; ++pi) {
    const std::string pos = lens::patch_position_name(to.positions[static_cast<size_t>(pi)]);
    report::HeatMap h;
    h.title = "mean p(answer), patch at the " + pos + " token";
    h.x_label = "component";
    h.y_label = "layer";
    std::vector<double> v(static_cast<size_t>(L * C));
    for (int64_t ci = 0; ci < C; ++ci) {
      const std::string comp = lens::component_name(to.components[static_cast<size_t>(ci)]);
      h.col_labels.push_back(comp);
      std::vector<double> p, rk;
      for (int l = 0; l < L; ++l) {
        p.push_back(mean_p[ci][pi][l].item<double>());
        rk.push_back(mean_rank[ci][pi][l].item<double>());
        v[static_cast<size_t>(l * C + ci)] = p.back();
      }
      cells[comp + "_" + pos] = {{"mean_p", p}, {"mean_rank", rk}};
    }
    for (int l = 0; l < L; ++l) h.row_labels.push_back(std::to_string(l));
    h.value_label = "p(answer)";
    h.set(static_cast<size_t>(L), static_cast<size_t>(C), v);
    rep.section("Patch at the " + pos + " token").chart(h);
  }
  nlohmann::json summary{{"command", "patch"}, {"model", lm.path}, {"edit", o.model.edit},
                         {"data", o.data}, {"n", cases.size()}, {"window", o.window},
                         {"n_layers", L}, {"clean_mean_p", sum_clean / n}, {"guide_mean_p", sum_guide / n},
                         {"clean_mean_rank", sum_clean_rank / n}, {"guide_mean_rank", sum_guide_rank / n},
                         {"cells", cells}, {"patched_sequences", patched}, {"forward_calls", calls},
                         {"guide_runs", guide_runs}};
  data::stamp_layer_convention(summary);  // cells' *_by_layer lists run over blocks 0..n_layers-1
  examples.commit();
  data::write_summary_json(o.out + "/summary.json", summary);
  rep.write(o.out + "/report.html");
  ck.remove();
  log_info(str("patch: ", cases.size(), " cases, ", patched, " patched sequences in ", calls,
               " forward calls -> ", o.out));
}

Registrar patch_command{"patch", "Causal tracing from the guide run into the compositional run (two-hop cases)",
              [](CLI::App& sub) {
                auto o = std::make_shared<PatchOptions>();
                add_model_options(sub, o->model);
                sub.add_option("--data", o->data, "Two-hop cases (JSONL; labelled by `data label twohop` or not)")->required();
                sub.add_option("--components", o->components, "resid,attn,mlp (any of)")->capture_default_str();
                sub.add_option("--window", o->window, "Layers patched together for attn / mlp")->capture_default_str();
                sub.add_option("--positions", o->positions, "last,subject (any of)")->capture_default_str();
                sub.add_option("--category", o->category,
                               "Cases to trace: a label category or 'all' (default: hops_right_comp_wrong "
                               "for labelled rows, else all)");
                sub.add_option("--limit", o->limit, "Only the first N rows of the file");
                sub.add_option("--out,-o", o->out, "Output directory")->required();
                sub.add_flag("--resume", o->resume, "Continue an interrupted run from the cases finished in --out/resume");
                sub.footer(
                    "summary.json: command, model, edit, data, n, window, n_layers, clean_mean_p, guide_mean_p,\n"
                    "clean_mean_rank, guide_mean_rank, cells {<component>_<position>: {mean_p, mean_rank}\n"
                    "(one per layer)}, patched_sequences, forward_calls, guide_runs.\n"
                    "examples.jsonl: id, line, answer, clean_p, guide_p, clean_rank, guide_rank,\n"
                    "composed_subject_token, guide_subject_token, p_<comp>_<pos>, rank_<comp>_<pos>.\n"
                    "p is the probability of the whole answer; rank is its first token's rank.");
                sub.callback([o] { run_patch(*o); });
              }};

}  // namespace
}  // namespace rs::cli
