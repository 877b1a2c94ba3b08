// The task model: its tokenizer gives one token per word, a short training run lowers the
// loss, an interrupted run resumes to the same weights, and a saved model reloads through the
// ordinary loader (load_hf_dir + tokenizer.json) with identical logits.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/layers.h"
#include "data/gen_instructions.h"
#include "methods/cluster/task_model_io.h"
#include "methods/cluster/trainer.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

using namespace rs;
using namespace rs::cluster;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  std::string d = fs::temp_directory_path().string() + "/rs_cluster_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(d);
  return d;
}

TrainConfig tiny_run() {
  TrainConfig c;
  c.tasks = 4;
  c.distributions = 2;
  c.layers = 2;
  c.d_model = 32;
  c.heads = 2;
  c.steps = 40;
  c.batch = 32;
  c.lr = 3e-3;
  c.warmup = 5;
  c.eval_every = 20;
  c.eval_rows = 48;
  c.train_pool = 1500;
  c.kmeans_restarts = 2;
  c.seed = 3;
  return c;
}

double curve_value(const nlohmann::json& curve, int64_t step, const std::string& split, const std::string& key) {
  for (const auto& p : curve)
    if (p["step"] == step && p["split"] == split) return p[key].get<double>();
  ADD_FAILURE() << "no point at step " << step << " " << split;
  return 0;
}

}  // namespace

TEST(ClusterTaskModel, TokenizerGivesOneTokenPerWord) {
  const std::string dir = temp_dir("tok");
  make_dirs(dir);
  write_task_tokenizer(dir);
  const auto tk = tok::Tokenizer::from_hf_dir(dir);
  EXPECT_EQ(tk->n_vocab(), task_vocab_size());
  EXPECT_EQ(tk->pad_id(), task_vocab_size() - 1);
  for (const auto& w : data::instruction_vocabulary()) {
    EXPECT_EQ(tk->encode(" " + w, false, false).size(), 1u) << w;
    EXPECT_EQ(tk->encode(w, false, false).size(), 1u) << w;
  }
  for (const auto& r : data::make_instructions(50, 1, 8, 4)) {
    const std::string instr = r["instruction"].get<std::string>();
    std::istringstream in(instr);
    size_t words = 0;
    for (std::string w; in >> w;) ++words;
    const auto ids = tk->encode(task_prompt(instr, r["input"].get<std::string>()), false, false);
    EXPECT_EQ(ids.size(), words + 2) << instr;  // instruction words, " |", " input"
    EXPECT_EQ(tk->decode(ids), task_prompt(instr, r["input"].get<std::string>()));
  }
  // Text outside the vocabulary still encodes (byte fallback) and decodes exactly.
  EXPECT_EQ(tk->decode(tk->encode("Zebra 42!", false, false)), "Zebra 42!");
  fs::remove_all(dir);
}

TEST(ClusterTaskModel, SavedModelReloadsWithIdenticalLogits) {
  TrainConfig c = tiny_run();
  Model m = make_random_model(task_model_config(c), 11, {}, 0.2);
  m.make_trainable();  // the trainer saves trainable (unfused) weights
  const std::string dir = temp_dir("save");
  save_task_model(m, dir);
  // Unfused, the reloaded model runs exactly the trainer's GEMMs: bitwise equal logits. The
  // default (fused q/k/v and gate/up GEMMs) sums in another order: equal to float rounding.
  LoadOptions unfused;
  unfused.fuse = false;
  Model back = load_model(dir, unfused), fused = load_model(dir);
  const auto tk = tok::Tokenizer::from_model_path(dir);
  EXPECT_EQ(back.config.n_vocab, tk->n_vocab());
  EXPECT_TRUE(back.config.tied_embeddings);
  auto ids = tk->encode(task_prompt("please map the word with dax", "cat"), false, false);
  const Batch b = make_batch({std::vector<int64_t>(ids.begin(), ids.end()), {5, 300, 301}}, tk->pad_id());
  at::NoGradGuard ng;
  const at::Tensor a = forward(m, b.tokens, b.mask), r = forward(back, b.tokens, b.mask);
  EXPECT_EQ((a - r).abs().max().item<double>(), 0.0);
  EXPECT_LT((a - forward(fused, b.tokens, b.mask)).abs().max().item<double>(), 1e-4);
  fs::remove_all(dir);
}

