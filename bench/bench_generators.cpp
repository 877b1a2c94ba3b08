// Generator throughput: rows/s for each `data make` kind, and the prover's rows/s on the
// generated prontoqa rows. A plain program (no timing assertions anywhere): run it by hand,
//   build/bench/bench_generators [rows]
// Each figure is the best of 3 runs (least disturbed by other processes on a shared machine).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/gen_babi15.h"
#include "data/gen_common.h"
#include "data/gen_cot_pairs.h"
#include "data/gen_instructions.h"
#include "data/gen_ioi.h"
#include "data/gen_pairs.h"
#include "data/gen_prontoqa.h"
#include "data/gen_twohop.h"
#include "data/prover.h"

using namespace rs::data;

namespace {

// Best-of-3 rows per second of `fn`, which returns the number of rows it made.
double rows_per_second(const std::function<size_t()>& fn) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    size_t rows = fn();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, rows / s);
  }
  return best;
}

std::vector<nlohmann::json> plain(const std::vector<GenRow>& rows) {
  std::vector<nlohmann::json> out;
  for (const auto& r : rows) out.push_back(nlohmann::json::parse(r.dump()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  std::printf("generator rows/s (best of 3, %llu rows each, twohop at most %zu; serialisation to "
              "JSONL text included, file writing not)\n",
              (unsigned long long)n, twohop_questions().size());
  auto report = [](const char* name, double rps) { std::printf("  %-28s %12.0f rows/s\n", name, rps); };

  ProntoqaOptions pq;
  report("prontoqa (hops 1-6)", rows_per_second([&] { return gen_rows_to_jsonl(make_prontoqa(n, 1, pq)).size() ? n : 0; }));
  ProntoqaOptions pq6;
  pq6.hops = {6};
  report("prontoqa (hops 6)", rows_per_second([&] { return gen_rows_to_jsonl(make_prontoqa(n, 1, pq6)).size() ? n : 0; }));

  const auto source = plain(make_prontoqa(n, 2, pq));
  report("cot-pairs (2 rows/source)", rows_per_second([&] {
    auto rows = make_cot_pairs(source, 1);
    return gen_rows_to_jsonl(rows).size() ? rows.size() : 0;
  }));
  const uint64_t nt = std::min<uint64_t>(n, twohop_questions().size());
  report("twohop", rows_per_second([&] { return gen_rows_to_jsonl(make_twohop(nt, 1)).size() ? nt : 0; }));
  report("babi15", rows_per_second([&] { return gen_rows_to_jsonl(make_babi15(n, 1)).size() ? n : 0; }));
  report("ioi", rows_per_second([&] { return gen_rows_to_jsonl(make_ioi(n, 1)).size() ? n : 0; }));
  report("instructions (T 8, M 4)", rows_per_second([&] { return gen_rows_to_jsonl(make_instructions(n, 1, 8, 4)).size() ? n : 0; }));
  const auto mc = plain(make_babi15(n, 3));
  report("pairs (from babi15)", rows_per_second([&] { return gen_rows_to_jsonl(make_pairs(mc, "mc", 1)).size() ? mc.size() : 0; }));

  // The independent check: how fast the prover confirms generated problems.
  size_t confirmed = 0;
  double prover = rows_per_second([&] {
    confirmed = 0;
    for (const auto& r : source)
      confirmed += prover::check_prontoqa(r["context"], r["query"],
                                          r["chain_of_thought"].get<std::vector<std::string>>(),
                                          r["answer"]).chain_valid();
    return source.size();
  });
  report("prover (prontoqa rows)", prover);
  std::printf("  prover confirmed %zu of %zu chains\n", confirmed, source.size());
  return confirmed == source.size() ? 0 : 1;
}
