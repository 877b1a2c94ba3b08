// Evaluation of the QK-score judges and the model's own answer (qk_eval.h).
#include "methods/qk/qk_eval.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "stats/bootstrap.h"

namespace rs::qk {

namespace {

std::vector<double> row_of(const at::Tensor& t, int64_t n) {  // [N, O] -> row n as doubles
  const at::Tensor r = t[n].to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}

std::vector<int> to_ints(const at::Tensor& b) {  // bool/int [N] -> 0/1
  const at::Tensor c = b.to(at::kCPU, at::kInt).contiguous();
  return std::vector<int>(c.data_ptr<int>(), c.data_ptr<int>() + c.numel());
}

std::vector<std::vector<double>> grid(const at::Tensor& t) {  // [L, H] -> nested
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  std::vector<std::vector<double>> out(static_cast<size_t>(c.size(0)));
  for (int64_t l = 0; l < c.size(0); ++l)
    for (int64_t h = 0; h < c.size(1); ++h) out[static_cast<size_t>(l)].push_back(c[l][h].item<double>());
  return out;
}

double mean_at(const std::vector<int>& x, const std::vector<size_t>& idx, const std::vector<int64_t>& rows) {
  double s = 0;
  for (size_t i : idx) s += x[static_cast<size_t>(rows[i])];
  return idx.empty() ? 0.0 : s / static_cast<double>(idx.size());
}

// One judge: its content scores under both orders and, per row, whether it is right.
struct Judge {
  std::string name;
  std::array<at::Tensor, 2> c;   // [N, O]
  std::vector<int> correct;      // [N] 0/1 (labelled rows): right under both orders
  std::vector<int> correct_avg;  // [N] 0/1: the order-averaged prediction is the answer
  std::vector<int> correct_given;  // [N] 0/1: right in the given order alone
  std::vector<int64_t> choice0, choice1, prediction;
};

Judge make_judge(std::string name, const std::array<at::Tensor, 2>& c, const at::Tensor& answer) {
  Judge j;
  j.name = std::move(name);
  j.c = c;
  j.correct = to_ints(correct_both_orders(c[0], c[1], answer));
  auto ints = [](const at::Tensor& t) {
    const at::Tensor x = t.to(at::kCPU, at::kLong).contiguous();
    return std::vector<int64_t>(x.data_ptr<int64_t>(), x.data_ptr<int64_t>() + x.numel());
  };
  j.choice0 = ints(c[0].argmax(-1));
  j.choice1 = ints(c[1].argmax(-1));
  // the judge's single answer: the content with the highest score summed over both orders
  j.prediction = ints((c[0].to(at::kDouble) + c[1].to(at::kDouble)).argmax(-1));
  j.correct_avg = to_ints(answer_margin(c[0].to(at::kDouble) + c[1].to(at::kDouble), answer).gt(0));
  j.correct_given = to_ints(answer_margin(c[0], answer).gt(0));
  return j;
}

nlohmann::json interval_json(const stats::BootstrapInterval& b) {
  return {{"estimate", b.estimate}, {"low", b.low}, {"high", b.high}};
}

}  // namespace

Evaluation evaluate(const JudgeScores& js, const std::vector<Example>& examples, const SavedHeads& s,
                    const std::vector<int64_t>& calib_rows, const EvalOptions& o) {
  const int64_t N = static_cast<int64_t>(examples.size());
  if (js.heads[0].size(0) != N) fail("qk evaluate: ", N, " examples but ", js.heads[0].size(0), " score rows");
  const int64_t L = js.heads[0].size(1), H = js.heads[0].size(2);
  const bool apply = calib_rows.empty();
  std::vector<int64_t> ans_v;
  for (const Example& e : examples) ans_v.push_back(std::max<int64_t>(e.answer, 0));
  const at::Tensor answer = at::tensor(ans_v, at::kLong);

  const std::set<int64_t> calib(calib_rows.begin(), calib_rows.end());
  std::vector<int64_t> test_rows, labelled_test;
  for (int64_t i = 0; i < N; ++i)
    if (!calib.count(i)) {
      test_rows.push_back(i);
      if (examples[static_cast<size_t>(i)].answer >= 0) labelled_test.push_back(i);
    }
  const bool labels = !labelled_test.empty();

  // ---- judges
  std::vector<Judge> judges;
  judges.push_back(make_judge("top1", head_of(js, s.top1), answer));
  judges.push_back(make_judge("ensemble", ensemble_of(js, s), answer));
  const bool baselines = js.first[0].defined();
  if (baselines) {
    judges.push_back(make_judge("baseline_first_token", {js.first[0], js.first[1]}, answer));
    judges.push_back(make_judge("baseline_sequence", {js.seq[0], js.seq[1]}, answer));
  }

  Evaluation ev;
  nlohmann::json& sum = ev.summary;
  sum["mode"] = apply ? "apply" : "scan";
  sum["n_rows"] = N;
  sum["n_calib"] = calib_rows.size();
  sum["n_test"] = test_rows.size();
  sum["n_test_labelled"] = labelled_test.size();
  sum["top1"] = {{"layer", s.top1.layer}, {"head", s.top1.head}};
  nlohmann::json ens = nlohmann::json::array();
  for (const HeadRef& h : s.ensemble) ens.push_back({{"layer", h.layer}, {"head", h.head}});
  sum["ensemble_heads"] = ens;

  // ---- per-head accuracies, [L][H]
  const at::Tensor head_correct = correct_both_orders(js.heads[0], js.heads[1], answer);  // [N, L, H]
  at::Tensor acc_test;
  sum["head_accuracy_calib"] = apply ? nlohmann::json(nullptr) : nlohmann::json(grid(mean_over_rows(head_correct, calib_rows)));
  if (labels) acc_test = mean_over_rows(head_correct, labelled_test);
  sum["head_accuracy_test"] = labels ? nlohmann::json(grid(acc_test)) : nlohmann::json(nullptr);
  at::Tensor acc_calib, bal_test;
  if (!apply) acc_calib = mean_over_rows(head_correct, calib_rows);
  if (labels) bal_test = balanced_accuracy(head_correct, answer, labelled_test);
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < s.ranking.size() && static_cast<int64_t>(i) < o.n_top_heads; ++i) {
    const RankedHead& r = s.ranking[i];
    if (r.layer >= L || r.head >= H) continue;
    auto cell = [&](const at::Tensor& t) {
      return t.defined() ? nlohmann::json(t[r.layer][r.head].item<double>()) : nlohmann::json(nullptr);
    };
    top.push_back({{"layer", r.layer}, {"head", r.head}, {"calib_accuracy", cell(acc_calib)},
                   {"calib_balanced_accuracy", r.accuracy}, {"test_accuracy", cell(acc_test)},
                   {"test_balanced_accuracy", cell(bal_test)}});
  }
  sum["top_heads"] = top;
  // Majority class of the calibration rows, scored on the test rows: what a constant judge gets.
  if (!apply && labels) {
    std::map<int64_t, int64_t> count;
    for (int64_t r : calib_rows) count[examples[static_cast<size_t>(r)].answer]++;
    int64_t major = count.begin()->first;
    for (const auto& [c, k] : count)
      if (k > count[major]) major = c;
    double hit = 0;
    for (int64_t r : labelled_test) hit += examples[static_cast<size_t>(r)].answer == major;
    sum["baseline_majority_accuracy"] = hit / static_cast<double>(labelled_test.size());
    sum["majority_answer"] = examples[0].options.at(static_cast<size_t>(major));
  } else {
    sum["baseline_majority_accuracy"] = nullptr;
  }

