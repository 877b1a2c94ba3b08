// --shard I/N for every command that runs over a dataset, and what `reasonscope merge` checks
// (README, "Sharding and merging").
//
// A dataset command already works item by item with a checkpoint (cli/checkpoint.h): each item's
// result is built from its checkpoint row alone, and the outputs are aggregated from those rows
// in input order, so a resumed run is byte-identical to an uninterrupted one. A shard is that
// checkpoint, restricted to a contiguous block of the items, kept instead of aggregated:
//   <out>/resume/     while the shard runs (--resume continues it, as for any run)
//   <out>/rows/       the finished checkpoint, renamed there when every item of the block is done
//   <out>/shard.json  written last (its presence marks a finished shard): the split, the item
//                     range, the input file (sha256, bytes, lines), the checkpoint settings (the
//                     model, every option rows depend on) and the command line to replay.
// `merge` checks the shards against each other, concatenates their rows into one checkpoint and
// replays the command line with --resume onto it: every item is found, none is computed, and the
// second stage (summary statistics, detector and head selection, k-means, report) runs over all
// rows by the very code an unsharded run uses. Nothing is averaged.
//
// This file is torch-free: tests/cli/test_shard.cpp tests it without a model.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs::cli {

struct ShardSpec {
  int64_t index = 0, count = 0;  // 0 <= index < count
};
// "I/N" -> spec; anything else (4/3, 0/0, -1/2, 1/2x, "") is rs::Error with ExitCode::kUsage.
ShardSpec parse_shard_spec(const std::string& s);

// The items [begin, end) of shard `s` over n items: contiguous blocks in input order whose
// sizes differ by at most one (floor(i*n/N) .. floor((i+1)*n/N)); they tile 0..n exactly.
struct ItemRange {
  size_t begin = 0, end = 0;
};
ItemRange shard_range(size_t n_items, ShardSpec s);

// SHA-256 of bytes, lower-case hex (FIPS 180-4).
std::string sha256_hex(std::string_view bytes);

struct ShardOptions {
  std::string spec;             // empty: the whole input
  const CLI::App* app = nullptr;  // the command, whose options a shard records for merge
};
// Adds --shard, checked while the command line is parsed: a bad value is an rs::Error
// (ExitCode::kUsage) before anything is read or loaded.
void add_shard_option(CLI::App& sub, ShardOptions& o);

// The command's path and the options it was given, minus --out, --resume and --shard, as
// arguments that parse to the same values ("verify", "spectral", "--data=x.jsonl", ...).
std::vector<std::string> replay_args(const CLI::App& app);

// One command run's view of its shard. Inactive (no --shard) it changes nothing.
class Sharding {
 public:
  // out: the command's --out (with --shard, a folder whatever the command writes); data: the
  // input file (empty when the command has none, e.g. trace --prompt).
  Sharding(const ShardOptions& o, std::string out, std::string data);
  bool active() const { return active_; }
  // Where the checkpoint goes: the command's own place, or <out>/resume for a shard.
  std::string checkpoint_dir(const std::string& unsharded_dir);
  // The checkpoint settings: `base` as the command builds them (kept for shard.json), with the
  // shard added for a shard's own checkpoint so --resume never mixes two shards' rows.
  nlohmann::json settings(const nlohmann::json& base);
  // Whether this run computes item i of n (always, unsharded).
  bool owns(size_t i, size_t n_items) const;
  // After the items, before the second stage: a shard moves its checkpoint to <out>/rows and
  // writes shard.json, and the command returns (true). Unsharded: false, nothing done.
  bool finish(const std::string& checkpoint_dir, size_t n_items);

 private:
  const ShardOptions& o_;
  bool active_ = false;
  ShardSpec spec_;
  std::string out_, data_, unsharded_ck_;
  nlohmann::json base_settings_;
};

// What merge knows of one shard folder: its path and its shard.json.
struct ShardInfo {
  std::string dir;
  nlohmann::json meta;
};
// Reads <dir>/shard.json; a folder without one is not a finished shard (rs::Error, kBadInput).
ShardInfo read_shard(const std::string& dir);
// Checks that the shards are exactly one split of one run: same command line, settings
// (model, options) and input; the same N; every index once. rs::Error (kBadInput) naming the
// first problem. Returns the shards sorted by index.
std::vector<ShardInfo> check_shard_set(std::vector<ShardInfo> shards);

}  // namespace rs::cli
