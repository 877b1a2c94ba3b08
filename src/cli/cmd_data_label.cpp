// reasonscope data label twohop: label two-hop cases by what the model gets right (first hop,
// second hop, composition), by greedy generation and by whole-answer probability against the
// alternatives (methods/lens/twohop_label.h). Writes the input rows with the labels added, so
// the output feeds `patch` and `edit creme` / `edit eval` (which pick a category by default).
//
// Attaches `label` under `data` the way cmd_data_check.cpp attaches `check`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cmd_model_common.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "methods/lens/twohop_label.h"

namespace {

struct LabelCliOptions {
  rs::cli::ModelOptions model;
  std::string kind, data, out;
  size_t alternatives = 5;
  uint64_t limit = 0;
};

nlohmann::json hop_json(const rs::lens::HopVerdict& v) {
  return {{"greedy", v.greedy}, {"greedy_ok", v.greedy_ok}, {"logp_target", v.logp_target},
          {"best_alternative", v.best_alternative}, {"logp_best_alternative", v.logp_best_alternative},
          {"prob_ok", v.prob_ok}, {"ok", v.ok()}};
}

void run_label(const LabelCliOptions& o) {
  using namespace rs;
  if (o.kind != "twohop") fail("data label: unknown kind '", o.kind, "' (expected twohop)");
  const std::vector<lens::TwohopCase> cases = lens::read_twohop_cases(o.data, o.limit);
  const std::vector<data::JsonlRow> rows = data::read_jsonl(o.data);
  cli::LoadedModel lm = cli::load_for_cli(o.model);
  const lens::AnswerPools pools = lens::make_answer_pools(cases);
  lens::LabelOptions lo;
  lo.alternatives = o.alternatives;
  const auto labels = lens::label_cases(lm.model, *lm.tokenizer, cases, pools, lo);
  std::map<std::string, int> counts, counts_greedy, counts_prob;
  for (const auto& n : lens::category_names()) counts[n] = counts_greedy[n] = counts_prob[n] = 0;
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < cases.size(); ++i) {
    nlohmann::json row = rows[i].value;
    const auto& lab = labels[i];
    row["category"] = lab.category;
    row["wrong_answer"] = lab.wrong_answer;
    row["label"] = {{"first_hop", hop_json(lab.first)}, {"second_hop", hop_json(lab.second)},
                    {"composition", hop_json(lab.composed)}};
    counts[lab.category]++;
    counts_greedy[lens::categorize(lab.first.greedy_ok, lab.second.greedy_ok, lab.composed.greedy_ok)]++;
    counts_prob[lens::categorize(lab.first.prob_ok, lab.second.prob_ok, lab.composed.prob_ok)]++;
    out.push_back(std::move(row));
  }
  data::write_jsonl(o.out, out);
  nlohmann::json summary{{"command", "data label twohop"}, {"data", o.data}, {"n", cases.size()},
                         {"categories", counts}, {"categories_greedy_only", counts_greedy},
                         {"categories_prob_only", counts_prob}};
  std::printf("%s\n", summary.dump(2).c_str());
}

void add_label(CLI::App& data) {
  auto o = std::make_shared<LabelCliOptions>();
  CLI::App* label = data.add_subcommand(
      "label",
      "Label two-hop cases (MQuAKE rows or `data make twohop` rows) by what the model gets right: "
      "first hop, second hop, composition; each by greedy generation AND by whole-answer "
      "probability against the alternatives (answers of other cases of the same relation). "
      "Writes the rows with category (all_right, hops_right_comp_wrong, comp_right_hop_wrong, "
      "hop_wrong), wrong_answer and label details added; prints the counts per category.");
  rs::cli::add_model_options(*label, o->model);
  label->add_option("kind", o->kind, "twohop")->required();
  label->add_option("--data", o->data, "Two-hop JSONL (mquake-2hop or twohop schema)")->required();
  label->add_option("--out,-o", o->out, "Labelled cases (JSONL)")->required();
  label->add_option("--alternatives", o->alternatives, "Alternatives per hop")->capture_default_str();
  label->add_option("--limit", o->limit, "Only the first N rows");
  label->callback([o] { run_label(*o); });
}

rs::cli::Registrar reg{"data-label", "", [](CLI::App& self) {
  rs::cli::attach_under(self, "data", "Datasets: generate (data make), validate (data check), label (data label)", "label", add_label);
}};

}  // namespace
