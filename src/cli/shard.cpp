#include "cli/shard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/folder.h"
#include "core/log.h"

namespace rs::cli {

using nlohmann::json;

namespace {

constexpr int kShardFormat = 1;

bool parse_nonneg(const std::string& s, int64_t& v) {
  if (s.empty() || s.size() > 9) return false;  // 9 digits: no overflow, and no real split is larger
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return true;
}

size_t count_lines(const std::string& s) {  // non-blank lines, as the JSONL readers count rows
  size_t n = 0, pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    if (s.find_first_not_of(" \t\r", pos) < nl) ++n;
    pos = nl + 1;
  }
  return n;
}

std::string spec_str(const json& shard) {
  return str(shard.at("index").get<int64_t>(), "/", shard.at("count").get<int64_t>());
}

// The first key whose values differ, for the message ("settings.model").
std::string first_difference(const json& a, const json& b, const std::string& path) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k)) return path + "." + k;
      if (v != b.at(k)) return first_difference(v, b.at(k), path + "." + k);
    }
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) return path + "." + k;
  }
  return path;
}

const json& at_path(const json& j, const std::string& dotted) {
  const json* p = &j;
  size_t pos = 0;
  while (pos < dotted.size()) {
    size_t dot = dotted.find('.', pos);
    if (dot == std::string::npos) dot = dotted.size();
    const std::string k = dotted.substr(pos, dot - pos);
    static const json kNull;
    if (!p->is_object() || !p->contains(k)) return kNull;
    p = &p->at(k);
    pos = dot + 1;
  }
  return *p;
}

}  // namespace

ShardSpec parse_shard_spec(const std::string& s) {
  const size_t slash = s.find('/');
  ShardSpec r;
  if (slash == std::string::npos || !parse_nonneg(s.substr(0, slash), r.index) ||
      !parse_nonneg(s.substr(slash + 1), r.count) || r.count < 1 || r.index >= r.count)
    fail_as(ExitCode::kUsage, "--shard '", s, "': expected I/N with 0 <= I < N (shard I of N, e.g. 0/4)");
  return r;
}

ItemRange shard_range(size_t n_items, ShardSpec s) {
  const auto at = [&](int64_t i) {  // n_items * i fits: n_items < 2^40 rows, i < 10^9 < 2^30
    return static_cast<size_t>(static_cast<unsigned __int128>(n_items) * static_cast<uint64_t>(i) /
                               static_cast<uint64_t>(s.count));
  };
  return {at(s.index), at(s.index + 1)};
}

// SHA-256 as specified in FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 6.2).
std::string sha256_hex(std::string_view bytes) {
  static constexpr uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  auto block = [&](const unsigned char* p) {
    uint32_t w[64];
    for (int t = 0; t < 16; ++t)
      w[t] = uint32_t(p[4 * t]) << 24 | uint32_t(p[4 * t + 1]) << 16 | uint32_t(p[4 * t + 2]) << 8 | p[4 * t + 3];
    for (int t = 16; t < 64; ++t) {
      const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; ++t) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) block(p + i);
  // Padding: 0x80, zeros, the bit length as 64-bit big-endian; one or two final blocks.
  unsigned char tail[128] = {};
  const size_t rest = n - i;
  std::memcpy(tail, p + i, rest);
  tail[rest] = 0x80;
  const size_t len = rest < 56 ? 64 : 128;
  const uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int j = 0; j < 8; ++j) tail[len - 1 - j] = static_cast<unsigned char>(bits >> (8 * j));
  block(tail);
  if (len == 128) block(tail + 64);
  char hex[65];
  for (int j = 0; j < 8; ++j) std::snprintf(hex + 8 * j, 9, "%08x", h[j]);
  return std::string(hex, 64);
}

void add_shard_option(CLI::App& sub, ShardOptions& o) {
  o.app = &sub;
  sub.add_option("--shard", o.spec,
                 "Process only shard I of N (I/N, 0 <= I < N): a contiguous, balanced block of the items; "
                 "--out is then a shard folder for `reasonscope merge`")
      // An rs::Error from here leaves the parse as it is: one "error:" line and exit status 2
      // (a CLI11 validator's message would add a second line).
      ->each([](const std::string& s) { parse_shard_spec(s); });
}

