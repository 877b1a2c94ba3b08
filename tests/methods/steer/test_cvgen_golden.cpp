// A real llama.cpp cvector-generator file, imported, lands on the right block (issue 10,
// acceptance 2). Golden files from tools/make_cvector_golden.py: cvgen_mean.gguf is the tool's
// own output (llama.cpp 0c1e57098, --method mean, our prompt pairs, F32 copy of the default model)
// and cvgen_mean.json holds the pairs as the tool tokenised them plus llama.cpp's log-probs with
// the file applied. Two checks:
//   1. where the tool measured each vector: direction.N is the unit mean difference
//      (positive - negative, every token row, all-zero rows dropped: the tool's mean.hpp) of OUR
//      blocks.{N-1}.hook_resid_post, and of no other block;
//   2. what llama.cpp does with it: the raw file steers llama.cpp as it steers us at block N
//      (llama.cpp adds direction.N at block N), and the file imported with
//      --from-llama-cpp-cvector (direction.N -> our layer N-1) steers us as llama.cpp steers when
//      given the vectors at the blocks they were measured at; the two differ.
// Tolerance as in test_llamacpp_golden.cpp: 2x the engines' unsteered agreement + 1e-4.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/paths.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/steering.h"
#include "model/model.h"

using namespace rs;
using namespace rs::steer;

namespace {

const std::string kData = std::string(RS_SOURCE_DIR) + "/tests/methods/steer/data/";

struct CvgenGolden : ::testing::Test {
  static Model* model;
  static nlohmann::json golden;
  static void SetUpTestSuite() {
    const std::string path = default_model_path();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    set_threads(1);
    model = new Model(load_model(path));
    std::ifstream f(kData + "cvgen_mean.json");
    golden = nlohmann::json::parse(f);
  }
  static void TearDownTestSuite() {
    delete model;
    model = nullptr;
  }
  void SetUp() override {
    if (!model) GTEST_SKIP() << "default model not found at " << default_model_path();
  }
  static at::Tensor ids_tensor(const nlohmann::json& ids) {
    return at::tensor(ids.get<std::vector<int64_t>>(), at::kLong).view({1, -1});
  }
  // resid_post of every block, [n_layer, T, D] f64.
  at::Tensor resid_post(const nlohmann::json& ids) {
    at::NoGradGuard ng;
    Hooks h(model->config);
    h.capture("blocks.*.hook_resid_post");
    ForwardOptions o;
    o.hooks = &h;
    o.logits = LogitsMode::None;
    forward(*model, ids_tensor(ids), at::Tensor(), o);
    std::vector<at::Tensor> per_block;
    for (int64_t l = 0; l < model->config.n_layer; ++l)
      per_block.push_back(h.get("blocks." + std::to_string(l) + ".hook_resid_post")[0].to(at::kDouble));
    return at::stack(per_block);
  }
  // Our log-probs at the golden's columns, [T, C], and each next token's log-prob, [T-1].
  std::pair<at::Tensor, at::Tensor> ours(const nlohmann::json& p, Hooks* h) {
    at::NoGradGuard ng;
    ForwardOptions o;
    o.hooks = h;
    const at::Tensor ids = ids_tensor(p["ids"]);
    const at::Tensor lp = at::log_softmax(forward(*model, ids, at::Tensor(), o)[0].to(at::kDouble), -1);
    const int64_t T = ids.size(1);
    const at::Tensor next = lp.slice(0, 0, T - 1).gather(1, ids[0].slice(0, 1, T).unsqueeze(1)).squeeze(1);
    return {lp.index_select(1, at::tensor(p["columns"].get<std::vector<int64_t>>(), at::kLong)), next};
  }
  static at::Tensor theirs(const nlohmann::json& p, const std::string& name) {
    const auto rows = p[name].get<std::vector<std::vector<double>>>();
    std::vector<at::Tensor> r;
    for (const auto& row : rows) r.push_back(at::tensor(row, at::kDouble));
    return at::stack(r);
  }
  static at::Tensor theirs_next(const nlohmann::json& p, const std::string& name) {
    return at::tensor(p[name + "_next"].get<std::vector<double>>(), at::kDouble);
  }
  static double maxdiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }
};
Model* CvgenGolden::model = nullptr;
nlohmann::json CvgenGolden::golden;

}  // namespace

