// Dispatch from a dataset kind and its options to a generator (see gen_make.h).
#include "data/gen_make.h"

#include "core/error.h"
#include "core/layers.h"
#include "data/gen_babi15.h"
#include "data/gen_cot_pairs.h"
#include "data/gen_instructions.h"
#include "data/gen_ioi.h"
#include "data/gen_minif2f.h"
#include "data/gen_pairs.h"
#include "data/gen_prontoqa.h"
#include "data/gen_twohop.h"
#include "data/jsonl.h"
#include "data/schema.h"

namespace rs::data {

const std::vector<DatasetKind>& dataset_kinds() {
  static const std::vector<DatasetKind> kinds = {
      {"prontoqa", "fictional-ontology True/False deduction with gold chain of thought (--hops, --distractors)", false},
      {"cot-pairs", "each gold chain of thought of a prontoqa file, valid and corrupted (--from)", true},
      {"twohop", "two-hop questions over the built-in tables of well-known facts", false},
      {"babi15", "bAbI task 15 deduction as multiple choice", false},
      {"ioi", "indirect-object identification as multiple choice", false},
      {"instructions", "synthetic instruction tasks of METHODS.md section 5 (--tasks, --distributions)", false},
      {"pairs", "positive/negative pairs for control vectors from an mc or prontoqa file (--from)", true},
      {"minif2f", "a balanced sample of the built-in miniF2F Lean proofs (valid human / rejected model proofs; --n <= 200)", false},
  };
  return kinds;
}

namespace {

const DatasetKind& find_kind(const std::string& name) {
  std::string names;
  for (const auto& k : dataset_kinds()) {
    if (k.name == name) return k;
    names += (names.empty() ? "" : ", ") + k.name;
  }
  fail("data make: unknown kind \"", name, "\" (expected one of: ", names, ")");
}

void only_for(const char* option, bool given, const std::string& kind, const char* allowed) {
  if (given && kind != allowed)
    fail("data make ", kind, ": option ", option, " applies only to kind ", allowed);
}

// Rows of --from, each checked against `schema`; errors name file, line and field.
std::vector<nlohmann::json> read_source(const std::string& path, const Schema& schema) {
  std::vector<nlohmann::json> out;
  for (auto& r : read_jsonl(path, &schema)) out.push_back(std::move(r.value));
  return out;
}

// "pairs" reads either kind: decided by the first row (a chain_of_thought field means
// prontoqa), then every row is held to that schema.
std::pair<std::string, std::vector<nlohmann::json>> read_pairs_source(const std::string& path) {
  auto raw = read_jsonl(path, nullptr);
  if (raw.empty()) fail(path, ": no rows (expected an mc or prontoqa JSONL file)");
  const bool pq = raw[0].value.is_object() && raw[0].value.contains("chain_of_thought");
  const std::string kind = pq ? "prontoqa" : "mc";
  const Schema& schema = get_schema(kind);
  // Duplicate ids matter too: validate through the reader again with the schema.
  std::vector<nlohmann::json> out;
  for (auto& r : read_jsonl(path, &schema)) out.push_back(std::move(r.value));
  return {kind, std::move(out)};
}

std::vector<nlohmann::json> take(std::vector<nlohmann::json> rows, const MakeOptions& o,
                                 const std::string& path) {
  if (rows.empty()) fail(path, ": no rows");
  if (o.n) {
    if (static_cast<uint64_t>(*o.n) > rows.size())
      fail("data make ", o.kind, ": --n ", *o.n, " is more than the ", rows.size(), " rows of ",
           path);
    rows.resize(static_cast<size_t>(*o.n));
  }
  return rows;
}

}  // namespace

std::vector<GenRow> make_dataset(const MakeOptions& o) {
  const DatasetKind& kind = find_kind(o.kind);
  if (o.n && *o.n <= 0) fail("data make ", o.kind, ": --n must be at least 1, found ", *o.n);
  only_for("--hops", o.hops.has_value(), o.kind, "prontoqa");
  only_for("--distractors", o.distractors.has_value(), o.kind, "prontoqa");
  only_for("--tasks", o.tasks.has_value(), o.kind, "instructions");
  only_for("--distributions", o.distributions.has_value(), o.kind, "instructions");
  if (kind.needs_from) {
    if (!o.from || o.from->empty())
      fail("data make ", o.kind, ": --from F.jsonl is required (the file to read)");
  } else {
    if (o.from) fail("data make ", o.kind, ": option --from applies only to cot-pairs and pairs");
    if (!o.n) fail("data make ", o.kind, ": --n N (the number of rows) is required");
  }
  const uint64_t n = o.n ? static_cast<uint64_t>(*o.n) : 0;

  if (o.kind == "prontoqa") {
    ProntoqaOptions p;
    // Bounded only against nonsense here: make_prontoqa names the hop counts it can build.
    p.hops = parse_int_list("--hops", o.hops.value_or("1-6"), 999);
    const std::string d = o.distractors.value_or("on");
    if (d != "on" && d != "off") fail("data make prontoqa: --distractors expects on or off, found \"", d, "\"");
    p.distractors = d == "on";
    return make_prontoqa(n, o.seed, p);
  }
  if (o.kind == "twohop") return make_twohop(n, o.seed);
  if (o.kind == "babi15") return make_babi15(n, o.seed);
  if (o.kind == "ioi") return make_ioi(n, o.seed);
  if (o.kind == "minif2f") return make_minif2f(n, o.seed);
  if (o.kind == "instructions")
    return make_instructions(n, o.seed, o.tasks.value_or(8), o.distributions.value_or(4));
  if (o.kind == "cot-pairs")
    return make_cot_pairs(take(read_source(*o.from, get_schema("prontoqa")), o, *o.from), o.seed);
  if (o.kind == "pairs") {
    auto [source_kind, rows] = read_pairs_source(*o.from);
    return make_pairs(take(std::move(rows), o, *o.from), source_kind, o.seed);
  }
  fail("data make: kind \"", o.kind, "\" has no generator");  // unreachable: find_kind checked
}

size_t make_dataset_file(const MakeOptions& opts, const std::string& out) {
  if (out.empty()) fail("data make ", opts.kind, ": --out F.jsonl is required");
  auto rows = make_dataset(opts);
  write_gen_rows(out, rows);
  return rows.size();
}

}  // namespace rs::data