std::vector<std::string> replay_args(const CLI::App& app) {
  std::vector<std::string> path;
  for (const CLI::App* a = &app; a && a->get_parent(); a = a->get_parent()) path.insert(path.begin(), a->get_name());
  std::vector<std::string> named, positional;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->count() == 0) continue;
    if (opt->get_positional()) {
      for (const auto& v : opt->results()) positional.push_back(v);
      continue;
    }
    const std::string name = !opt->get_lnames().empty() ? "--" + opt->get_lnames()[0] : "-" + opt->get_snames()[0];
    if (name == "--out" || name == "--resume" || name == "--shard" || name == "--help") continue;
    for (const auto& v : opt->results()) {
      if (opt->get_expected_max() == 0 || opt->get_type_size() == 0)  // a flag: "true" as given, or a count
        named.push_back(v.empty() || v == "true" ? name : name + "=" + v);
      else
        named.push_back(name + "=" + v);
    }
  }
  path.insert(path.end(), named.begin(), named.end());
  path.insert(path.end(), positional.begin(), positional.end());
  return path;
}

Sharding::Sharding(const ShardOptions& o, std::string out, std::string data)
    : o_(o), active_(!o.spec.empty()), out_(std::move(out)), data_(std::move(data)) {
  if (!active_) return;
  spec_ = parse_shard_spec(o.spec);
  make_dirs(out_);
  // A rerun makes the folder unfinished until its own shard.json is written.
  if (::unlink((out_ + "/shard.json").c_str()) != 0 && errno != ENOENT)
    fail(out_, "/shard.json: cannot remove the previous run's (", std::strerror(errno), ")");
}

std::string Sharding::checkpoint_dir(const std::string& unsharded_dir) {
  unsharded_ck_ = unsharded_dir;
  return active_ ? out_ + "/resume" : unsharded_dir;
}

json Sharding::settings(const json& base) {
  base_settings_ = base;
  if (!active_) return base;
  json s = base;
  s["shard"] = str(spec_.index, "/", spec_.count);
  return s;
}

bool Sharding::owns(size_t i, size_t n_items) const {
  if (!active_) return true;
  const ItemRange r = shard_range(n_items, spec_);
  return i >= r.begin && i < r.end;
}

bool Sharding::finish(const std::string& checkpoint_dir, size_t n_items) {
  if (!active_) return false;
  const std::string rows = out_ + "/rows";
  remove_flat_folder(rows);
  if (::rename(checkpoint_dir.c_str(), rows.c_str()) != 0)
    fail(checkpoint_dir, ": cannot rename to ", rows, " (", std::strerror(errno), ")");
  json data = nullptr;
  if (!data_.empty()) {
    const std::string bytes = read_file(data_);
    data = {{"path", data_}, {"sha256", sha256_hex(bytes)}, {"bytes", bytes.size()}, {"lines", count_lines(bytes)}};
  }
  struct stat st {};
  const std::string rows_file = rows + "/rows.jsonl";
  const size_t n_rows = ::stat(rows_file.c_str(), &st) == 0 ? count_lines(read_file(rows_file)) : 0;
  const ItemRange r = shard_range(n_items, spec_);
  const std::vector<std::string> args = replay_args(*o_.app);
  const json meta = {{"format", kShardFormat},
                     {"command", args.empty() ? "" : args[0]},
                     {"args", args},
                     {"shard", {{"index", spec_.index}, {"count", spec_.count}}},
                     {"items", {{"begin", r.begin}, {"end", r.end}, {"total", n_items}}},
                     {"n_rows", n_rows},
                     {"data", data},
                     {"out_kind", unsharded_ck_ == out_ + "/resume" ? "dir" : "file"},
                     {"settings", base_settings_}};
  write_file_atomic(out_ + "/shard.json", meta.dump(2) + "\n");
  log_info(str("shard ", spec_.index, "/", spec_.count, ": items ", r.begin, "..", r.end, " of ", n_items, " -> ", out_,
               " (combine the shards with `reasonscope merge`)"));
  return true;
}

