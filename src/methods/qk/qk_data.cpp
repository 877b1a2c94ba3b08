// Examples, template, calibration split and prompt positions for the QK-score (qk_data.h).
#include "methods/qk/qk_data.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "core/error.h"
#include "stats/rng.h"
#include "tokenizer/tokenizer.h"

namespace rs::qk {

Format parse_format(const std::string& s) {
  if (s == "prontoqa") return Format::ProntoQA;
  if (s == "mcq") return Format::Mcq;
  fail("--format: expected prontoqa or mcq, got '", s, "'");
}

const char* format_name(Format f) { return f == Format::ProntoQA ? "prontoqa" : "mcq"; }

// ------------------------------------------------------------------------------ rows
namespace {

const nlohmann::json* field(const nlohmann::json& row, const char* name) {
  auto it = row.find(name);
  return it == row.end() || it->is_null() ? nullptr : &*it;
}

std::string need_string(const nlohmann::json& row, const char* name, const std::string& where,
                        const char* hint) {
  const nlohmann::json* v = field(row, name);
  if (!v) fail(where, ": field '", name, "' is missing (", hint, ")");
  if (!v->is_string()) fail(where, ": field '", name, "' must be a string, found ", v->type_name());
  return v->get<std::string>();
}

std::string list_str(const std::vector<std::string>& xs) {
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + nlohmann::json(xs[i]).dump();
  return s + "]";
}

}  // namespace

Example parse_example(const nlohmann::json& row, Format format, const std::string& where,
                      bool require_label) {
  if (!row.is_object()) fail(where, ": expected a JSON object, found ", row.type_name());
  Example ex;
  if (const nlohmann::json* id = field(row, "id")) {
    if (!id->is_string() && !id->is_number_integer())
      fail(where, ": field 'id' must be a string or an integer, found ", id->type_name());
    ex.id = id->is_string() ? id->get<std::string>() : id->dump();
  }
  if (const nlohmann::json* h = field(row, "hops")) {
    if (!h->is_number_integer() || h->get<int64_t>() < 0)
      fail(where, ": field 'hops' must be a non-negative integer, found ", h->dump());
    ex.hops = h->get<int64_t>();
  }
  if (format == Format::ProntoQA) {
    const char* hint = "prontoqa rows need {context, query, answer \"True\"/\"False\"}";
    ex.context = need_string(row, "context", where, hint);
    ex.question = need_string(row, "query", where, hint);
    ex.options = {"True", "False"};
    if (const nlohmann::json* a = field(row, "answer")) {
      if (!a->is_string()) fail(where, ": field 'answer' must be a string, found ", a->type_name());
      const std::string s = a->get<std::string>();
      if (s != "True" && s != "False")
        fail(where, ": field 'answer' is ", a->dump(), ", not among the options [\"True\", \"False\"]");
      ex.answer = s == "True" ? 0 : 1;
    }
  } else {
    const char* hint = "mcq rows need {context, question, options [strings], answer_index}";
    if (field(row, "context")) ex.context = need_string(row, "context", where, hint);
    ex.question = need_string(row, "question", where, hint);
    const nlohmann::json* opts = field(row, "options");
    if (!opts) fail(where, ": field 'options' is missing (", hint, ")");
    if (!opts->is_array()) fail(where, ": field 'options' must be an array of strings, found ", opts->type_name());
    std::set<std::string> seen;
    for (size_t i = 0; i < opts->size(); ++i) {
      const nlohmann::json& o = (*opts)[i];
      if (!o.is_string()) fail(where, ": field 'options': item ", i, " must be a string, found ", o.type_name());
      std::string s = o.get<std::string>();
      if (s.find_first_not_of(" \t\r\n") == std::string::npos)
        fail(where, ": field 'options': item ", i, " is empty");
      if (s.find('\n') != std::string::npos)
        fail(where, ": field 'options': item ", i, " spans several lines; each option must be one line");
      if (!seen.insert(s).second) fail(where, ": field 'options': ", o.dump(), " appears twice");
      ex.options.push_back(std::move(s));
    }
    if (ex.options.size() < 2)
      fail(where, ": field 'options' has ", ex.options.size(), " option(s); at least 2 are needed");
    const nlohmann::json* ai = field(row, "answer_index");
    const nlohmann::json* a = field(row, "answer");
    if (ai) {
      if (!ai->is_number_integer()) fail(where, ": field 'answer_index' must be an integer, found ", ai->dump());
      const int64_t k = ai->get<int64_t>();
      if (k < 0 || k >= static_cast<int64_t>(ex.options.size()))
        fail(where, ": field 'answer_index' is ", k, ", out of range for ", ex.options.size(),
             " options (0..", ex.options.size() - 1, ")");
      ex.answer = k;
    } else if (a) {
      if (!a->is_string()) fail(where, ": field 'answer' must be a string, found ", a->type_name());
      auto it = std::find(ex.options.begin(), ex.options.end(), a->get<std::string>());
      if (it == ex.options.end())
        fail(where, ": field 'answer' is ", a->dump(), ", not among the options ", list_str(ex.options));
      ex.answer = it - ex.options.begin();
    }
  }
  if (require_label && ex.answer < 0)
    fail(where, ": no label (field '", format == Format::ProntoQA ? "answer" : "answer_index",
         "'); selecting heads needs labelled rows (use --heads to score unlabelled data)");
  return ex;
}

// --------------------------------------------------------------------------- template
std::string unescape_template(const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && (t[i + 1] == 'n' || t[i + 1] == 't' || t[i + 1] == '\\')) {
      out += t[i + 1] == 'n' ? '\n' : t[i + 1] == 't' ? '\t' : '\\';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

namespace {
size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}
}  // namespace

void check_template(const std::string& t) {
  for (const char* slot : {"{context}", "{question}", "{options}"}) {
    const size_t n = count_of(t, slot);
    if (n != 1)
      fail("--template: the slot ", slot, n == 0 ? " is missing" : " appears more than once",
           " (a template needs each of {context}, {question}, {options} exactly once; got ",
           nlohmann::json(t).dump(), ")");
  }
}

// ------------------------------------------------------------------------ calibration
std::vector<int64_t> calibration_rows(const std::vector<Example>& examples, int64_t n_calib,
                                      uint64_t seed) {
  const int64_t n = static_cast<int64_t>(examples.size());
  if (n_calib < 1) fail("--calib: expected at least 1 calibration row, got ", n_calib);
  if (n_calib >= n)
    fail("--calib ", n_calib, ": the data has only ", n, " rows; at least one must be left to test on");
  // strata by (hops, answer), in key order
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> strata;
  for (int64_t i = 0; i < n; ++i)
    strata[{examples[static_cast<size_t>(i)].hops, examples[static_cast<size_t>(i)].answer}].push_back(i);
  // quota_s = floor(n_calib * n_s / n), the remainder to the largest fractional parts
  std::vector<int64_t> quota;
  std::vector<std::pair<int64_t, size_t>> frac;  // (n_calib * n_s mod n, stratum) for ranking
  int64_t given = 0;
  size_t si = 0;
  for (const auto& [key, rows] : strata) {
    const int64_t ns = static_cast<int64_t>(rows.size());
    quota.push_back(n_calib * ns / n);
    frac.push_back({n_calib * ns % n, si++});
    given += quota.back();
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t j = 0; given < n_calib; ++j, ++given) quota[frac[j % frac.size()].second] += 1;
  stats::SplitMix64 rng(seed);
  std::vector<int64_t> out;
  si = 0;
  for (auto& [key, rows] : strata) {
    // Fisher-Yates with the seeded stream, then the first quota rows
    for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng.below(i)]);
    out.insert(out.end(), rows.begin(), rows.begin() + quota[si++]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------- prompts
Prompt build_prompt(const tok::Tokenizer& tok, const std::string& tmpl, const Example& ex,
                    const std::vector<int64_t>& shown, const std::string& where) {
  Prompt p;
  p.shown = shown;
  std::vector<size_t> option_end;  // byte offset just past each shown option's text
  for (size_t i = 0; i < tmpl.size();) {
    auto at = [&](const char* slot) { return tmpl.compare(i, std::char_traits<char>::length(slot), slot) == 0; };
    if (at("{context}")) {
      p.text += ex.context;
      i += 9;
    } else if (at("{question}")) {
      p.text += ex.question;
      i += 10;
    } else if (at("{options}")) {
      for (int64_t c : shown) {
        p.text += ex.options.at(static_cast<size_t>(c));
        option_end.push_back(p.text.size());
        p.text += '\n';
      }
      i += 9;
    } else {
      p.text += tmpl[i++];
    }
  }
  if (option_end.size() != shown.size()) fail(where, ": the template has no {options} slot");

  const std::vector<int32_t> ids = tok.encode(p.text, /*add_special=*/true, /*parse_special=*/false);
  p.ids.assign(ids.begin(), ids.end());
  // Byte span of every token in the prompt text. Special tokens (BOS) have none. A
  // SentencePiece dummy-prefix space makes the decoded text `shift` bytes longer at the front.
  std::vector<size_t> ends(ids.size());
  std::string decoded;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!tok.is_special(ids[i])) decoded += tok.token_text(ids[i]);
    ends[i] = decoded.size();
  }
  if (decoded.size() < p.text.size() ||
      decoded.compare(decoded.size() - p.text.size(), p.text.size(), p.text) != 0)
    fail(where, ": the tokenizer does not reproduce the prompt's bytes, so the option tokens "
         "cannot be located (unusual characters in the row?)");
  const size_t shift = decoded.size() - p.text.size();
  for (size_t e : option_end) {
    // the token holding the option's last byte
    const size_t b = e - 1 + shift;
    const size_t i = static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), b) - ends.begin());
    p.key_pos.push_back(static_cast<int64_t>(i));
  }
  const bool space = !p.text.empty() && !std::isspace(static_cast<unsigned char>(p.text.back()));
  for (int64_t c : shown) {
    const std::string cont = (space ? " " : "") + ex.options.at(static_cast<size_t>(c));
    const std::vector<int32_t> a = tok.encode(cont, false, false);
    if (a.empty()) fail(where, ": option ", nlohmann::json(ex.options[static_cast<size_t>(c)]).dump(), " gives no tokens");
    p.answer_ids.emplace_back(a.begin(), a.end());
  }
  return p;
}

}  // namespace rs::qk