TEST(ClusterTaskModel, ShortRunLowersLossAndResumesExactly) {
  const TrainConfig c = tiny_run();
  const std::string full = temp_dir("full"), cut = temp_dir("cut");
  const TrainResult r = train_task_model(c, full, false);
  ASSERT_EQ(r.steps, c.steps);
  // Evaluations at steps 0, 20, 40 on both splits, at the embeddings and every block.
  EXPECT_EQ(r.accuracy.size(), 6u);
  EXPECT_EQ(r.clustering.size(), 6u * static_cast<size_t>(c.layers + 1));
  EXPECT_EQ(r.clustering[0]["layer"], "embed");
  EXPECT_EQ(r.clustering[1]["layer"], 0);
  EXPECT_EQ(r.clustering[static_cast<size_t>(c.layers)]["layer"], c.layers - 1);
  EXPECT_EQ(r.layers, (std::vector<int64_t>{kEmbedLayer, 0, 1}));
  const double loss0 = curve_value(r.accuracy, 0, "train", "loss");
  const double loss1 = curve_value(r.accuracy, c.steps, "train", "loss");
  EXPECT_LT(loss1, 0.8 * loss0) << loss0 << " -> " << loss1;
  EXPECT_LT(curve_value(r.accuracy, c.steps, "val", "loss"), curve_value(r.accuracy, 0, "val", "loss"));
  EXPECT_EQ(r.ari_by_layer.size(), static_cast<size_t>(c.layers + 1));

  // A run killed after step 25 (last checkpoint: step 20) and resumed ends with the same weights.
  TrainConfig killed = c;
  killed.interrupt_after = 25;
  EXPECT_TRUE(train_task_model(killed, cut, false).interrupted);
  EXPECT_THROW(train_task_model(c, cut, false), rs::Error);  // refuses to overwrite a checkpoint
  // Written as before the layer convention (no stamp; embeddings = 0, block l = l + 1): the
  // resumed curves are converted, not misread.
  const std::string state_path = cut + "/checkpoint/state.json";
  nlohmann::json st = nlohmann::json::parse(read_file(state_path));
  ASSERT_EQ(st.value("layer_convention_version", 0), kLayerConventionVersion);
  st.erase("layer_convention");
  st.erase("layer_convention_version");
  for (auto& p : st["clustering"]) p["layer"] = p["layer"] == "embed" ? 0 : p["layer"].get<int>() + 1;
  write_file_atomic(state_path, st.dump(1));
  const TrainResult resumed = train_task_model(c, cut, true);
  EXPECT_EQ(resumed.resumed_from, 20);
  EXPECT_EQ(resumed.timing.steps_run, 20);
  EXPECT_EQ(resumed.accuracy, r.accuracy);
  ASSERT_EQ(resumed.clustering.size(), r.clustering.size());
  for (size_t i = 0; i < r.clustering.size(); ++i) EXPECT_EQ(resumed.clustering[i]["layer"], r.clustering[i]["layer"]) << i;
  LoadOptions unfused;  // the trainer's own GEMMs, so predictions match bit for bit
  unfused.fuse = false;
  Model a = load_model(full, unfused), b = load_model(cut, unfused);
  const auto wa = a.named_weights(), wb = b.named_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size(); ++i)
    EXPECT_EQ((wa[i].second - wb[i].second).abs().max().item<double>(), 0.0) << wa[i].first;

  // The reloaded model reproduces the reported validation predictions.
  const auto tk = tok::Tokenizer::from_model_path(full);
  int64_t correct = 0;
  for (const auto& row : r.val_examples) {
    auto ids = tk->encode(task_prompt(row["instruction"].get<std::string>(), row["input"].get<std::string>()), false, false);
    at::NoGradGuard ng;
    const at::Tensor logits = forward(a, at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0), {});
    const int64_t pred = logits[0][-1].argmax().item<int64_t>();
    correct += tk->decode({static_cast<int32_t>(pred)}) == " " + row["output"].get<std::string>();
  }
  EXPECT_NEAR(static_cast<double>(correct) / r.val_examples.size(), r.val_accuracy, 1e-12);
  fs::remove_all(full);
  fs::remove_all(cut);
}