TEST_F(CvgenGolden, DirectionNIsTheMeanDifferenceOfBlockNMinusOne) {
  const ControlVectors raw = read_control_vectors(kData + "cvgen_mean.gguf");
  const int64_t n_layer = model->config.n_layer;
  ASSERT_EQ(static_cast<int64_t>(raw.layers.size()), n_layer - 1);  // direction.1 .. direction.29
  ASSERT_EQ(raw.layers.begin()->first, 1);
  ASSERT_EQ(raw.layers.rbegin()->first, n_layer - 1);

  // The tool's mean.hpp at each of our blocks: rows of (h+ - h-) over all pairs and positions,
  // rows with every element <= eps dropped (filter_nonzero_rows), mean row / its norm.
  const double eps = golden["row_filter_eps"].get<double>();
  std::vector<at::Tensor> rows;  // per pair [n_layer, T, D]
  for (const auto& pair : golden["pairs"]) rows.push_back(resid_post(pair["positive_ids"]) - resid_post(pair["negative_ids"]));
  const at::Tensor diff = at::cat(rows, 1);                   // [n_layer, rows, D]
  std::vector<at::Tensor> means;
  for (int64_t l = 0; l < n_layer; ++l) {
    const at::Tensor d = diff[l];
    const at::Tensor kept = d.index({std::get<0>(d.max(1)) > eps});
    const at::Tensor m = kept.mean(0);
    means.push_back(m / m.norm());
  }
  const at::Tensor ours = at::stack(means);                   // [n_layer, D], unit rows

  ReadOptions ro;
  ro.from_llama_cpp_cvector = true;
  const ControlVectors imported = read_control_vectors(kData + "cvgen_mean.gguf", ro);
  double worst_match = 1, best_other = -1;
  for (const auto& [n, v] : raw.layers) {
    const at::Tensor cos = at::matmul(ours, v.to(at::kDouble));  // [n_layer]: cosine with each block
    const int64_t best = cos.argmax().item<int64_t>();
    const double match = cos[n - 1].item<double>();
    EXPECT_EQ(best, n - 1) << "direction." << n << " matches our block " << best;
    EXPECT_GT(match, 0.9999) << "direction." << n;
    worst_match = std::min(worst_match, match);
    const at::Tensor others = at::cat({cos.slice(0, 0, n - 1), cos.slice(0, n)});
    best_other = std::max(best_other, others.max().item<double>());
    // The import puts it on the block it was measured at.
    ASSERT_EQ(imported.layers.count(n - 1), 1u);
    EXPECT_TRUE(imported.layers.at(n - 1).equal(v));
  }
  std::printf("direction.N vs our block N-1's mean difference: worst cosine %.7f; best cosine with any other block %.4f\n",
              worst_match, best_other);
  EXPECT_EQ(golden["measured_block_of_direction"]["direction.11"].get<int64_t>(), 10);  // the script's record agrees
}

TEST_F(CvgenGolden, LlamaCppAppliesDirectionNAtBlockNAndTheImportAtBlockNMinusOne) {
  const ControlVectors raw = read_control_vectors(kData + "cvgen_mean.gguf");
  ReadOptions ro;
  ro.from_llama_cpp_cvector = true;
  const ControlVectors imported = read_control_vectors(kData + "cvgen_mean.gguf", ro);
  const double strength = golden["strength"].get<double>();
  const int64_t first = golden["first_direction"].get<int64_t>(), last = golden["last_direction"].get<int64_t>();
  std::vector<int64_t> at_n, at_n_minus_1;
  for (int64_t n = first; n <= last; ++n) {
    at_n.push_back(n);
    at_n_minus_1.push_back(n - 1);
  }
  for (const auto& p : golden["prompts"]) {
    Hooks h_raw(model->config), h_imported(model->config);
    add_steering(h_raw, *model, raw, at_n, strength);                  // direction.N at block N
    add_steering(h_imported, *model, imported, at_n_minus_1, strength);  // our layer N-1
    const auto [plain, plain_next] = ours(p, nullptr);
    const auto [st_raw, st_raw_next] = ours(p, &h_raw);
    const auto [st_imp, st_imp_next] = ours(p, &h_imported);
    const double agree = std::max(maxdiff(plain, theirs(p, "plain")), maxdiff(plain_next, theirs_next(p, "plain")));
    const double tol = 2 * agree + 1e-4;
    const double d_raw = std::max(maxdiff(st_raw, theirs(p, "raw")), maxdiff(st_raw_next, theirs_next(p, "raw")));
    const double d_imp = std::max(maxdiff(st_imp, theirs(p, "measured")), maxdiff(st_imp_next, theirs_next(p, "measured")));
    const double effect = maxdiff(st_imp, plain), shift = maxdiff(st_imp, theirs(p, "raw"));
    std::printf("%zu tokens: unsteered agreement %.2e (tol %.2e); raw file at block N vs llama.cpp %.2e; "
                "imported at N-1 vs llama.cpp at the measured block %.2e; steering effect %.3f; "
                "imported vs llama.cpp's raw use %.3f\n",
                p["ids"].size(), agree, tol, d_raw, d_imp, effect, shift);
    EXPECT_LT(agree, 1e-3);        // the engines agree on the F32 model
    EXPECT_LT(d_raw, tol);         // llama.cpp adds direction.N at block N, as our reader assumes
    EXPECT_LT(d_imp, tol);         // the import lands where the tool measured
    EXPECT_GT(effect, 100 * tol);  // the vectors really move the log-probs
    EXPECT_GT(shift, 10 * tol);    // and the one-block shift is not a no-op
  }
}
