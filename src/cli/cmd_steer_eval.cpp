// reasonscope steer eval: accuracy, KL and entropy of a task under steering, for every (layer,
// alpha) on a calibration split; the best pair is then reported once on the held-out test split
// against the unsteered baseline with a paired bootstrap interval (METHODS.md section 3).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "cli/steer_commands.h"
#include "core/atomic_file.h"
#include "data/gen_pairs.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/eval.h"
#include "methods/steer/steering.h"
#include "model/generate.h"
#include "stats/bootstrap.h"
#include "cli/steer_report.h"

namespace rs::cli {
namespace {

struct EvalOptions {
  ModelOptions model;
  std::string vector, data, format, out, layer, layers, alphas = "-4,-2,-1,-0.5,0,0.5,1,2,4";
  int64_t calib = -1;
  int64_t limit = 0;
  std::string select_by = "first_token";
  int64_t max_new_tokens = 256;
  int bootstrap = 2000;
  bool resume = false;
  std::string scoring = "shared";
  int64_t batch = 0;
  ShardOptions shard;
};

struct Item {
  std::string id, where, prompt_text, answer_text;
  steer::McItem mc;  // gsm8k: prompt only
};

std::vector<double> parse_alphas(const std::string& s) {
  std::vector<double> out;
  for (const std::string& item : split_commas(s)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || !std::isfinite(v))
      fail("--alpha: expected a comma list of numbers like -2,-1,0,1,2; got '", s, "'");
    out.push_back(v);
  }
  if (std::find(out.begin(), out.end(), 0.0) == out.end()) out.push_back(0.0);  // the baseline
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string str_field(const nlohmann::json& v, const std::string& where, const char* name) {
  auto it = v.find(name);
  if (it == v.end()) fail(where, ": field '", name, "' is missing");
  if (!it->is_string()) fail(where, ": field '", name, "' must be a string, found ", it->type_name());
  return it->get<std::string>();
}

std::string guess_format(const nlohmann::json& row) {
  if (row.contains("wrong_answers")) return "mcq";
  if (row.contains("context") && row.contains("query")) return "prontoqa";
  if (row.contains("question") && row.contains("answer")) return "gsm8k";
  return "";
}

std::vector<Item> read_items(const EvalOptions& o, std::string& format, const tok::Tokenizer& t) {
  std::vector<Item> items;
  data::JsonlReader reader(o.data);
  data::JsonlRow r;
  while (reader.next(r)) {
    const std::string where = str(o.data, ":", r.line);
    if (!r.value.is_object()) fail(where, ": expected a JSON object");
    if (format.empty()) {
      format = guess_format(r.value);
      if (format.empty())
        fail(where, ": cannot tell the format (mcq needs prompt/answer/wrong_answers, prontoqa "
                    "context/query/answer, gsm8k question/answer); pass --format");
    }
    Item it;
    it.where = where;
    it.id = r.value.contains("id") && r.value["id"].is_string() ? r.value["id"].get<std::string>() : where;
    std::vector<std::string> cands;
    if (format == "mcq") {
      it.prompt_text = str_field(r.value, where, "prompt");
      it.answer_text = str_field(r.value, where, "answer");
      auto w = r.value.find("wrong_answers");
      if (w == r.value.end() || !w->is_array() || w->empty())
        fail(where, ": field 'wrong_answers' must be a non-empty array of strings");
      cands.push_back(it.answer_text);
      for (const auto& x : *w) {
        if (!x.is_string()) fail(where, ": field 'wrong_answers' must hold strings");
        cands.push_back(x.get<std::string>());
      }
    } else if (format == "prontoqa") {
      it.prompt_text = data::prontoqa_question(str_field(r.value, where, "context"), str_field(r.value, where, "query"));
      it.answer_text = str_field(r.value, where, "answer");
      if (it.answer_text != "True" && it.answer_text != "False")
        fail(where, ": field 'answer' must be \"True\" or \"False\", found \"", it.answer_text, "\"");
      cands = {it.answer_text, it.answer_text == "True" ? "False" : "True"};
    } else {  // gsm8k
      it.prompt_text = "Question: " + str_field(r.value, where, "question") + "\nAnswer:";
      it.answer_text = steer::extract_final_number(str_field(r.value, where, "answer"));
      if (it.answer_text.empty()) fail(where, ": field 'answer' has no number (expected \"... #### N\")");
    }
    if (it.prompt_text.empty()) fail(where, ": the prompt is empty");
    it.mc.id = where;
    it.mc.prompt = encode_prompt(t, it.prompt_text, false);
    for (const std::string& c : cands) {
      if (c.empty()) fail(where, ": an answer candidate is empty");
      std::vector<int32_t> ids = t.encode(" " + c, false, false);
      it.mc.candidates.emplace_back(ids.begin(), ids.end());
    }
    it.mc.correct = 0;
    items.push_back(std::move(it));
    if (o.limit > 0 && static_cast<int64_t>(items.size()) >= o.limit) break;
  }
  if (items.size() < 2) fail(o.data, ": need at least 2 rows (calibration + test), found ", items.size());
  return items;
}

// One (layer, alpha) over a set of items.
struct Agg {
  int64_t layer = 0;
  double alpha = 0;
  std::vector<steer::ItemScore> scores;
  std::vector<int> ok_first, ok_seq;
  double mean(double steer::ItemScore::*f) const {
    double s = 0;
    for (const auto& x : scores) s += x.*f;
    return scores.empty() ? 0.0 : s / static_cast<double>(scores.size());
  }
  static double frac(const std::vector<int>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  }
  nlohmann::json row() const {
    return {{"layer", layer}, {"alpha", alpha}, {"accuracy_first_token", frac(ok_first)},
            {"accuracy_sequence", frac(ok_seq)}, {"mean_kl", mean(&steer::ItemScore::kl)},
            {"mean_entropy_bits", mean(&steer::ItemScore::entropy_bits)},
            {"p_correct", mean(&steer::ItemScore::p_correct)},
            {"p_incorrect", mean(&steer::ItemScore::p_incorrect)}, {"n", scores.size()}};
  }
};

void run_eval(const EvalOptions& o) {
  if (o.layer.empty() == o.layers.empty()) fail_as(ExitCode::kUsage, "give --layer L or --layers A-B (one of them)");
  if (o.select_by != "first_token" && o.select_by != "sequence")
    fail("--select-by: expected first_token or sequence, got '", o.select_by, "'");
  const std::vector<double> alphas = parse_alphas(o.alphas);
  const steer::ControlVectors cv = classify(ExitCode::kBadInput, [&] { return steer::read_control_vectors(o.vector); });
  LoadedModel lm = load_for_cli(o.model);
  const ModelConfig& cfg = lm.model.config;
  classify(ExitCode::kBadInput, [&] { steer::check_against_model(cv, cfg.d_model, cfg.n_layer, o.vector); });
  const std::vector<int64_t> layers =
      o.layer.empty() ? parse_steer_layers("--layers", o.layers, cfg.n_layer)
                      : parse_steer_layers("--layer", o.layer, cfg.n_layer);
  for (int64_t l : layers)
    if (!cv.layers.count(l)) fail(o.vector, ": has no direction for layer ", l);
  std::string format = o.format;
  std::vector<Item> items = classify(ExitCode::kBadInput, [&] { return read_items(o, format, *lm.tokenizer); });
  for (const Item& it : items) check_prompt_fits(cfg, it.mc.prompt.size(), it.where, format == "gsm8k" ? o.max_new_tokens : 8);
  const bool gen = format == "gsm8k";

  // Calibration / test split: a seeded shuffle, then the first n_calib rows calibrate.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(o.model.seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t n_calib = o.calib >= 0 ? static_cast<size_t>(o.calib) : items.size() / 3;
  if (n_calib < 1 || n_calib >= items.size())
    fail("--calib ", n_calib, ": need at least one calibration and one test row (", items.size(), " rows)");
  std::vector<size_t> calib(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_calib));
  std::vector<size_t> test(order.begin() + static_cast<std::ptrdiff_t>(n_calib), order.end());

