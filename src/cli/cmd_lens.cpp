// reasonscope lens: the logit lens (METHODS.md section 4, step 1) on one prompt. Per layer (and
// position) the top-k tokens that resid_post[l] projects to through the final norm and the
// unembedding, and the rank and probability of each answer's FIRST token. The lens reads one
// position at a time (the next-token prediction there), so a multi-token answer is represented
// by its first token only.
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cmd_model_common.h"
#include "core/atomic_file.h"
#include "data/outputs.h"
#include "methods/lens/answer_scoring.h"
#include "methods/lens/logit_lens.h"
#include "model/generate.h"
#include "report/report.h"

namespace rs::cli {
namespace {

struct LensOptions {
  ModelOptions model;
  std::string prompt, answers, positions = "last", layers = "all", out;
  bool no_final_norm = false;
  int top_k = 5;
};

void run_lens(const LensOptions& o) {
  if (o.prompt.empty()) fail_as(ExitCode::kUsage, "--prompt: empty prompt");
  if (o.positions != "last" && o.positions != "all")
    fail("--positions: expected last or all, got '", o.positions, "'");
  if (o.top_k < 1) fail("--top-k: expected at least 1, got ", o.top_k);
  LoadedModel lm = load_for_cli(o.model);
  const tok::Tokenizer& t = *lm.tokenizer;
  const std::vector<int64_t> ids = lens::prompt_ids(t, o.prompt, "--prompt");
  check_prompt_fits(lm.model.config, ids.size(), "--prompt");
  std::vector<std::string> answers = o.answers.empty() ? std::vector<std::string>{} : split_commas(o.answers);
  std::vector<int64_t> first_ids;
  for (const auto& a : answers) first_ids.push_back(lens::answer_ids(t, a, "--answers")[0]);
  const int64_t T = static_cast<int64_t>(ids.size());
  std::vector<int64_t> positions;
  if (o.positions == "last") positions = {T - 1};
  else for (int64_t p = 0; p < T; ++p) positions.push_back(p);
  const std::vector<int> layers = parse_layers("--layers", o.layers, lm.model.config.n_layer, /*allow_embed=*/true);
  const int L = static_cast<int>(layers.size());
  const int k = std::min<int>(o.top_k, static_cast<int>(lm.model.config.n_vocab));

  at::NoGradGuard ng;
  const at::Tensor resid = lens::lens_residuals(lm.model, ids, positions, layers);  // [L, P, D]
  const at::Tensor lp = lens::lens_logprobs(lm.model, resid, !o.no_final_norm).cpu();  // [L, P, V]
  const auto [top_lp, top_id] = lp.topk(k, -1);

  make_dirs(o.out);
  data::JsonlWriter examples(o.out + "/examples.jsonl");
  const size_t A = answers.size();
  std::vector<double> heat_p(static_cast<size_t>(L) * A), heat_rank(static_cast<size_t>(L) * A);
  nlohmann::json answers_json = nlohmann::json::array();
  for (size_t a = 0; a < A; ++a)
    answers_json.push_back({{"answer", answers[a]}, {"first_token", first_ids[a]},
                            {"first_token_text", t.token_text(static_cast<int32_t>(first_ids[a]))},
                            {"p_by_layer", nlohmann::json::array()}, {"rank_by_layer", nlohmann::json::array()}});
  report::Table top_table({"layer", "position", "top tokens (p)"});
  for (int l = 0; l < L; ++l)
    for (size_t pi = 0; pi < positions.size(); ++pi) {
      nlohmann::json ex{{"layer", data::layer_json(layers[static_cast<size_t>(l)])}, {"position", positions[pi]},
                        {"token", t.token_text(static_cast<int32_t>(ids[static_cast<size_t>(positions[pi])]))}};
      nlohmann::json top = nlohmann::json::array();
      std::string cell;
      for (int j = 0; j < k; ++j) {
        const int64_t id = top_id[l][static_cast<int64_t>(pi)][j].item<int64_t>();
        const double p = std::exp(top_lp[l][static_cast<int64_t>(pi)][j].item<double>());
        top.push_back({{"token", id}, {"text", t.token_text(static_cast<int32_t>(id))}, {"p", p}});
        std::ostringstream c;
        c.precision(3);
        c << (j ? "  " : "") << "'" << t.token_text(static_cast<int32_t>(id)) << "' " << p;
        cell += c.str();
      }
      ex["top"] = top;
      nlohmann::json ans = nlohmann::json::object();
      for (size_t a = 0; a < A; ++a) {
        const at::Tensor row = lp[l][static_cast<int64_t>(pi)];
        const double p = std::exp(row[first_ids[a]].item<double>());
        const int64_t rank = lens::token_rank(row, first_ids[a]).item<int64_t>();
        ans[answers[a]] = {{"p", p}, {"rank", rank}};
        if (pi + 1 == positions.size()) {
          answers_json[a]["p_by_layer"].push_back(p);
          answers_json[a]["rank_by_layer"].push_back(rank);
          heat_p[static_cast<size_t>(l) * A + a] = p;
          heat_rank[static_cast<size_t>(l) * A + a] = static_cast<double>(rank);
        }
      }
      ex["answers"] = ans;
      examples.write(ex);
      if (pi + 1 == positions.size()) top_table.row({layer_name(layers[static_cast<size_t>(l)]), positions[pi], cell});
    }

  nlohmann::json summary{{"command", "lens"},
                         {"model", lm.path},
                         {"edit", o.model.edit},
                         {"prompt", o.prompt},
                         {"n_tokens", T},
                         {"positions", o.positions},
                         {"read_position", T - 1},
                         {"final_norm", !o.no_final_norm},
                         {"top_k", k},
                         {"n_layers", L},
                         {"layers", data::layers_json(layers)},
                         {"answers", answers_json}};
  data::stamp_layer_convention(summary);
  report::Report r("Logit lens: " + o.prompt);
  r.meta("model", lm.path).meta("final norm", o.no_final_norm ? "no" : "yes");
  r.text("Each layer's resid_post read through " +
         std::string(o.no_final_norm ? "the unembedding alone" : "the final norm and the unembedding") +
         " at the LAST prompt position (the next-token prediction there); an answer is represented by "
         "its first token.");
  if (A > 0) {
    report::HeatMap h;
    h.title = "p(answer's first token) by layer";
    h.x_label = "answer";
    h.y_label = "layer";
    for (int l : layers) h.row_labels.push_back(layer_name(l));
    h.col_labels = answers;
    h.value_label = "probability";
    h.set(static_cast<size_t>(L), A, heat_p);
    r.section("Answers by layer").chart(h);
    report::HeatMap hr = h;
    hr.title = "rank of the answer's first token (0 = top)";
    hr.value_label = "rank";
    hr.color_map = report::ColorMap::Sequential;
    hr.set(static_cast<size_t>(L), A, heat_rank);
    r.chart(hr);
  }
  top_table.caption = "top-" + std::to_string(k) + " tokens at the last position";
  r.section("Top tokens by layer").table(top_table);
  examples.commit();
  data::write_summary_json(o.out + "/summary.json", summary);
  r.write(o.out + "/report.html");
  log_info(str("lens: ", L, " layers x ", positions.size(), " position(s) -> ", o.out));
}

Registrar lens_command{"lens", "Logit lens: what each layer predicts at a prompt's last position",
              [](CLI::App& sub) {
                auto o = std::make_shared<LensOptions>();
                add_model_options(sub, o->model);
                sub.add_option("--prompt,-p", o->prompt, "Prompt text")->required();
                sub.add_option("--answers", o->answers,
                               "Comma-separated answers to follow (first token each), e.g. ' Paris,France'");
                sub.add_option("--positions", o->positions, "last or all")->capture_default_str();
                sub.add_option("--layers", o->layers,
                               "Layers to read (README, \"Layer convention\"): all (every block), embed, A-B or "
                               "A,B,C; embed,all adds the embeddings")
                    ->capture_default_str();
                sub.add_flag("--no-final-norm", o->no_final_norm,
                             "Skip the final norm (resid W_U^T, as the CREME paper's script did)");
                sub.add_option("--top-k", o->top_k, "Top tokens per layer")->capture_default_str();
                sub.add_option("--out,-o", o->out, "Output directory")->required();
                sub.footer(
                    "summary.json: command, model, edit, prompt, n_tokens, positions, read_position,\n"
                    "final_norm, top_k, n_layers, layers (\"embed\" or the block index of each entry of the\n"
                    "*_by_layer lists), answers [{answer, first_token, first_token_text, p_by_layer,\n"
                    "rank_by_layer}] (at the last position), layer_convention, layer_convention_version.\n"
                    "examples.jsonl: one row per layer x position: layer, position, token,\n"
                    "top [{token, text, p}], answers {A: {p, rank}}.\n"
                    "Example: reasonscope lens --prompt 'The capital of the country where the Eiffel Tower is "
                    "located is' --answers Paris,France --out runs/lens");
                sub.callback([o] { run_lens(*o); });
              }};

}  // namespace
}  // namespace rs::cli
