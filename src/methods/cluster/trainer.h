// Train a small llama-architecture causal LM from scratch on the synthetic instruction tasks
// (METHODS.md section 5; Wu & Varshney, arXiv 2402.12151) and watch its hidden states cluster
// by task. The model is rs::Model run through rs::forward under autograd (make_trainable): the
// same transformer code every other command uses, no second implementation.
//
// Data: data::make_instructions rows -> "<instruction> | <input>" (task_model_io.h); the loss is
// the cross-entropy of the output token predicted at the input token (the last prompt token).
// Held-out validation instances have instruction strings never seen in training: an
// instruction is held out when FNV-1a(instruction) % 5 == 0 (20% of the instruction space), so
// validation tests generalisation to new surface forms of known tasks and mappings.
// Every eval_every steps (and at steps 0 and the last) on eval_rows training and eval_rows
// validation instances: accuracy (argmax over the whole vocabulary), loss, and per layer
// (0 = embeddings, l = after block l) k-means ARI / NMI against the task and the silhouette of
// the task labels.
//
// Checkpoints (out/checkpoint/: weights, AdamW state, step, curves; the batch of step s is a
// pure function of (seed, s), so the step is the whole RNG state) are written after every
// evaluation by building checkpoint.tmp/ and renaming it into place: an interrupted run resumes
// from the last complete one.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "methods/cluster/hidden_states.h"

namespace rs::cluster {

enum class TrainPosition { Input, Separator, InstructionMean };
TrainPosition parse_train_position(const std::string& s);  // input | separator | mean
const char* train_position_name(TrainPosition p);

struct TrainConfig {
  int tasks = 8;
  int distributions = 4;
  int64_t layers = 6;
  int64_t d_model = 128;
  int64_t heads = 4;
  int64_t steps = 600;
  int64_t batch = 64;
  double lr = 2e-3;          // peak; linear warm-up then cosine decay to lr / 10
  int64_t warmup = 50;
  double weight_decay = 0.01;  // AdamW (Loshchilov & Hutter 2019), matrices only
  double grad_clip = 1.0;
  int64_t eval_every = 25;
  int64_t eval_rows = 512;     // per split
  int64_t train_pool = 20000;  // generated training rows (before removing held-out ones)
  int kmeans_restarts = 10;
  // Where the clustered hidden state is read: Input = the input token (the last prompt token,
  // where the output is predicted); Separator = the " |" token (the whole instruction seen, the
  // input not yet); InstructionMean = mean over the instruction tokens. Causal attention makes
  // the states at these positions independent of what follows, so they are computed on the
  // truncated sequences.
  TrainPosition position = TrainPosition::Input;
  uint64_t seed = 0;
  // Tests only: return right after this optimizer step, as if the process had been killed
  // there (no final model, no final evaluation; checkpoints as written so far). 0 = never.
  int64_t interrupt_after = 0;
  nlohmann::json to_json() const;
};

struct TrainTiming {
  double forward_s = 0, backward_s = 0, optimizer_s = 0, eval_s = 0, checkpoint_s = 0, total_s = 0;
  int64_t steps_run = 0;  // optimizer steps run in this process (not counting a resumed part)
};

struct TrainResult {
  TrainConfig config;
  int64_t steps = 0;          // optimizer steps done in total
  int64_t resumed_from = -1;  // step of the checkpoint resumed from; -1 when started fresh
  nlohmann::json clustering;  // [{step, split, layer ("embed" or block), ari, nmi, silhouette}]
  nlohmann::json accuracy;    // [{step, split, accuracy, loss}]
  double train_accuracy = 0, val_accuracy = 0;
  std::vector<int64_t> layers;  // what each *_by_layer entry is: kEmbedLayer, then blocks 0..L-1
  std::vector<double> ari_by_layer, nmi_by_layer, silhouette_by_layer;  // validation, last eval
  std::vector<double> train_ari_by_layer, train_nmi_by_layer;
  // For the report: validation hidden states per layer at the first and the last evaluation
  // (the first is absent after a resume), their task labels and names.
  std::vector<at::Tensor> first_val_states, final_val_states;
  int64_t first_eval_step = -1;
  std::vector<int64_t> val_labels;
  std::vector<std::string> task_names;
  nlohmann::json val_examples;  // one object per validation row with the final prediction
  bool interrupted = false;
  int64_t n_params = 0, n_train_rows = 0, n_val_rows = 0, vocab_size = 0;
  TrainTiming timing;
};

// Trains and writes the final model into out_dir (config.json, model.safetensors,
// tokenizer.json, tokenizer_config.json) plus out_dir/checkpoint/. resume: continue from
// out_dir/checkpoint when there is one (the config must match apart from steps); without it an
// existing checkpoint is an error, so a finished run is never overwritten by accident.
TrainResult train_task_model(const TrainConfig& cfg, const std::string& out_dir, bool resume);

// The model config the trainer builds (llama, tied embeddings, SwiGLU width 8/3 d rounded up
// to a multiple of 32, RoPE theta 10^4).
ModelConfig task_model_config(const TrainConfig& cfg);

}  // namespace rs::cluster