  at::NoGradGuard no_grad;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<at::Tensor> ref(items.size());  // unsteered next-token log-probs per item
  std::vector<std::string> generated(items.size());
  auto score = [&](size_t i, Hooks* h, bool is_ref, std::string* text) {
    const Item& it = items[i];
    steer::ItemScore s;
    if (!gen) {
      s = steer::score_mc_item(lm.model, it.mc, h, ref[i], is_ref ? &ref[i] : nullptr);
      if (is_ref) s.kl = 0;
      return s;
    }
    // gsm8k: next-token KL / entropy after the prompt, then greedy generation.
    ForwardOptions fo;
    fo.hooks = h;
    fo.logits = LogitsMode::Last;
    const at::Tensor lp = at::log_softmax(
        forward(lm.model, at::tensor(it.mc.prompt, at::kLong).view({1, -1}), at::Tensor(), fo).view({-1}), 0).cpu();
    if (is_ref) ref[i] = lp;
    s.kl = is_ref ? 0.0 : steer::kl_divergence(ref[i], lp);
    s.entropy_bits = steer::entropy_bits(lp);
    GenerateOptions go;
    go.max_new_tokens = o.max_new_tokens;
    go.hooks = h;
    go.stop_strings = {"\nQuestion:", "\n\n\n"};
    const auto g = generate(lm.model, lm.tokenizer.get(), {it.mc.prompt}, go);
    if (text) *text = g[0].text;
    s.first_token_correct = s.sequence_correct = steer::same_number(steer::extract_final_number(g[0].text), it.answer_text);
    s.p_correct = s.p_incorrect = std::nan("");
    return s;
  };
  // --scoring shared (mcq, prontoqa; dequantised weights): each item's settings share the
  // unsteered blocks below their layer and run as rows of a batch (steer::score_mc_item_settings).
  const bool shared = o.scoring == "shared" && !gen && !lm.model.native;
  if (o.batch < 0) fail_as(ExitCode::kUsage, "--batch: expected 0 (a layer's settings at once) or more, got ", o.batch);
  // Every (layer, alpha, item) score is checkpointed (cli/checkpoint.h), with the unsteered
  // next-token log-probs of a baseline run, which later KLs read: a resumed run reads back the
  // same numbers, and the same tensor in its dtype and on its device.
  const nlohmann::json settings = {
      {"command", "steer eval"}, {"vector", file_fingerprint(o.vector)}, {"data", file_fingerprint(o.data)},
      {"format", format}, {"layers", layers}, {"alphas", alphas}, {"calib", o.calib}, {"limit", o.limit},
      {"select_by", o.select_by}, {"max_new_tokens", o.max_new_tokens}, {"model", model_settings(o.model, lm.path)},
      {"scoring", {{"version", 2}, {"path", shared ? "shared-prefix" : "separate"}, {"batch", shared ? o.batch : 1}}}};
  Sharding shard(o.shard, o.out, o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_dir(o.out)), shard.settings(settings), o.resume, "steer eval");
  const size_t n_scores_max = items.size() * (1 + layers.size() * alphas.size());
  auto key_of = [](int64_t layer, double alpha, size_t i) { return str(layer, "/", nlohmann::json(alpha).dump(), "/", i); };
  auto store = [&](const std::string& key, size_t i, const steer::ItemScore& s, const std::string& t, bool is_ref) {
    nlohmann::json row = {{"first_token_correct", s.first_token_correct}, {"sequence_correct", s.sequence_correct},
                          {"kl", s.kl}, {"entropy_bits", s.entropy_bits}, {"p_correct", s.p_correct},
                          {"p_incorrect", s.p_incorrect}, {"candidate_logprobs", s.candidate_logprobs}, {"text", t}};
    std::map<std::string, at::Tensor> tensors;
    if (is_ref) {
      row["ref_dtype"] = static_cast<int>(ref[i].scalar_type());
      row["ref_device"] = ref[i].device().str();
      tensors["ref"] = ref[i];
    }
    return &ck.add(key, row, tensors);
  };
  auto score_checkpointed = [&](size_t i, int64_t layer, double alpha, Hooks* h, bool is_ref, std::string* text) {
    const std::string key = key_of(layer, alpha, i);
    const nlohmann::json* prev = ck.find(key);
    if (!prev) {
      ck.check_interrupt(n_scores_max);
      std::string t;
      const steer::ItemScore s = score(i, h, is_ref, &t);
      prev = store(key, i, s, t, is_ref);
    } else if (is_ref) {
      ref[i] = ck.tensors(key).at("ref").to(at::Device((*prev)["ref_device"].get<std::string>()),
                                            static_cast<at::ScalarType>((*prev)["ref_dtype"].get<int>()));
    }
    auto num = [](const nlohmann::json& v) { return v.is_null() ? std::nan("") : v.get<double>(); };  // NaN -> null
    steer::ItemScore s;
    s.first_token_correct = (*prev)["first_token_correct"].get<bool>();
    s.sequence_correct = (*prev)["sequence_correct"].get<bool>();
    s.kl = num((*prev)["kl"]);
    s.entropy_bits = num((*prev)["entropy_bits"]);
    s.p_correct = num((*prev)["p_correct"]);
    s.p_incorrect = num((*prev)["p_incorrect"]);
    for (const auto& v : (*prev)["candidate_logprobs"]) s.candidate_logprobs.push_back(num(v));
    if (text) *text = (*prev)["text"].get<std::string>();
    return s;
  };
  // Shared path: every score of item i the run will read, the unsteered one and `want`'s
  // (layer, alpha), computed at once where missing and checkpointed under the keys the
  // separate path uses (an alpha of 0 is the unsteered score, as there).
  std::map<int64_t, at::Tensor> vec_of;
  for (int64_t l : layers) vec_of[l] = cv.layers.at(l).to(lm.model.device(), lm.model.dtype());
  auto fill = [&](size_t i, const std::vector<std::pair<int64_t, double>>& want, Progress* pr) {
    if (!shared || !shard.owns(i, items.size())) return;
    if (pr) pr->tick(1 + want.size());
    const bool need_base = !ck.find(key_of(-1, 0.0, i));
    std::vector<steer::SteerSetting> todo;
    std::vector<std::string> todo_keys, zero_keys;
    for (const auto& [l, a] : want) {
      const std::string key = key_of(l, a, i);
      if (ck.find(key)) continue;
      if (a == 0.0) {
        zero_keys.push_back(key);
        continue;
      }
      todo.push_back({l, vec_of.at(l), a});
      todo_keys.push_back(key);
    }
    if (!need_base && todo.empty() && zero_keys.empty()) return;
    ck.check_interrupt(n_scores_max);
    at::Tensor lp;
    const std::vector<steer::ItemScore> sc = steer::score_mc_item_settings(lm.model, items[i].mc, todo, o.batch, &lp);
    if (need_base) {
      ref[i] = lp;
      store(key_of(-1, 0.0, i), i, sc[0], "", true);
    }
    for (const std::string& k : zero_keys) store(k, i, sc[0], "", false);
    for (size_t j = 0; j < todo.size(); ++j) store(todo_keys[j], i, sc[j + 1], "", false);
  };
  std::vector<std::pair<int64_t, double>> steered_settings, all_settings;
  for (int64_t l : layers)
    for (double a : alphas) {
      all_settings.emplace_back(l, a);
      if (a != 0.0) steered_settings.emplace_back(l, a);
    }

