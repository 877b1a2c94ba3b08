// libFuzzer target for the saved QK judge (verify qk --heads DIR/heads.json): JSON text ->
// saved_heads_from_json, then what the command does next with it (the template check, the fit
// against a model config). Anything but a judge or one rs::Error is a finding; a judge that
// loads must survive the write/read round trip. Seeds: fuzz/corpus/qk_heads/.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fuzz_util.h"
#include "methods/qk/heads_file.h"
#include "methods/qk/qk_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  rs::qk::SavedHeads s;
  try {
    s = rs::qk::saved_heads_from_json(j, "heads.json");
  } catch (const rs::Error&) {
    return 0;
  }
  if (s.ensemble.size() != s.mu.size() || s.ensemble.size() != s.sigma.size())
    rs::fuzz::finding("saved_heads_from_json: ensemble, mu and sigma differ in length");
  try {
    rs::qk::check_template(s.template_text);
  } catch (const rs::Error&) {
  }
  try {
    rs::ModelConfig c;
    c.n_layer = 30;
    c.n_head = 9;
    c.n_head_kv = 3;
    rs::qk::check_fits(s, c, 2, "heads.json");
  } catch (const rs::Error&) {
  }
  const rs::qk::SavedHeads back = rs::qk::saved_heads_from_json(rs::qk::to_json(s), "round trip");
  if (back.model != s.model || back.template_text != s.template_text || back.rope != s.rope ||
      back.n_layer != s.n_layer || back.n_head != s.n_head || back.n_options != s.n_options ||
      back.ensemble.size() != s.ensemble.size() || back.mu != s.mu || back.sigma != s.sigma ||
      back.ranking.size() != s.ranking.size())
    rs::fuzz::finding("to_json / saved_heads_from_json round trip changed the judge");
  return 0;
}
