// "Load the golden file, load the model, compare log-probs": shared by the model tests that
// hold our log-probs against another engine's (transformers for Gemma 3: tests/golden/gemma3,
// tools/make_gemma_golden.py; llama.cpp's quantised path: tests/golden/native,
// tools/make_native_golden.py). The golden files name their fields differently, so a
// GoldenKeys says which field is which.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/model.h"

namespace rs::test {

// One golden prompt: its token ids and, for each position p, the reference log-probs of the
// token at p + 1, of the reference's top-k tokens at p and (optionally) of fixed columns.
struct GoldenCase {
  std::vector<int64_t> ids;
  std::vector<double> next;                  // [T - 1] (some files carry T; the last is unused)
  std::vector<std::vector<int64_t>> top_ids;  // [T][k]
  std::vector<std::vector<double>> top_lp;    // [T][k]
  std::vector<std::vector<double>> cols_lp;   // [T][n_cols] or empty
  const nlohmann::json* raw = nullptr;        // the case's own JSON object (other fields)
};

struct GoldenKeys {
  const char* cases;               // the array of cases in the file
  const char* ids;
  const char* next;
  const char* top_ids;
  const char* top_lp;
  const char* cols_lp = nullptr;   // per-case log-probs of the file's "cols", if any
};

struct GoldenSet {
  nlohmann::json meta;             // the whole file
  std::vector<GoldenCase> cases;
  std::vector<int64_t> cols;       // the file's "cols" when keys.cols_lp is set

  const GoldenCase& longest() const {
    return *std::max_element(cases.begin(), cases.end(),
                             [](const GoldenCase& a, const GoldenCase& b) { return a.ids.size() < b.ids.size(); });
  }
};

// RS_SOURCE_DIR/rel, parsed once per binary. Throws rs::Error naming the file when it is
// absent or a field is missing.
inline const GoldenSet& load_golden(const std::string& rel, const GoldenKeys& k) {
  static std::map<std::string, std::unique_ptr<GoldenSet>> cache;
  auto& slot = cache[rel];
  if (slot) return *slot;
  const std::string path = std::string(RS_SOURCE_DIR) + "/" + rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot read the golden file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto g = std::make_unique<GoldenSet>();
  try {
    g->meta = nlohmann::json::parse(ss.str());
    if (k.cols_lp) g->cols = g->meta.at("cols").get<std::vector<int64_t>>();
    for (const auto& c : g->meta.at(k.cases)) {
      GoldenCase gc;
      gc.ids = c.at(k.ids).get<std::vector<int64_t>>();
      gc.next = c.at(k.next).get<std::vector<double>>();
      gc.top_ids = c.at(k.top_ids).get<std::vector<std::vector<int64_t>>>();
      gc.top_lp = c.at(k.top_lp).get<std::vector<std::vector<double>>>();
      if (k.cols_lp) gc.cols_lp = c.at(k.cols_lp).get<std::vector<std::vector<double>>>();
      gc.raw = &c;
      g->cases.push_back(std::move(gc));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": ", e.what());
  }
  if (g->cases.empty()) fail(path, ": no cases under '", k.cases, "'");
  slot = std::move(g);
  return *slot;
}

// The model at `path` in the given weight format, f32 on CPU, loaded once per binary.
inline const Model& load_model_once(const std::string& path, WeightFormat w = WeightFormat::Dequantize) {
  static std::map<std::pair<std::string, int>, std::unique_ptr<Model>> cache;
  auto& slot = cache[{path, static_cast<int>(w)}];
  if (!slot) {
    LoadOptions lo;
    lo.weights = w;
    slot = std::make_unique<Model>(load_model(path, lo));
  }
  return *slot;
}

// Worst-case agreement of our log-probs with golden cases, accumulated over calls.
struct LogprobAgreement {
  double next_top = 0;     // max |ours - ref| over next-token and top-k log-probs
  double cols = 0;         // max |ours - ref| over the fixed columns
  int64_t top1_same = 0;   // positions where our argmax is the reference's top-1
  int64_t positions = 0;

  // lp: [P, V] log-probs (any float dtype, CPU) for positions p0 .. p0 + P - 1 of case c.
  void add(const GoldenCase& c, const at::Tensor& lp, int64_t p0, const std::vector<int64_t>& col_ids = {}) {
    const at::Tensor rows = lp.to(at::kCPU, at::kDouble).contiguous();
    const double* a = rows.data_ptr<double>();
    const int64_t V = rows.size(1);
    for (int64_t i = 0; i < rows.size(0); ++i) {
      const size_t p = static_cast<size_t>(p0 + i);
      const double* row = a + i * V;
      auto d = [&](int64_t id, double want) { return std::fabs(row[id] - want); };
      if (p + 1 < c.ids.size()) next_top = std::max(next_top, d(c.ids[p + 1], c.next.at(p)));
      for (size_t k = 0; k < c.top_ids.at(p).size(); ++k)
        next_top = std::max(next_top, d(c.top_ids[p][k], c.top_lp.at(p).at(k)));
      for (size_t k = 0; k < col_ids.size(); ++k) cols = std::max(cols, d(col_ids[k], c.cols_lp.at(p).at(k)));
      top1_same += std::max_element(row, row + V) - row == c.top_ids[p].at(0);
      ++positions;
    }
  }
};

}  // namespace rs::test