  auto run_config = [&](const std::vector<size_t>& rows, int64_t layer, double alpha, Progress* pr,
                        std::vector<std::string>* texts) {
    Agg a;
    a.layer = layer;
    a.alpha = alpha;
    Hooks h(cfg);
    const bool base = alpha == 0.0;
    if (!base) steer::add_steering(h, lm.model, cv, {layer}, alpha);
    for (size_t i : rows) {
      if (!shard.owns(i, items.size())) continue;
      std::string text;
      a.scores.push_back(score_checkpointed(i, layer, alpha, base ? nullptr : &h, base && !ref[i].defined(), &text));
      a.ok_first.push_back(a.scores.back().first_token_correct);
      a.ok_seq.push_back(a.scores.back().sequence_correct);
      if (texts) texts->push_back(text);
      if (pr) pr->tick();
    }
    return a;
  };

  // 1. Calibration sweep: the baseline once, then every (layer, alpha != 0).
  const size_t n_steered = std::count_if(alphas.begin(), alphas.end(), [](double a) { return a != 0.0; });
  Progress pcal("steer eval (calibration)", calib.size() * (1 + layers.size() * n_steered));
  Progress* pcal_ticks = shared ? nullptr : &pcal;
  for (size_t i : calib) fill(i, steered_settings, &pcal);
  const Agg base_calib = run_config(calib, -1, 0.0, pcal_ticks, nullptr);
  std::vector<Agg> sweep;
  for (int64_t l : layers)
    for (double a : alphas) {
      if (a == 0.0) {
        Agg b = base_calib;
        b.layer = l;
        sweep.push_back(b);
      } else {
        sweep.push_back(run_config(calib, l, a, pcal_ticks, nullptr));
      }
    }
  pcal.done();
  if (shard.active()) {
    // The selection below needs every calibration row, so a shard cannot know which (layer,
    // alpha) the test split will use: it scores its test rows under every one (and the
    // baseline), and the merge reads the selected ones.
    Progress pshard("steer eval (test, every setting)", test.size() * (1 + layers.size() * alphas.size()));
    Progress* pshard_ticks = shared ? nullptr : &pshard;
    for (size_t i : test) fill(i, all_settings, &pshard);
    run_config(test, -1, 0.0, pshard_ticks, nullptr);
    for (int64_t l : layers)
      for (double a : alphas) run_config(test, l, a, pshard_ticks, nullptr);
    ck.check_interrupt(n_scores_max);
    pshard.done();
    shard.finish(ck.dir(), items.size());
    return;
  }
  // 2. Select on calibration accuracy; ties go to the smaller |alpha| (the baseline first).
  const bool by_first = o.select_by == "first_token";
  const Agg* best = nullptr;
  for (const Agg& a : sweep) {
    const double acc = Agg::frac(by_first ? a.ok_first : a.ok_seq);
    if (!best) { best = &a; continue; }
    const double bacc = Agg::frac(by_first ? best->ok_first : best->ok_seq);
    if (acc > bacc + 1e-12 || (std::fabs(acc - bacc) <= 1e-12 && std::fabs(a.alpha) < std::fabs(best->alpha))) best = &a;
  }
  const int64_t sel_layer = best->layer;
  const double sel_alpha = best->alpha;

