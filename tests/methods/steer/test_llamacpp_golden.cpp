// Interoperability with llama.cpp's control vectors (issue 10, acceptance 2), against the golden
// file tools/make_steer_golden.py made with llama-cpp-python (F32 copy of the default model, F32
// KV cache; see the script): our file (direction.N = block N) loaded by llama.cpp changes
// llama.cpp's log-probs as it changes ours, within the agreement the two engines have without
// steering. The other direction, a real cvector-generator file imported, is test_cvgen_golden.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/paths.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/steering.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

using namespace rs;
using namespace rs::steer;

namespace {

const std::string kData = std::string(RS_SOURCE_DIR) + "/tests/methods/steer/data/";

struct SteerLlamaCppGolden : ::testing::Test {
  static Model* model;
  static nlohmann::json golden;
  static void SetUpTestSuite() {
    const std::string path = default_model_path();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    set_threads(1);
    model = new Model(load_model(path));
    std::ifstream f(kData + "llamacpp_steer.json");
    golden = nlohmann::json::parse(f);
  }
  static void TearDownTestSuite() {
    delete model;
    model = nullptr;
  }
  void SetUp() override {
    if (!model) GTEST_SKIP() << "default model not found at " << default_model_path();
  }
  // Our log-probs at the golden's columns, [T, C].
  at::Tensor ours(const nlohmann::json& p, Hooks* h) {
    at::NoGradGuard ng;
    const std::vector<int64_t> ids = p["ids"].get<std::vector<int64_t>>();
    ForwardOptions o;
    o.hooks = h;
    const at::Tensor lp = at::log_softmax(forward(*model, at::tensor(ids, at::kLong).view({1, -1}), at::Tensor(), o)[0].to(at::kDouble), -1);
    return lp.index_select(1, at::tensor(p["columns"].get<std::vector<int64_t>>(), at::kLong));
  }
  static at::Tensor theirs(const nlohmann::json& p, const char* name) {
    const auto rows = p[name].get<std::vector<std::vector<double>>>();
    std::vector<at::Tensor> r;
    for (const auto& row : rows) r.push_back(at::tensor(row, at::kDouble));
    return at::stack(r);
  }
  static double maxdiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }
};
Model* SteerLlamaCppGolden::model = nullptr;
nlohmann::json SteerLlamaCppGolden::golden;

}  // namespace

TEST_F(SteerLlamaCppGolden, OurFileSteersLlamaCppAsItSteersUs) {
  const ControlVectors cv = read_control_vectors(kData + "ours_vec.gguf");
  const double alpha = golden["alpha"].get<double>();
  for (const auto& p : golden["prompts"]) {
    Hooks none(model->config), steered(model->config);
    add_steering(steered, *model, cv, {}, alpha);  // every layer in the file, as llama.cpp does
    const at::Tensor plain = ours(p, nullptr), st = ours(p, &steered);
    const double agree = maxdiff(plain, theirs(p, "plain"));
    const double tol = 2 * agree + 1e-4;
    const double effect = maxdiff(st, plain);
    const double diff = maxdiff(st, theirs(p, "ours_all_layers"));
    std::printf("%zu tokens: unsteered agreement %.2e, steering effect %.3f, steered difference %.2e (tol %.2e)\n",
                p["ids"].size(), agree, effect, diff, tol);
    EXPECT_LT(agree, 1e-3);        // the engines agree on the F32 model
    EXPECT_GT(effect, 100 * tol);  // the vector really moves the log-probs
    EXPECT_LT(diff, tol);
  }
}