  // ---- accuracies, intervals and gaps on the labelled test rows (paired bootstrap)
  std::map<std::string, const Judge*> by_name;
  for (const Judge& j : judges) by_name[j.name] = &j;
  const char* acc_key[] = {"top1_test_accuracy", "ensemble_test_accuracy", "baseline_first_token_accuracy",
                           "baseline_sequence_accuracy"};
  stats::BootstrapOptions bo;
  bo.n_resamples = o.n_resamples;
  bo.seed = o.seed;
  nlohmann::json ci = nlohmann::json::object(), gaps = nlohmann::json::object();
  for (size_t k = 0; k < 4; ++k) {
    if (k >= judges.size() || !labels) {
      sum[acc_key[k]] = nullptr;
      continue;
    }
    const Judge& j = judges[k];
    std::vector<size_t> all(labelled_test.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    sum[acc_key[k]] = mean_at(j.correct, all, labelled_test);
    const auto b = stats::bootstrap_ci(
        labelled_test.size(), [&](const std::vector<size_t>& rows) { return mean_at(j.correct, rows, labelled_test); }, bo);
    ci[acc_key[k]] = {b.low, b.high};
  }
  if (labels && baselines) {
    for (const char* qk_name : {"top1", "ensemble"})
      for (const char* base : {"baseline_first_token", "baseline_sequence"}) {
        const Judge& a = *by_name[qk_name];
        const Judge& b = *by_name[base];
        auto gap = [&](const std::vector<size_t>& rows) {
          return mean_at(a.correct, rows, labelled_test) - mean_at(b.correct, rows, labelled_test);
        };
        const std::string key = std::string(qk_name) + "_minus_" + std::string(base).substr(9);
        gaps[key] = interval_json(stats::bootstrap_ci(labelled_test.size(), gap, bo));
      }
  }
  sum["ci95"] = ci;
  sum["gaps"] = gaps;
  // The same judges scored leniently: their order-averaged prediction (scores summed over both
  // orders), and the given order alone. A judge with a position bias loses most under "both".
  nlohmann::json variants = nlohmann::json::object(), gaps_avg = nlohmann::json::object();
  if (labels) {
    std::vector<size_t> all(labelled_test.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    for (const Judge& j : judges) {
      variants["order_averaged"][j.name] = mean_at(j.correct_avg, all, labelled_test);
      variants["given_order"][j.name] = mean_at(j.correct_given, all, labelled_test);
    }
    if (baselines)
      for (const char* qk_name : {"top1", "ensemble"}) {
        const Judge& a = *by_name[qk_name];
        const Judge& b = *by_name["baseline_first_token"];
        auto gap = [&](const std::vector<size_t>& rows) {
          return mean_at(a.correct_avg, rows, labelled_test) - mean_at(b.correct_avg, rows, labelled_test);
        };
        gaps_avg[std::string(qk_name) + "_minus_first_token"] =
            interval_json(stats::bootstrap_ci(labelled_test.size(), gap, bo));
      }
  }
  sum["accuracy_variants"] = variants;
  sum["gaps_order_averaged"] = gaps_avg;
  sum["bootstrap"] = {{"n_resamples", o.n_resamples}, {"seed", o.seed}, {"confidence", 0.95}, {"paired", true}};

  // ---- by depth (hops) on the labelled test rows
  std::map<int64_t, std::vector<size_t>> hop_idx;
  for (size_t i = 0; i < labelled_test.size(); ++i) {
    const int64_t h = examples[static_cast<size_t>(labelled_test[i])].hops;
    if (h >= 0) hop_idx[h].push_back(i);
  }
  nlohmann::json by_hops = nlohmann::json::object();
  for (const auto& [h, idx] : hop_idx) {
    nlohmann::json row = {{"n", idx.size()}};
    for (const Judge& j : judges) row[j.name] = mean_at(j.correct, idx, labelled_test);
    by_hops[std::to_string(h)] = row;
  }
  sum["by_hops"] = by_hops;

  // ---- the top head picks the same content under both orders (every test row)
  {
    const Judge& t = judges[0];
    double same = 0;
    for (int64_t r : test_rows) same += t.choice0[static_cast<size_t>(r)] == t.choice1[static_cast<size_t>(r)];
    sum["order_consistency"] = test_rows.empty() ? 0.0 : same / static_cast<double>(test_rows.size());
    if (baselines) {
      const Judge& b = judges[2];
      double sb = 0;
      for (int64_t r : test_rows) sb += b.choice0[static_cast<size_t>(r)] == b.choice1[static_cast<size_t>(r)];
      sum["order_consistency_baseline_first_token"] = test_rows.empty() ? 0.0 : sb / static_cast<double>(test_rows.size());
      // Options that all begin with the same token ("Sam is ..." / "Sam is not ...") get one
      // first-token score: that baseline cannot judge those rows (a tie counts as wrong), and the
      // option log-likelihood is the model's answer to read there.
      const auto first = js.first[0].accessor<double, 2>();
      int64_t tied = 0;
      for (int64_t r : test_rows) {
        bool same = true;
        for (int64_t k = 1; k < first.size(1); ++k) same = same && first[r][k] == first[r][0];
        tied += same;
      }
      sum["first_token_tied_rows"] = tied;
    }
  }

  // ---- examples.jsonl rows
  for (int64_t n = 0; n < N; ++n) {
    const Example& e = examples[static_cast<size_t>(n)];
    nlohmann::json row = {{"line", e.line}, {"id", e.id}, {"split", apply ? "apply" : calib.count(n) ? "calib" : "test"}};
    row["hops"] = e.hops >= 0 ? nlohmann::json(e.hops) : nlohmann::json(nullptr);
    row["options"] = e.options;
    row["answer_index"] = e.answer >= 0 ? nlohmann::json(e.answer) : nlohmann::json(nullptr);
    for (const Judge& j : judges) {
      nlohmann::json jr = {{"scores", {row_of(j.c[0], n), row_of(j.c[1], n)}},
                           {"choice", {j.choice0[static_cast<size_t>(n)], j.choice1[static_cast<size_t>(n)]}},
                           {"prediction", j.prediction[static_cast<size_t>(n)]}};
      jr["correct"] = e.answer >= 0 ? nlohmann::json(j.correct[static_cast<size_t>(n)] != 0) : nlohmann::json(nullptr);
      if (j.name == "top1") {
        jr["layer"] = s.top1.layer;
        jr["head"] = s.top1.head;
      }
      row[j.name] = jr;
    }
    row["prediction"] = e.options[static_cast<size_t>(judges[1].prediction[static_cast<size_t>(n)])];
    ev.examples.push_back(std::move(row));
  }

  // ---- score distributions of the best heads: the answer vs the other options (test rows)
  if (labels) {
    for (size_t i = 0; i < s.ranking.size() && i < 3; ++i) {
      Evaluation::Distribution d;
      d.head = {s.ranking[i].layer, s.ranking[i].head};
      const auto c = head_of(js, d.head);
      for (int64_t r : labelled_test)
        for (int o2 = 0; o2 < 2; ++o2) {
          const std::vector<double> v = row_of(c[static_cast<size_t>(o2)], r);
          for (size_t k = 0; k < v.size(); ++k)
            (static_cast<int64_t>(k) == examples[static_cast<size_t>(r)].answer ? d.right : d.wrong).push_back(v[k]);
        }
      ev.distributions.push_back(std::move(d));
    }
  }
  return ev;
}

}  // namespace rs::qk