  // 3. Test split: baseline and the selected steering.
  Progress ptest("steer eval (test)", test.size() * 2);
  std::vector<std::string> base_texts, steer_texts;
  Progress* ptest_ticks = shared ? nullptr : &ptest;
  for (size_t i : test) fill(i, {{sel_layer, sel_alpha}}, &ptest);
  const Agg base_test = run_config(test, -1, 0.0, ptest_ticks, gen ? &base_texts : nullptr);
  const Agg steer_test = run_config(test, sel_layer, sel_alpha, ptest_ticks, gen ? &steer_texts : nullptr);
  ck.check_interrupt(n_scores_max);
  ptest.done();
  const std::vector<int>& bt = by_first ? base_test.ok_first : base_test.ok_seq;
  const std::vector<int>& st = by_first ? steer_test.ok_first : steer_test.ok_seq;
  stats::BootstrapOptions bo;
  bo.n_resamples = o.bootstrap;
  bo.seed = o.model.seed;
  auto mean_of = [](const std::vector<int>& v, const std::vector<size_t>& rows) {
    double s = 0;
    for (size_t r : rows) s += v[r];
    return s / static_cast<double>(rows.size());
  };
  const auto ci_delta = stats::bootstrap_ci(test.size(), [&](const std::vector<size_t>& rows) {
    return mean_of(st, rows) - mean_of(bt, rows);
  }, bo);
  const auto ci_base = stats::bootstrap_ci(test.size(), [&](const std::vector<size_t>& rows) { return mean_of(bt, rows); }, bo);
  const auto ci_steer = stats::bootstrap_ci(test.size(), [&](const std::vector<size_t>& rows) { return mean_of(st, rows); }, bo);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Outputs.
  make_dirs(o.out);
  data::JsonlWriter examples(o.out + "/examples.jsonl");
  auto score_json = [&](const steer::ItemScore& s) {
    nlohmann::json j = {{"first_token_correct", s.first_token_correct}, {"sequence_correct", s.sequence_correct},
                        {"kl", s.kl}, {"entropy_bits", s.entropy_bits}};
    if (!gen) {
      j["p_correct"] = s.p_correct;
      j["p_incorrect"] = s.p_incorrect;
      j["candidate_logprobs"] = s.candidate_logprobs;
    }
    return j;
  };
  for (size_t k = 0; k < calib.size(); ++k) {
    const Item& it = items[calib[k]];
    examples.write({{"id", it.id}, {"line", it.where}, {"split", "calib"}, {"answer", it.answer_text},
                    {"baseline", score_json(base_calib.scores[k])}});
  }
  for (size_t k = 0; k < test.size(); ++k) {
    const Item& it = items[test[k]];
    nlohmann::json row = {{"id", it.id}, {"line", it.where}, {"split", "test"}, {"answer", it.answer_text},
                          {"baseline", score_json(base_test.scores[k])}, {"steered", score_json(steer_test.scores[k])}};
    if (gen) {
      row["baseline"]["text"] = base_texts[k];
      row["steered"]["text"] = steer_texts[k];
    }
    examples.write(row);
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const Agg& a : sweep) rows.push_back(a.row());
  nlohmann::json training = nullptr;
  try {
    std::ifstream f(train_summary_path(o.vector));
    if (f) training = nlohmann::json::parse(f);
  } catch (const std::exception&) {
    training = nullptr;
  }
  nlohmann::json summary = {
      {"command", "steer eval"}, {"model", lm.path}, {"vector", o.vector},
      {"method", cv.info.count("method") ? nlohmann::json(cv.info.at("method")) : nlohmann::json(nullptr)},
      {"data", o.data}, {"format", format}, {"n_items", items.size()}, {"n_calib", calib.size()},
      {"n_test", test.size()}, {"layers", layers}, {"alphas", alphas}, {"select_by", o.select_by},
      {"rows", rows}, {"selected", {{"layer", sel_layer}, {"alpha", sel_alpha}}},
      {"test",
       {{"metric", o.select_by}, {"n", test.size()},
        {"baseline_accuracy", Agg::frac(bt)}, {"steered_accuracy", Agg::frac(st)},
        {"delta", Agg::frac(st) - Agg::frac(bt)}, {"ci95", {ci_delta.low, ci_delta.high}},
        {"baseline_ci95", {ci_base.low, ci_base.high}}, {"steered_ci95", {ci_steer.low, ci_steer.high}},
        {"baseline_accuracy_first_token", Agg::frac(base_test.ok_first)},
        {"steered_accuracy_first_token", Agg::frac(steer_test.ok_first)},
        {"baseline_accuracy_sequence", Agg::frac(base_test.ok_seq)},
        {"steered_accuracy_sequence", Agg::frac(steer_test.ok_seq)},
        {"steered_mean_kl", steer_test.mean(&steer::ItemScore::kl)},
        {"bootstrap_resamples", o.bootstrap}}},
      {"training_separation", training.is_object() && training.contains("layers") ? training["layers"] : nlohmann::json(nullptr)},
      {"dtype", o.model.dtype}, {"seconds", seconds}};
  data::stamp_layer_convention(summary);
  const report::Report page = build_steer_eval_report(summary);
  examples.commit();
  data::write_summary_json(o.out + "/summary.json", summary);
  page.write(o.out + "/report.html");
  ck.remove();
  log_info(str("test (", o.select_by, "): baseline ", Agg::frac(bt), " -> steered ", Agg::frac(st), " at layer ",
               sel_layer, " alpha ", sel_alpha, " (delta 95% CI [", ci_delta.low, ", ", ci_delta.high, "]) -> ", o.out));
}

}  // namespace