ShardInfo read_shard(const std::string& dir) {
  const std::string path = dir + "/shard.json";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail_as(ExitCode::kBadInput, dir, ": no shard.json: not a finished shard (still running, failed, or interrupted: "
            "rerun that shard, with --resume to keep its finished items)");
  ShardInfo s{dir, nullptr};
  try {
    s.meta = json::parse(read_file(path));
  } catch (const json::exception& e) {
    fail_as(ExitCode::kBadInput, path, ": not valid JSON (", e.what(), ")");
  }
  const json& m = s.meta;
  auto bad = [&](const char* what) { fail_as(ExitCode::kBadInput, path, ": ", what); };
  if (!m.is_object() || !m.contains("format") || m["format"] != kShardFormat) bad("not a shard.json of format 1");
  for (const char* k : {"args", "shard", "items", "settings", "n_rows", "out_kind", "data"})
    if (!m.contains(k)) bad((std::string("missing '") + k + "'").c_str());
  if (!m["args"].is_array() || m["args"].empty()) bad("'args' must be a non-empty array");
  for (const auto& a : m["args"])
    if (!a.is_string()) bad("'args' must hold strings");
  const json &sh = m["shard"], &it = m["items"];
  if (!sh.is_object() || !sh.contains("index") || !sh.contains("count") || !sh["index"].is_number_integer() ||
      !sh["count"].is_number_integer() || sh["count"].get<int64_t>() < 1 || sh["index"].get<int64_t>() < 0 ||
      sh["index"].get<int64_t>() >= sh["count"].get<int64_t>())
    bad("'shard' must be {index, count} with 0 <= index < count");
  if (!it.is_object() || !it.contains("begin") || !it.contains("end") || !it.contains("total") ||
      !it["begin"].is_number_unsigned() || !it["end"].is_number_unsigned() || !it["total"].is_number_unsigned())
    bad("'items' must be {begin, end, total}");
  if (!m["n_rows"].is_number_unsigned()) bad("'n_rows' must be a count");
  if (m["out_kind"] != "dir" && m["out_kind"] != "file") bad("'out_kind' must be \"dir\" or \"file\"");
  return s;
}

std::vector<ShardInfo> check_shard_set(std::vector<ShardInfo> shards) {
  if (shards.empty()) fail_as(ExitCode::kUsage, "merge: no shard folders given");
  const ShardInfo& a = shards[0];
  for (const ShardInfo& b : shards) {
    auto differ = [&](const char* what, const std::string& key) {
      fail_as(ExitCode::kBadInput, "merge: ", a.dir, " and ", b.dir, " come from different runs: ", what, " ",
              key, " is ", at_path(a.meta, key).dump(), " there and ", at_path(b.meta, key).dump(), " here");
    };
    if (a.meta["args"] != b.meta["args"]) {
      const json &x = a.meta["args"], &y = b.meta["args"];
      size_t i = 0;
      while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
      fail_as(ExitCode::kBadInput, "merge: ", a.dir, " and ", b.dir, " come from different command lines: ",
              i < x.size() ? x[i].get<std::string>() : "(nothing)", " vs ", i < y.size() ? y[i].get<std::string>() : "(nothing)");
    }
    if (a.meta["settings"] != b.meta["settings"])
      differ("the setting", first_difference(a.meta["settings"], b.meta["settings"], "settings"));
    if (a.meta["data"] != b.meta["data"]) differ("the input", first_difference(a.meta["data"], b.meta["data"], "data"));
    if (a.meta["shard"]["count"] != b.meta["shard"]["count"])
      fail_as(ExitCode::kBadInput, "merge: ", a.dir, " is shard ", spec_str(a.meta["shard"]), " but ", b.dir,
              " is shard ", spec_str(b.meta["shard"]), ": shards of different splits");
    if (a.meta["items"]["total"] != b.meta["items"]["total"]) differ("the item count", "items.total");
  }
  const int64_t n = a.meta["shard"]["count"].get<int64_t>();
  std::map<int64_t, const ShardInfo*> by_index;
  for (const ShardInfo& s : shards) {
    const int64_t i = s.meta["shard"]["index"].get<int64_t>();
    auto [it, fresh] = by_index.emplace(i, &s);
    if (!fresh)
      fail_as(ExitCode::kBadInput, "merge: shard ", i, "/", n, " given twice (", it->second->dir, " and ", s.dir,
              "): overlapping shards");
  }
  for (int64_t i = 0; i < n; ++i)
    if (!by_index.count(i))
      fail_as(ExitCode::kBadInput, "merge: shard ", i, "/", n, " is missing (", shards.size(), " of ", n,
              " shard folders given)");
  const size_t total = a.meta["items"]["total"].get<size_t>();
  for (const auto& [i, s] : by_index) {
    const ItemRange r = shard_range(total, {i, n});
    if (s->meta["items"]["begin"] != r.begin || s->meta["items"]["end"] != r.end)
      fail_as(ExitCode::kBadInput, s->dir, "/shard.json: items ", s->meta["items"]["begin"].dump(), "..",
              s->meta["items"]["end"].dump(), " are not shard ", i, "/", n, " of ", total, " items (", r.begin, "..", r.end, ")");
  }
  std::vector<ShardInfo> sorted;
  for (const auto& [i, s] : by_index) sorted.push_back(*s);
  return sorted;
}

}  // namespace rs::cli
