// heads.json (heads_file.h).
#include "methods/qk/heads_file.h"

#include "core/error.h"

namespace rs::qk {

nlohmann::json to_json(const SavedHeads& s) {
  nlohmann::json ens = nlohmann::json::array();
  for (size_t i = 0; i < s.ensemble.size(); ++i)
    ens.push_back({{"layer", s.ensemble[i].layer}, {"head", s.ensemble[i].head},
                   {"mu", s.mu[i]}, {"sigma", s.sigma[i]}});
  nlohmann::json ranking = nlohmann::json::array();
  for (const RankedHead& r : s.ranking)
    ranking.push_back({{"layer", r.layer}, {"head", r.head}, {"calib_balanced_accuracy", r.accuracy}, {"calib_margin", r.margin}});
  return {{"kind", "reasonscope.qk.heads"}, {"version", 1},
          {"model", s.model}, {"format", s.format}, {"template", s.template_text}, {"rope", s.rope},
          {"n_layer", s.n_layer}, {"n_head", s.n_head}, {"n_head_kv", s.n_head_kv},
          {"n_options", s.n_options}, {"n_calib", s.n_calib},
          {"top1", {{"layer", s.top1.layer}, {"head", s.top1.head}}},
          {"ensemble", ens}, {"ranking", ranking}};
}

namespace {
const nlohmann::json& need(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) fail(where, ": field '", key, "' is missing");
  return *it;
}
int64_t need_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = need(j, key, where);
  if (!v.is_number_integer()) fail(where, ": field '", key, "' must be an integer, found ", v.dump());
  return v.get<int64_t>();
}
std::string need_str(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = need(j, key, where);
  if (!v.is_string()) fail(where, ": field '", key, "' must be a string, found ", v.type_name());
  return v.get<std::string>();
}
double need_num(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = need(j, key, where);
  if (!v.is_number()) fail(where, ": field '", key, "' must be a number, found ", v.dump());
  return v.get<double>();
}
HeadRef head_ref(const nlohmann::json& j, const SavedHeads& s, const std::string& where) {
  if (!j.is_object()) fail(where, ": expected {layer, head}, found ", j.dump());
  HeadRef h{need_int(j, "layer", where), need_int(j, "head", where)};
  if (h.layer < 0 || h.layer >= s.n_layer || h.head < 0 || h.head >= s.n_head)
    fail(where, ": head (layer ", h.layer, ", head ", h.head, ") is outside the saved model's ",
         s.n_layer, " layers x ", s.n_head, " heads");
  return h;
}
}  // namespace

SavedHeads saved_heads_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where, ": expected a JSON object");
  const auto kind = j.find("kind");  // not j.value(): it throws for a non-string "kind" (fuzz_qk_heads)
  if (kind == j.end() || *kind != "reasonscope.qk.heads")
    fail(where, ": not a heads file written by `verify qk` (field 'kind' should be \"reasonscope.qk.heads\")");
  SavedHeads s;
  s.model = need_str(j, "model", where);
  s.format = need_str(j, "format", where);
  s.template_text = need_str(j, "template", where);
  s.rope = need_str(j, "rope", where);
  if (s.rope != "pre" && s.rope != "post") fail(where, ": field 'rope' must be \"pre\" or \"post\", found \"", s.rope, "\"");
  s.n_layer = need_int(j, "n_layer", where);
  s.n_head = need_int(j, "n_head", where);
  s.n_head_kv = need_int(j, "n_head_kv", where);
  s.n_options = need_int(j, "n_options", where);
  s.n_calib = need_int(j, "n_calib", where);
  if (s.n_layer < 1 || s.n_head < 1 || s.n_head_kv < 1 || s.n_options < 2)
    fail(where, ": n_layer, n_head, n_head_kv must be >= 1 and n_options >= 2");
  s.top1 = head_ref(need(j, "top1", where), s, where + ": top1");
  const nlohmann::json& ens = need(j, "ensemble", where);
  if (!ens.is_array() || ens.empty()) fail(where, ": field 'ensemble' must be a non-empty array");
  for (size_t i = 0; i < ens.size(); ++i) {
    const std::string w = where + ": ensemble[" + std::to_string(i) + "]";
    s.ensemble.push_back(head_ref(ens[i], s, w));
    const nlohmann::json& mu = need(ens[i], "mu", w);
    if (!mu.is_array() || static_cast<int64_t>(mu.size()) != s.n_options)
      fail(w, ": field 'mu' must be an array of ", s.n_options, " numbers");
    std::vector<double> m;
    for (const auto& v : mu) {
      if (!v.is_number()) fail(w, ": field 'mu' must hold numbers, found ", v.dump());
      m.push_back(v.get<double>());
    }
    s.mu.push_back(m);
    const double sg = need_num(ens[i], "sigma", w);
    if (!(sg > 0)) fail(w, ": field 'sigma' must be > 0, found ", sg);
    s.sigma.push_back(sg);
  }
  if (j.contains("ranking")) {  // informational, but when present it is what to_json wrote
    const nlohmann::json& rk = j["ranking"];
    if (!rk.is_array()) fail(where, ": field 'ranking' must be an array, found ", rk.type_name());
    for (size_t i = 0; i < rk.size(); ++i) {
      const std::string w = where + ": ranking[" + std::to_string(i) + "]";
      if (!rk[i].is_object()) fail(w, ": expected an object, found ", rk[i].type_name());
      s.ranking.push_back({need_int(rk[i], "layer", w), need_int(rk[i], "head", w),
                           need_num(rk[i], "calib_balanced_accuracy", w), need_num(rk[i], "calib_margin", w)});
    }
  }
  return s;
}

void check_fits(const SavedHeads& s, const ModelConfig& c, int64_t n_options, const std::string& where) {
  if (s.n_layer != c.n_layer || s.n_head != c.n_head || s.n_head_kv != c.n_head_kv)
    fail(where, ": the heads were selected on a model with ", s.n_layer, " layers x ", s.n_head, " heads (",
         s.n_head_kv, " kv), this model has ", c.n_layer, " x ", c.n_head, " (", c.n_head_kv, ")");
  if (s.n_options != n_options)
    fail(where, ": the heads were calibrated on ", s.n_options, " options per question, this data has ", n_options);
}

}  // namespace rs::qk