void setup_steer_eval(CLI::App& steer) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub = steer.add_subcommand("eval", "Task accuracy, KL and entropy under steering; select on calibration, report on test");
  add_model_options(*sub, o->model);
  sub->add_option("--vector", o->vector, "Control vector .gguf")->required();
  sub->add_option("--layer", o->layer, "Steer this block (1..n_layer-1)");
  sub->add_option("--layers", o->layers, std::string("Sweep these layers. ") + kSteerLayersHelp);
  sub->add_option("--alpha", o->alphas, "Comma list of strengths (0, the baseline, is always added)")->capture_default_str();
  sub->add_option("--data", o->data, "Task JSONL (mcq: prompt/answer/wrong_answers; prontoqa; gsm8k)")->required();
  sub->add_option("--format", o->format, "mcq, prontoqa or gsm8k (default: from the first row's fields)")
      ->check(CLI::IsMember({"mcq", "prontoqa", "gsm8k"}));
  sub->add_option("--calib", o->calib, "Rows (after a --seed shuffle) used to choose layer and alpha (default: a third)");
  sub->add_option("--select-by", o->select_by, "first_token or sequence accuracy")->capture_default_str();
  sub->add_option("--max-new-tokens", o->max_new_tokens, "gsm8k: tokens to generate")->capture_default_str();
  sub->add_option("--bootstrap", o->bootstrap, "Bootstrap resamples for the test intervals")->capture_default_str();
  sub->add_option("--limit", o->limit, "Only the first N rows");
  sub->add_option("--out,-o", o->out, "Output directory (summary.json, examples.jsonl, report.html)")->required();
  sub->add_option("--scoring", o->scoring,
                  "shared: each row's settings share the unsteered blocks below their layer and run as the rows "
                  "of one batch (mcq, prontoqa); separate: one whole forward per (layer, alpha, row)")
      ->check(CLI::IsMember({"shared", "separate"}))
      ->capture_default_str();
  sub->add_option("--batch", o->batch, "--scoring shared: settings per forward (0: all of a layer; 1: the same bits as separate)")
      ->capture_default_str();
  sub->add_flag("--resume", o->resume, "Continue an interrupted run from the scores finished in --out/resume");
  add_shard_option(*sub, o->shard);
  sub->footer(
      "summary.json: rows [{layer, alpha, accuracy_first_token, accuracy_sequence, mean_kl,\n"
      "mean_entropy_bits, p_correct, p_incorrect, n}] on the calibration split; selected {layer, alpha};\n"
      "test {baseline_accuracy, steered_accuracy, delta, ci95, ...}.\n"
      "Example: reasonscope steer eval --vector babi.gguf --layers 10-20 --alpha -2,-1,1,2 \\\n"
      "           --data babi15.jsonl --calib 100 --out runs/steer-babi");
  sub->callback([o] { run_eval(*o); });
}

}  // namespace rs::cli
