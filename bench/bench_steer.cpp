// Control-vector costs (issue 10, acceptance 5), all measured in one run on the default model:
//   1. training: read resid_post of 500 pairs (1,000 prompts) at every layer and fit a pca-c
//      vector per layer;
//   2. evaluation: score 20 multiple-choice items at one (layer, alpha), per alpha;
//   3. generation: tokens/s of greedy decoding with one steering vector against none, alternated
//      over --reps runs (median), so machine load hits both alike. Target: steering < 3% slower.
//   bench_steer [MODEL] [--threads N] [--reps N] [--pairs N]
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/paths.h"
#include "data/gen_babi15.h"
#include "data/gen_pairs.h"
#include "hooks/hooks.h"
#include "methods/steer/eval.h"
#include "methods/steer/steering.h"
#include "model/generate.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<int64_t> ids_of(const rs::tok::Tokenizer& t, const std::string& s, bool special) {
  std::vector<int32_t> v = t.encode(s, special, false);
  return std::vector<int64_t>(v.begin(), v.end());
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = rs::default_model_path();
  int threads = 1, reps = 5;
  int64_t n_pairs = 500;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--pairs") && i + 1 < argc) n_pairs = std::atoll(argv[++i]);
    else path = argv[i];
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they are measured
  rs::set_threads(threads);
  at::NoGradGuard ng;
  const rs::Model m = rs::load_model(path);
  auto tok = rs::tok::Tokenizer::from_model_path(path);
  const rs::ModelConfig& c = m.config;
  std::printf("model %s, %d thread(s), %lld pairs\n", path.c_str(), threads, static_cast<long long>(n_pairs));

  // 1. Training on babi15 pairs.
  const auto mc = rs::data::make_babi15(static_cast<uint64_t>(n_pairs), 1);
  std::vector<nlohmann::json> rows;
  for (const auto& r : mc) rows.push_back(nlohmann::json::parse(r.dump()));
  const auto pairs = rs::data::make_pairs(rows, "mc", 1);
  std::vector<std::vector<int64_t>> pos, neg;
  size_t tokens = 0;
  for (const auto& p : pairs) {
    pos.push_back(ids_of(*tok, p["positive"].get<std::string>(), true));
    neg.push_back(ids_of(*tok, p["negative"].get<std::string>(), true));
    tokens += pos.back().size() + neg.back().size();
  }
  std::vector<int64_t> layers;
  for (int64_t l = 1; l < c.n_layer; ++l) layers.push_back(l);
  double t0 = now();
  const at::Tensor hp = rs::steer::read_resid_post(m, pos, layers, rs::steer::ReadPosition::Last, 8, 0);
  const at::Tensor hn = rs::steer::read_resid_post(m, neg, layers, rs::steer::ReadPosition::Last, 8, 0);
  const double t_read = now() - t0;
  t0 = now();
  const auto fit = rs::steer::fit_control_vectors(hp, hn, layers, rs::steer::VectorMethod::PcaC, 0.2);
  const double t_fit = now() - t0;
  std::printf("train: %lld pairs (%zu tokens): read %.2f s (%.0f tok/s) + fit %d layers %.2f s = %.2f s\n",
              static_cast<long long>(n_pairs), tokens, t_read, tokens / t_read, static_cast<int>(layers.size()),
              t_fit, t_read + t_fit);

  rs::steer::ControlVectors cv;
  cv.n_embd = c.d_model;
  for (size_t i = 0; i < layers.size(); ++i) cv.layers[layers[i]] = fit.vectors[static_cast<int64_t>(i)];
  const int64_t L = c.n_layer / 2;

  // 2. Evaluation per alpha: 20 items.
  std::vector<rs::steer::McItem> items;
  for (size_t i = 0; i < 20 && i < mc.size(); ++i) {
    rs::steer::McItem it;
    it.prompt = ids_of(*tok, mc[i]["prompt"].get<std::string>(), true);
    it.candidates.push_back(ids_of(*tok, " " + mc[i]["answer"].get<std::string>(), false));
    for (const auto& w : mc[i]["wrong_answers"]) it.candidates.push_back(ids_of(*tok, " " + w.get<std::string>(), false));
    items.push_back(it);
  }
  std::vector<at::Tensor> ref(items.size());
  t0 = now();
  for (size_t i = 0; i < items.size(); ++i) rs::steer::score_mc_item(m, items[i], nullptr, at::Tensor(), &ref[i]);
  const double t_base = now() - t0;
  rs::Hooks h(c);
  rs::steer::add_steering(h, m, cv, {L}, 2.0);
  t0 = now();
  for (size_t i = 0; i < items.size(); ++i) rs::steer::score_mc_item(m, items[i], &h, ref[i]);
  const double t_alpha = now() - t0;
  std::printf("eval: %zu babi15 items per alpha: %.2f s steered (%.3f s/item); unsteered baseline %.2f s (ratio %.3f)\n",
              items.size(), t_alpha, t_alpha / items.size(), t_base, t_alpha / t_base);

  // 3. Generation with one vector vs none, alternated.
  const std::vector<int64_t> prompt = ids_of(*tok, "Sheep are afraid of wolves. Gertrude is a sheep. Gertrude is afraid of", true);
  rs::GenerateOptions go;
  go.max_new_tokens = 64;
  go.stop_at_eos = false;
  std::vector<double> plain, steered;
  for (int r = 0; r < reps + 1; ++r) {
    for (int which = 0; which < 2; ++which) {
      go.hooks = which ? &h : nullptr;
      rs::GenerateStats st;
      rs::generate(m, tok.get(), {prompt}, go, &st);
      if (r == 0) continue;  // warm-up
      (which ? steered : plain).push_back(st.generated_tokens / st.decode_seconds);
    }
  }
  const double tp = median(plain), ts = median(steered);
  std::printf("generate: 64 tokens, median of %d: %.1f tok/s plain, %.1f tok/s with one vector at layer %lld "
              "(steered/plain %.3f, cost %.1f%%)\n",
              reps, tp, ts, static_cast<long long>(L), ts / tp, 100.0 * (1.0 - ts / tp));
  return 0;
}
