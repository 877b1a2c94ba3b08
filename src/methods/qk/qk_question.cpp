#include "methods/qk/qk_question.h"

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/outputs.h"
#include "methods/qk/qk_eval.h"
#include "methods/qk/qk_judge.h"
#include "methods/qk/qk_runner.h"
#include "methods/qk/qk_score.h"
#include "tokenizer/tokenizer.h"

namespace rs::qk {

SavedHeads read_heads_file(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    fail(path, ": not valid JSON (", e.what(), ")");
  }
  // Unstamped files (version 1) already named heads by block index: read as they are.
  data::layer_convention_version(j, path);
  return saved_heads_from_json(j, path);
}

int64_t scan_pad_id(const tok::Tokenizer& t) { return t.pad_id() >= 0 ? t.pad_id() : std::max(0, t.eos_id()); }

namespace {

// The template as pieces: literal text, or a slot.
struct Piece {
  enum Kind { Text, Context, Question, Options } kind = Text;
  std::string text;
};

std::vector<Piece> pieces_of(const std::string& tmpl) {
  std::vector<Piece> out;
  for (size_t i = 0; i < tmpl.size();) {
    auto at = [&](const char* slot) { return tmpl.compare(i, std::char_traits<char>::length(slot), slot) == 0; };
    if (at("{context}")) out.push_back({Piece::Context, ""}), i += 9;
    else if (at("{question}")) out.push_back({Piece::Question, ""}), i += 10;
    else if (at("{options}")) out.push_back({Piece::Options, ""}), i += 9;
    else {
      if (out.empty() || out.back().kind != Piece::Text) out.push_back({Piece::Text, ""});
      out.back().text += tmpl[i++];
    }
  }
  return out;
}

// Backtracking over the pieces; free slots try their longest reading first. `budget` bounds the
// work of a pathological template (two free slots side by side over a long text).
struct Matcher {
  const std::string& text;
  const std::vector<Piece>& pieces;
  int64_t n_options;
  Example ex;
  int64_t budget = 1000000;

  bool match(size_t pi, size_t pos) {
    if (--budget < 0) return false;
    if (pi == pieces.size()) return pos == text.size();
    const Piece& p = pieces[pi];
    if (p.kind == Piece::Text)
      return text.compare(pos, p.text.size(), p.text) == 0 && match(pi + 1, pos + p.text.size());
    if (p.kind == Piece::Options) {
      std::vector<std::string> lines;
      size_t at = pos;
      for (int64_t k = 0; k < n_options; ++k) {
        const size_t nl = text.find('\n', at);
        if (nl == std::string::npos) return false;
        std::string line = text.substr(at, nl - at);
        if (line.find_first_not_of(" \t\r") == std::string::npos) return false;
        lines.push_back(std::move(line));
        at = nl + 1;
      }
      ex.options = lines;
      return match(pi + 1, at);
    }
    std::string& slot = p.kind == Piece::Context ? ex.context : ex.question;
    // ends to try, longest first: where the next literal occurs, or anywhere before another slot
    const bool literal_next = pi + 1 < pieces.size() && pieces[pi + 1].kind == Piece::Text;
    for (size_t end = text.size() + 1; end-- > pos;) {
      if (literal_next) {
        const size_t f = text.rfind(pieces[pi + 1].text, end);
        if (f == std::string::npos || f < pos) return false;
        end = f;
      } else if (pi + 1 == pieces.size() && end != text.size()) {
        return false;
      }
      slot = text.substr(pos, end - pos);
      if (match(pi + 1, end)) return true;
      if (budget < 0) return false;
    }
    return false;
  }
};

}  // namespace

std::optional<Example> read_question(const std::string& text, const SavedHeads& heads, std::string* why) {
  auto no = [&](const std::string& reason) -> std::optional<Example> {
    if (why) *why = reason;
    return std::nullopt;
  };
  const std::vector<Piece> pieces = pieces_of(heads.template_text);
  Matcher m{text, pieces, heads.n_options, {}};
  if (!m.match(0, 0))
    return no(m.budget < 0 ? "the text is too ambiguous to read as the heads' template"
                           : "the text is not the heads' template " + nlohmann::json(heads.template_text).dump() +
                                 " with " + std::to_string(heads.n_options) + " option lines");
  Example ex = std::move(m.ex);
  std::vector<std::string> sorted = ex.options;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return no("two option lines are the same");
  if (heads.format == "prontoqa") {
    if (sorted != std::vector<std::string>{"False", "True"})
      return no("prontoqa heads need the option lines True and False");
    ex.options = {"True", "False"};
  }
  ex.id = "request";
  return ex;
}

nlohmann::json judge_question(const Model& m, const tok::Tokenizer& t, const SavedHeads& heads, const Example& ex) {
  const int64_t O = static_cast<int64_t>(ex.options.size());
  // As verify qk: the options as listed, then reversed; one batch (its default batch holds both).
  std::vector<Prompt> prompts;
  for (int order = 0; order < 2; ++order)
    prompts.push_back(build_prompt(t, heads.template_text, ex, display_order(O, order == 1), "the request"));
  ScanOptions so;
  so.post_rope = heads.rope == "post";
  so.pad_id = scan_pad_id(t);
  const ScanResult r = scan(m, prompts, so);
  const JudgeScores js = judge_scores(r, r.seq_lp, prompts);
  EvalOptions eo;
  eo.n_resamples = 0;  // one unlabelled row: nothing to resample
  const Evaluation ev = evaluate(js, {ex}, heads, {}, eo);
  return ev.examples.at(0);
}

}  // namespace rs::qk
