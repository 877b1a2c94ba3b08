// reasonscope merge --out OUT SHARD_DIR...: the outputs one unsharded run writes, from the
// folders of its `--shard I/N` runs (cli/shard.h; README, "Sharding and merging").
// Every check runs before anything is written; then the shards' rows become one checkpoint at
// the command's own checkpoint place under OUT, and the command line the shards recorded is
// replayed with --resume in this process: it finds every item, computes none (the model is
// loaded, not run), and its second stage writes the outputs atomically over all rows.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "cli/command.h"
#include "cli/shard.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "data/outputs.h"

namespace rs::cli {
namespace {

using nlohmann::json;

struct MergeOptions {
  std::string out;
  std::vector<std::string> shards;
};

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

void remove_checkpoint(const std::string& dir) {
  const std::string rows = dir + "/rows.jsonl";
  if (exists(rows)) {
    const std::string s = read_file(rows);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t nl = s.find('\n', pos);
      if (nl == std::string::npos) nl = s.size();
      try {
        const json j = json::parse(s.substr(pos, nl - pos));
        if (j.contains("tensors")) ::unlink((dir + "/" + j["tensors"].get<std::string>()).c_str());
      } catch (const json::exception&) {
      }
      pos = nl + 1;
    }
  }
  ::unlink(rows.c_str());
  ::unlink((dir + "/settings.json").c_str());
  ::rmdir(dir.c_str());
}

void link_or_copy(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return;
  write_file_atomic(to, read_file(from));  // another file system: copy
}

// One shard's checkpoint lines, checked: whole lines, as many as shard.json says, tensor files present.
std::vector<json> read_rows(const ShardInfo& s) {
  const std::string path = s.dir + "/rows/rows.jsonl";
  std::vector<json> rows;
  const size_t want = s.meta["n_rows"].get<size_t>();
  if (!exists(path)) {
    if (want == 0) return rows;
    fail_as(ExitCode::kBadInput, path, ": missing (shard.json lists ", want, " rows)");
  }
  const std::string text = read_file(path);
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    ++line;
    if (nl == std::string::npos) fail_as(ExitCode::kBadInput, path, ":", line, ": line cut short: the shard is damaged");
    json j;
    try {
      j = json::parse(text.substr(pos, nl - pos));
    } catch (const json::exception&) {
      fail_as(ExitCode::kBadInput, path, ":", line, ": not a checkpoint row");
    }
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("row"))
      fail_as(ExitCode::kBadInput, path, ":", line, ": not a checkpoint row");
    if (j.contains("tensors")) {
      if (!j["tensors"].is_string()) fail_as(ExitCode::kBadInput, path, ":", line, ": 'tensors' must be a file name");
      const std::string tf = j["tensors"].get<std::string>();
      if (tf.empty() || tf.find('/') != std::string::npos || !exists(s.dir + "/rows/" + tf))
        fail_as(ExitCode::kBadInput, path, ":", line, ": tensor file '", tf, "' is missing");
    }
    rows.push_back(std::move(j));
    pos = nl + 1;
  }
  if (rows.size() != want)
    fail_as(ExitCode::kBadInput, path, ": ", rows.size(), " rows, but shard.json lists ", want, ": the shard is damaged");
  return rows;
}

// The command line replayed in this process, through a command tree built as main() builds it.
void replay(const std::vector<std::string>& args) {
  CLI::App app{"reasonscope"};
  app.require_subcommand(1);
  for (auto& spec : command_registry()) spec.setup(*app.add_subcommand(spec.name, spec.help));
  std::vector<std::string> argv_s{"reasonscope"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : argv_s) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    fail_as(ExitCode::kBadInput, "merge: the shards' command line no longer parses (", e.what(), ")");
  }
}

void run_merge(const MergeOptions& o) {
  std::vector<ShardInfo> shards;
  for (const std::string& d : o.shards) shards.push_back(read_shard(d));
  shards = check_shard_set(std::move(shards));
  const json& meta = shards[0].meta;
  if (!meta["data"].is_null()) {
    const std::string path = meta["data"]["path"].get<std::string>();
    if (!exists(path)) fail_as(ExitCode::kBadInput, path, ": the shards' input file is missing (merge reads it again)");
    if (sha256_hex(read_file(path)) != meta["data"]["sha256"].get<std::string>())
      fail_as(ExitCode::kBadInput, path, ": changed since the shards ran (sha256 differs from their shard.json)");
  }
  std::vector<std::vector<json>> rows;
  std::set<std::string> keys;
  for (const ShardInfo& s : shards) {
    rows.push_back(read_rows(s));
    for (const json& j : rows.back())
      if (!keys.insert(j["key"].get<std::string>()).second)
        fail_as(ExitCode::kBadInput, "merge: item '", j["key"].get<std::string>(), "' is in more than one shard (",
                s.dir, "): overlapping shards");
  }

  // Everything checked: now the checkpoint the replay resumes from.
  const bool dir_kind = meta["out_kind"] == "dir";
  const std::string ck = dir_kind ? o.out + "/resume" : o.out + ".resume";
  const bool out_existed = exists(o.out);
  auto clean = [&] {
    remove_checkpoint(ck);
    if (dir_kind && !out_existed) ::rmdir(o.out.c_str());  // only if nothing else landed there
  };
  try {
    if (exists(ck)) remove_checkpoint(ck);
    make_dirs(ck);
    json settings = meta["settings"];
    settings["checkpoint_format"] = 1;  // what cli/checkpoint.cpp stamps on every checkpoint
    write_file_atomic(ck + "/settings.json", settings.dump(2) + "\n");
    AtomicFile out(ck + "/rows.jsonl");
    size_t n = 0;
    for (size_t i = 0; i < shards.size(); ++i)
      for (json j : rows[i]) {
        if (j.contains("tensors")) {
          const std::string tf = std::to_string(n) + ".safetensors";
          link_or_copy(shards[i].dir + "/rows/" + j["tensors"].get<std::string>(), ck + "/" + tf);
          j["tensors"] = tf;
        }
        out.write(data::to_json_line(j) + "\n");
        ++n;
      }
    out.commit();
    log_info(str("merge: ", shards.size(), " shards, ", n, " finished items; running the second stage of `",
                 meta["command"].get<std::string>(), "`"));
    std::vector<std::string> args = meta["args"].get<std::vector<std::string>>();
    args.push_back("--out=" + o.out);
    args.push_back("--resume");
    replay(args);
  } catch (...) {
    clean();
    throw;
  }
  if (exists(ck)) clean();  // the replay removes it; a leftover would only mislead a later --resume
}

Registrar merge_command{
    "merge", "Combine the folders of `--shard I/N` runs into the outputs of one unsharded run",
    [](CLI::App& sub) {
      auto o = std::make_shared<MergeOptions>();
      sub.add_option("--out,-o", o->out,
                     "Where the unsharded run would write: its --out (a folder, or the file of trace, steer train, data label)")
          ->required();
      sub.add_option("shards", o->shards, "The shard folders (each --out of a --shard run), any order")->required();
      sub.footer(
          "Checks that the folders are every shard of one split of one run (same command line, model,\n"
          "options and input file), then writes what the unsharded run writes: items in input order,\n"
          "statistics and selections recomputed over all rows by the command's own code.\n"
          "Example:\n"
          "  for i in 0 1 2; do reasonscope score --data t.jsonl --field text --shard $i/3 --out s/$i; done\n"
          "  reasonscope merge --out runs/score s/0 s/1 s/2");
      sub.callback([o] { run_merge(*o); });
    }};

}  // namespace
}  // namespace rs::cli
