// reasonscope data label twohop: label two-hop cases by what the model gets right (first hop,
// second hop, composition), by greedy generation and by whole-answer probability against the
// alternatives (methods/lens/twohop_label.h). Writes the input rows with the labels added, so
// the output feeds `patch` and `edit creme` / `edit eval` (which pick a category by default).
//
// Attaches `label` under `data` the way cmd_data_check.cpp attaches `check`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
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
  bool resume = false;
  rs::cli::ShardOptions shard;
};

// Cases labelled per call of label_cases. Its greedy and scoring batches form within a call, so
// a fixed chunk makes the batches (and so the bits) the same whether or not the run was resumed.
constexpr size_t kChunk = 16;

nlohmann::json hop_json(const rs::lens::HopVerdict& v) {
  return {{"greedy", v.greedy}, {"greedy_ok", v.greedy_ok}, {"logp_target", v.logp_target},
          {"best_alternative", v.best_alternative}, {"logp_best_alternative", v.logp_best_alternative},
          {"prob_ok", v.prob_ok}, {"ok", v.ok()}};
}

void run_label(const LabelCliOptions& o) {
  using namespace rs;
  if (o.kind != "twohop") fail("data label: unknown kind '", o.kind, "' (expected twohop)");
  const std::vector<lens::TwohopCase> cases =
      classify(ExitCode::kBadInput, [&] { return lens::read_twohop_cases(o.data, o.limit); });
  const std::vector<data::JsonlRow> rows = classify(ExitCode::kBadInput, [&] { return data::read_jsonl(o.data); });
  cli::LoadedModel lm = cli::load_for_cli(o.model);
  const lens::AnswerPools pools = lens::make_answer_pools(cases);
  lens::LabelOptions lo;
  lo.alternatives = o.alternatives;
  // Chunks finished before an interrupt (cli/checkpoint.h): each case's labels as written.
  const nlohmann::json settings = {{"command", "data label twohop"}, {"data", cli::file_fingerprint(o.data)},
                                   {"alternatives", o.alternatives}, {"limit", o.limit},
                                   {"model", cli::model_settings(o.model, lm.path)}};
  cli::Sharding shard(o.shard, o.out, o.data);
  cli::Checkpoint ck(shard.checkpoint_dir(cli::checkpoint_dir_for_out_file(o.out)), shard.settings(settings), o.resume,
                     "data label");
  const size_t n_chunks = (cases.size() + kChunk - 1) / kChunk;
  std::map<std::string, int> counts, counts_greedy, counts_prob;
  for (const auto& n : lens::category_names()) counts[n] = counts_greedy[n] = counts_prob[n] = 0;
  std::vector<nlohmann::json> out;
  rs::Progress progress("data label", cases.size());
  for (size_t ch = 0; ch < n_chunks; ++ch) {
    if (!shard.owns(ch, n_chunks)) continue;
    const size_t begin = ch * kChunk, end = std::min(cases.size(), begin + kChunk);
    const std::string key = std::to_string(ch);
    const nlohmann::json* prev = ck.find(key);
    if (!prev) {
      ck.check_interrupt(n_chunks);
      const std::vector<lens::TwohopCase> part(cases.begin() + static_cast<std::ptrdiff_t>(begin),
                                               cases.begin() + static_cast<std::ptrdiff_t>(end));
      const auto labels = lens::label_cases(lm.model, *lm.tokenizer, part, pools, lo);
      nlohmann::json js = nlohmann::json::array();
      for (const auto& lab : labels)
        js.push_back({{"category", lab.category}, {"wrong_answer", lab.wrong_answer},
                      {"label", {{"first_hop", hop_json(lab.first)}, {"second_hop", hop_json(lab.second)},
                                 {"composition", hop_json(lab.composed)}}}});
      prev = &ck.add(key, {{"labels", js}});
    }
    const nlohmann::json& labels = prev->at("labels");
    for (size_t i = begin; i < end; ++i) {
      nlohmann::json row = rows[i].value;
      const nlohmann::json& lab = labels.at(i - begin);
      row["category"] = lab.at("category");
      row["wrong_answer"] = lab.at("wrong_answer");
      row["label"] = lab.at("label");
      const nlohmann::json &f = row["label"]["first_hop"], &s = row["label"]["second_hop"], &c = row["label"]["composition"];
      counts[lab.at("category").get<std::string>()]++;
      counts_greedy[lens::categorize(f["greedy_ok"].get<bool>(), s["greedy_ok"].get<bool>(), c["greedy_ok"].get<bool>())]++;
      counts_prob[lens::categorize(f["prob_ok"].get<bool>(), s["prob_ok"].get<bool>(), c["prob_ok"].get<bool>())]++;
      out.push_back(std::move(row));
    }
    progress.tick(end - begin);
  }
  ck.check_interrupt(n_chunks);
  progress.done();
  if (shard.finish(ck.dir(), n_chunks)) return;
  data::write_jsonl(o.out, out);
  nlohmann::json summary{{"command", "data label twohop"}, {"data", o.data}, {"n", cases.size()},
                         {"categories", counts}, {"categories_greedy_only", counts_greedy},
                         {"categories_prob_only", counts_prob}};
  std::printf("%s\n", summary.dump(2).c_str());
  ck.remove();
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
  label->add_flag("--resume", o->resume, "Continue an interrupted run from the chunks finished in OUT.resume/");
  rs::cli::add_shard_option(*label, o->shard);
  label->callback([o] { run_label(*o); });
}

rs::cli::Registrar data_label_command{"data-label", "", [](CLI::App& self) {
  rs::cli::attach_under(self, "data", "Datasets: generate (data make), validate (data check), label (data label)", "label", add_label);
}};

}  // namespace
