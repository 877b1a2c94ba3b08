// --resume for every command that runs over a dataset (README, "Interrupts and --resume").
//
// A command keeps the rows it has finished in a checkpoint folder beside its outputs
// (<out dir>/resume/ or <out file>.resume/):
//   settings.json  everything the rows depend on: the command, its options, the model, and a
//                  fingerprint (size + FNV-1a 64) of every input file
//   rows.jsonl     one whole line per finished row: {"key", "row"[, "tensors"]}, appended in one
//                  write() each; a line cut short by SIGKILL is dropped on reading
//   <n>.safetensors  the row's tensors, for rows that carry some (trace, steer train, ...),
//                  committed atomically before the row's line is appended
// The command builds each row's final contribution from the row object alone, whether it was
// computed now or read back, and aggregates in input order; JSON numbers read back are the
// same doubles (nlohmann writes the shortest round-trip form), so a resumed run's outputs are
// byte-identical to an uninterrupted run's, save the wall-clock fields each command lists.
// The folder is removed once the outputs are committed.
//
// --resume with a checkpoint made under other settings is refused (exit status 2): mixing rows
// of two configurations would give outputs that neither run produces. Without --resume an old
// checkpoint is discarded.
#pragma once
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command.h"

namespace rs::cli {

// "<bytes>:<fnv1a64 hex>" of a file's contents (reads it once); rs::Error naming the file.
std::string file_fingerprint(const std::string& path);
// Fingerprints of several files (empty list -> empty array).
nlohmann::json files_fingerprint(const std::vector<std::string>& paths);
// What the rows depend on in the model options: the model file (path, size, modification time:
// reading a multi-gigabyte model again only to fingerprint it would cost more than most runs),
// device, dtype, weights, threads (the reduction order of a matrix product can depend on it),
// seed and the --edit file's fingerprint.
nlohmann::json model_settings(const ModelOptions& o, const std::string& model_path);

class Checkpoint {
 public:
  // dir: the checkpoint folder; settings: a JSON object; command: for messages ("score").
  Checkpoint(std::string dir, nlohmann::json settings, bool resume, std::string command);
  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // The row finished under `key` (by this run or the one resumed), or nullptr.
  const nlohmann::json* find(const std::string& key) const;
  // Its tensors (rows added with tensors only); rs::Error if the file is missing or damaged.
  std::map<std::string, at::Tensor> tensors(const std::string& key) const;
  // Appends the finished row; returns it as read back (what a resumed run would see), which is
  // what the command should build its outputs from.
  const nlohmann::json& add(const std::string& key, const nlohmann::json& row,
                            const std::map<std::string, at::Tensor>& tensors = {});
  size_t size() const { return rows_.size(); }
  size_t n_resumed() const { return n_resumed_; }
  const std::string& dir() const { return dir_; }

  // Between two items: if SIGINT/SIGTERM came, throws the interrupt error (exit 130/143) with
  // the line telling how to resume (`total`: the run's number of rows, for that line).
  void check_interrupt(size_t total) const;

  // After the outputs are committed: the checkpoint is no longer needed.
  void remove();

 private:
  std::string dir_, command_;
  int fd_ = -1;
  std::map<std::string, nlohmann::json> rows_;
  std::map<std::string, std::string> tensor_files_;
  size_t n_resumed_ = 0;
  bool removed_ = false;
  void load();
};

// A double as exact JSON: finite values as numbers, +-inf and NaN as the strings "inf", "-inf",
// "nan" (JSON has no such numbers; nlohmann would write null and lose which one it was).
nlohmann::json double_to_json(double v);
double double_from_json(const nlohmann::json& j);

// A small tensor as exact JSON (f32, f64 as doubles; integers as integers) and back, with its
// dtype, for rows whose results are tensors that later sums read: {"dtype", "shape", "data"}.
nlohmann::json tensor_to_json(const at::Tensor& t);
at::Tensor tensor_from_json(const nlohmann::json& j);

// The checkpoint folder of an output: "<dir>/resume" for a directory, "<file>.resume" for a file.
inline std::string checkpoint_dir_for_out_dir(const std::string& out) { return out + "/resume"; }
inline std::string checkpoint_dir_for_out_file(const std::string& out) { return out + ".resume"; }

}  // namespace rs::cli
