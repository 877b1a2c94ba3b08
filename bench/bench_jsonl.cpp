// JSONL reading throughput (MB/s) of data/jsonl.h, against two baselines measured in the same
// run on the same file: splitting lines only (the I/O + memchr ceiling) and nlohmann::json::parse
// per line with no checks (the JSON parser alone). A plain program, run by hand:
//   build/bench/bench_jsonl [megabytes=50]
// It writes a prontoqa-shaped file of that size to /tmp first (removed at the end). Each figure
// is the best of 3 passes (the file is in the page cache after the first).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "data/jsonl.h"
#include "data/outputs.h"
#include "data/schema.h"

using nlohmann::json;

namespace {

std::string make_file(double megabytes) {
  const std::string path = "/tmp/rs_bench_jsonl_" + std::to_string(::getpid()) + ".jsonl";
  std::mt19937 g(1);
  const char* words[] = {"wumpus", "every", "is", "not", "a", "Sam", "jompus", "bright", "café",
                         "shy", "Each", "zumpus", "dumpus", "sour", "metallic", "→"};
  rs::data::JsonlWriter w(path);
  size_t bytes = 0;
  for (int i = 0; bytes < megabytes * 1e6; ++i) {
    std::string ctx;
    int n_words = 40 + g() % 160;
    for (int k = 0; k < n_words; ++k) ctx += std::string(words[g() % 16]) + (k % 6 == 5 ? ". " : " ");
    json cot = json::array();
    for (int k = 0; k < 1 + int(g() % 9); ++k) cot.push_back("Sam is a wumpus number " + std::to_string(k) + ".");
    json row = {{"id", "pq-" + std::to_string(i)}, {"hops", 1 + int(g() % 6)}, {"context", ctx},
                {"query", "True or false: Sam is not shy."}, {"chain_of_thought", cot},
                {"answer", g() % 2 ? "True" : "False"}};
    bytes += rs::data::to_json_line(row).size() + 1;
    w.write(row);
  }
  w.commit();
  return path;
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Rate {
  double wall_mbps = 0, cpu_mbps = 0;
  size_t rows = 0;
};

// Best of 3: MB/s by wall clock and by process CPU time (the second is what a shared, busy
// machine distorts least), and the rows `fn` read.
Rate best_mbps(double file_mb, const std::function<size_t()>& fn) {
  Rate r;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    r.rows = fn();
    double c = cpu_seconds() - c0;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.wall_mbps = std::max(r.wall_mbps, file_mb / s);
    r.cpu_mbps = std::max(r.cpu_mbps, file_mb / c);
  }
  return r;
}

size_t split_only(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::vector<char> buf(1 << 20);
  size_t lines = 0, got;
  while ((got = std::fread(buf.data(), 1, buf.size(), f)) > 0)
    for (const char* p = buf.data(); (p = static_cast<const char*>(std::memchr(p, '\n', buf.data() + got - p))); ++p)
      ++lines;
  std::fclose(f);
  return lines;
}

size_t parse_only(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  char* line = nullptr;
  size_t cap = 0, rows = 0;
  ssize_t n;
  while ((n = ::getline(&line, &cap, f)) > 0) {
    json v = json::parse(line, line + n);
    rows += v.is_object();
  }
  std::free(line);
  std::fclose(f);
  return rows;
}

size_t reader(const std::string& path, const rs::data::Schema* schema) {
  rs::data::JsonlOptions o;
  o.schema = schema;
  rs::data::JsonlReader r(path, o);
  rs::data::JsonlRow row;
  size_t rows = 0;
  while (r.next(row)) ++rows;
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const double mb_target = argc > 1 ? std::atof(argv[1]) : 50.0;
  auto t0 = std::chrono::steady_clock::now();
  const std::string path = make_file(mb_target);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::fseek(f, 0, SEEK_END);
  const double mb = std::ftell(f) / 1e6;
  std::fclose(f);
  std::printf("file %s: %.1f MB (written in %.1f s)\n", path.c_str(), mb,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const auto* schema = &rs::data::get_schema("prontoqa");
  auto base_split = best_mbps(mb, [&] { return split_only(path); });
  auto base_parse = best_mbps(mb, [&] { return parse_only(path); });
  auto plain = best_mbps(mb, [&] { return reader(path, nullptr); });
  auto checked = best_mbps(mb, [&] { return reader(path, schema); });
  std::printf("%-44s %10s %10s %8s %9s\n", "reader (best of 3)", "MB/s wall", "MB/s cpu",
              "rows", "vs parse");
  auto line = [&](const char* name, const Rate& r) {
    std::printf("%-44s %10.1f %10.1f %8zu %8.2fx\n", name, r.wall_mbps, r.cpu_mbps, r.rows,
                r.cpu_mbps / base_parse.cpu_mbps);
  };
  line("baseline: fread + memchr line split", base_split);
  line("baseline: getline + nlohmann::json::parse", base_parse);
  line("JsonlReader, UTF-8 + JSON (no schema)", plain);
  line("JsonlReader, + schema prontoqa + unique id", checked);
  std::remove(path.c_str());
  return 0;
}
