// The trained task model on disk, so every other reasonscope command (and Hugging Face
// transformers) loads it: a llama-architecture directory with config.json, model.safetensors
// (F32, HF tensor names), tokenizer.json and tokenizer_config.json.
//
// The synthetic vocabulary: the 256 byte-level symbols (ids 0..255, so any text still encodes),
// then every word of data::instruction_vocabulary() with and without a leading space, the
// separator " |", and "<pad>" last. tokenizer.json is byte-level BPE with no merges and
// ignore_merges = true (as Llama 3's): a pre-token that is a whole vocabulary entry becomes
// that one token, anything else falls back to single bytes.
#pragma once
#include <string>
#include <vector>

#include "model/model.h"

namespace rs::cluster {

// A prompt as the model sees it: "<instruction> | <input>"; the target is " <output>".
// Separator and input are single tokens, so the last prompt token is the input token.
std::string task_prompt(const std::string& instruction, const std::string& input);
std::string task_target(const std::string& output);

// tokenizer.json / tokenizer_config.json texts, and the vocabulary size they define.
std::string task_tokenizer_json();
std::string task_tokenizer_config_json();
int64_t task_vocab_size();

// Writes tokenizer.json and tokenizer_config.json into dir (atomically).
void write_task_tokenizer(const std::string& dir);
// config.json for a llama model with these sizes.
std::string llama_config_json(const ModelConfig& c, int64_t pad_id);
// Every weight of m (HF names; lm_head omitted when tied) as F32 into path, atomically.
void save_weights(const Model& m, const std::string& path);
// Copies the tensors of a safetensors file into m's weights (same names and shapes, in place,
// under no-grad). Errors name the file and the missing or mis-shaped tensor.
void load_weights_into(Model& m, const std::string& path);
// config.json + model.safetensors + the tokenizer files into dir.
void save_task_model(const Model& m, const std::string& dir);

}  // namespace rs::cluster
