#include "methods/lens/twohop_case.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "data/jsonl.h"

namespace rs::lens {

namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string get_string(const data::JsonlRow& r, const std::string& file, const char* field,
                       bool required, bool nonempty) {
  auto it = r.value.find(field);
  if (it == r.value.end() || it->is_null()) {
    if (required) fail(file, ":", r.line, ": field '", field, "' is missing");
    return "";
  }
  if (!it->is_string())
    fail(file, ":", r.line, ": field '", field, "': expected string, found ", it->type_name());
  std::string s = it->get<std::string>();
  if (nonempty && s.find_first_not_of(" \t\n") == std::string::npos)
    fail(file, ":", r.line, ": field '", field, "' is empty");
  return s;
}

std::vector<std::string> get_strings(const data::JsonlRow& r, const std::string& file,
                                     const char* field) {
  std::vector<std::string> out;
  auto it = r.value.find(field);
  if (it == r.value.end() || it->is_null()) return out;
  if (!it->is_array()) fail(file, ":", r.line, ": field '", field, "': expected an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) fail(file, ":", r.line, ": field '", field, "': expected an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<std::string> ranked(const std::map<std::string, int>& counts) {
  std::vector<std::pair<int, std::string>> v;
  for (const auto& [s, n] : counts) v.push_back({-n, s});
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.second);
  return out;
}

std::vector<std::string> pick(const std::map<std::string, std::vector<std::string>>& pools,
                              const std::string& key, const std::string& target, size_t k) {
  std::vector<std::string> out;
  auto it = pools.find(key);
  if (it == pools.end()) return out;
  const std::string t = lower(target);
  for (const auto& s : it->second) {
    if (out.size() == k) break;
    if (lower(s) != t) out.push_back(s);
  }
  return out;
}

}  // namespace

size_t find_nocase(const std::string& hay, const std::string& needle) {
  return lower(hay).find(lower(needle));
}

std::string qa_prompt(const std::string& question) { return "Q: " + question + "\nA:"; }
std::string answer_text(const std::string& answer) { return " " + answer; }

std::string TwohopCase::where() const { return file + ":" + std::to_string(line); }

std::string TwohopCase::first_hop_prompt() const {
  return first_hop_cloze.empty() ? qa_prompt(first_hop_question) : first_hop_cloze;
}

std::string TwohopCase::relation_key() const {
  const size_t at = find_nocase(single_cloze, bridge_subject);
  if (at == std::string::npos) return single_cloze;
  std::string k = single_cloze;
  k.replace(at, bridge_subject.size(), "{x}");
  return k;
}

std::vector<TwohopCase> read_twohop_cases(const std::string& path, uint64_t limit) {
  std::vector<TwohopCase> out;
  data::JsonlReader reader(path);
  data::JsonlRow r;
  while (reader.next(r)) {
    if (!r.value.is_object()) fail(path, ":", r.line, ": expected a JSON object");
    TwohopCase c;
    c.file = path;
    c.line = r.line;
    c.id = get_string(r, path, "id", false, false);
    if (c.id.empty()) c.id = "line-" + std::to_string(r.line);
    c.bridge_answer = get_string(r, path, "bridge_answer", true, true);
    c.answer = get_string(r, path, "answer", true, true);
    c.composed_cloze = get_string(r, path, "composed_cloze", true, true);
    c.single_cloze = get_string(r, path, "single_cloze", true, true);
    c.composed_subject = get_string(r, path, "composed_subject", true, true);
    c.bridge_subject = get_string(r, path, "bridge_subject", true, true);
    c.first_hop_question = get_string(r, path, "first_hop_question", true, true);
    c.second_hop_question = get_string(r, path, "second_hop_question", false, false);
    c.first_hop_cloze = get_string(r, path, "first_hop_cloze", false, false);
    c.composed_questions = get_strings(r, path, "composed_questions");
    c.generalization_clozes = get_strings(r, path, "generalization_clozes");
    c.generalization_answers = get_strings(r, path, "generalization_answers");
    c.irrelevant_clozes = get_strings(r, path, "irrelevant_clozes");
    c.irrelevant_answers = get_strings(r, path, "irrelevant_answers");
    c.category = get_string(r, path, "category", false, false);
    c.wrong_answer = get_string(r, path, "wrong_answer", false, false);
    if (c.generalization_clozes.size() != c.generalization_answers.size())
      fail(path, ":", r.line, ": generalization_clozes has ", c.generalization_clozes.size(),
           " entries, generalization_answers ", c.generalization_answers.size());
    if (c.irrelevant_clozes.size() != c.irrelevant_answers.size())
      fail(path, ":", r.line, ": irrelevant_clozes has ", c.irrelevant_clozes.size(),
           " entries, irrelevant_answers ", c.irrelevant_answers.size());
    if (find_nocase(c.composed_cloze, c.composed_subject) == std::string::npos)
      fail(path, ":", r.line, ": field 'composed_subject' ('", c.composed_subject,
           "') does not occur in composed_cloze");
    if (find_nocase(c.single_cloze, c.bridge_subject) == std::string::npos)
      fail(path, ":", r.line, ": field 'bridge_subject' ('", c.bridge_subject,
           "') does not occur in single_cloze (the guide prompt needs the bridge entity written in)");
    out.push_back(std::move(c));
    if (limit > 0 && out.size() >= limit) break;
  }
  if (out.empty()) fail(path, ": no cases");
  return out;
}

AnswerPools make_answer_pools(const std::vector<TwohopCase>& cases) {
  std::map<std::string, std::map<std::string, int>> a, b;
  for (const auto& c : cases) {
    a[c.relation_key()][c.answer]++;
    b[c.relation_key()][c.bridge_answer]++;
  }
  AnswerPools p;
  for (const auto& [k, m] : a) p.answers[k] = ranked(m);
  for (const auto& [k, m] : b) p.bridges[k] = ranked(m);
  return p;
}

std::vector<std::string> AnswerPools::answer_alternatives(const TwohopCase& c, size_t k) const {
  return pick(answers, c.relation_key(), c.answer, k);
}
std::vector<std::string> AnswerPools::bridge_alternatives(const TwohopCase& c, size_t k) const {
  return pick(bridges, c.relation_key(), c.bridge_answer, k);
}

}  // namespace rs::lens
