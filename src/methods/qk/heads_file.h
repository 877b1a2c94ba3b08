// The saved QK judge, DIR/heads.json (written by `verify qk`, read back by --heads). Apart from
// the selection maths (qk_judge.h) so the reader builds without libtorch and can be fuzzed
// under the sanitizers (fuzz/fuzz_qk_heads.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace rs::qk {

// One head of the calibration ranking (qk_score.h rank_heads).
struct RankedHead {
  int64_t layer = 0, head = 0;
  double accuracy = 0;  // the ranking criterion (qk_judge: balanced accuracy under both orders)
  double margin = 0;    // mean z-scored answer margin (tie-break)
};

struct HeadRef {
  int64_t layer = 0, head = 0;
};

// The reusable judge written to DIR/heads.json and read back by --heads.
struct SavedHeads {
  std::string model, template_text, rope = "pre", format;
  int64_t n_layer = 0, n_head = 0, n_head_kv = 0, n_options = 0, n_calib = 0;
  HeadRef top1;
  std::vector<HeadRef> ensemble;
  std::vector<std::vector<double>> mu;  // [K][O] z-score centre per ensemble head and content slot
  std::vector<double> sigma;            // [K] z-score scale per ensemble head
  std::vector<RankedHead> ranking;      // heads by calibration balanced accuracy (informational)
};
nlohmann::json to_json(const SavedHeads& s);
// `where` names the file in errors. Checks types, ranges and sizes.
SavedHeads saved_heads_from_json(const nlohmann::json& j, const std::string& where);
// Throws when the saved judge was made for a model of another shape or another option count.
void check_fits(const SavedHeads& s, const ModelConfig& c, int64_t n_options, const std::string& where);

}  // namespace rs::qk
