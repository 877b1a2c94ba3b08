// QK-score inputs: rows of a JSONL file as multiple-choice examples, the prompt template, the
// calibration split, and the prompts with the token positions the scan reads.
//
// Formats
//   prontoqa: {id, hops, context, query, answer "True"/"False"}; options are ["True", "False"].
//   mcq:      {id?, hops?, context?, question, options [strings], answer_index | answer}.
// Labels (answer / answer_index) may be absent only when they are not required (applying saved
// heads to unlabelled data).
//
// Template: slots {context}, {question} and {options}, each exactly once; {options} expands to
// one line per option ("<option>\n") in the order shown. Default (METHODS.md section 2):
//   "{context}\n{question}\n{options}Answer:"
// The query is read at the prompt's LAST token; the key of option i at the last token of its
// text on its line. The model's own answer (baselines) is the continuation " <option>" (no
// leading space when the template ends in whitespace).
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs::tok {
class Tokenizer;
}

namespace rs::qk {

enum class Format { ProntoQA, Mcq };
Format parse_format(const std::string& s);  // "prontoqa" | "mcq"
const char* format_name(Format f);

struct Example {
  uint64_t line = 0;            // 1-based line in the input file
  std::string id;               // the row's id, or "line-N"
  int64_t hops = -1;            // -1: absent
  std::string context, question;
  std::vector<std::string> options;
  int64_t answer = -1;          // index into options; -1: unlabelled
};

// One JSONL object -> Example. `where` ("file:line") prefixes every error. Errors: missing or
// mistyped fields, fewer than 2 options, empty or repeated options, an answer not among the
// options, answer_index out of range, a label missing when require_label.
Example parse_example(const nlohmann::json& row, Format format, const std::string& where,
                      bool require_label);

constexpr const char* kDefaultTemplate = "{context}\n{question}\n{options}Answer:";
// "\n" and "\t" written as two characters (as a shell passes them) become the characters.
std::string unescape_template(const std::string& t);
// Throws unless each of {context}, {question}, {options} occurs exactly once.
void check_template(const std::string& t);

// Calibration rows: n_calib of n rows, stratified by (hops, answer) where those are known:
// each stratum gives its share (largest remainder), rows drawn by a seeded shuffle.
// Returns ascending calibration indices; the rest is the test split. Errors: n_calib < 1 or
// n_calib >= n (there must be rows left to test on).
std::vector<int64_t> calibration_rows(const std::vector<Example>& examples, int64_t n_calib,
                                      uint64_t seed);

// One prompt of one example in one option order.
struct Prompt {
  std::string text;
  std::vector<int64_t> ids;                      // with BOS when the tokenizer adds one
  std::vector<int64_t> shown;                    // shown[j] = content index at display slot j
  std::vector<int64_t> key_pos;                  // [O] token index of slot j's last token
  std::vector<std::vector<int64_t>> answer_ids;  // [O] tokens of slot j's answer continuation

  // Tokens the scan feeds for this prompt: the prompt, then the longest answer but its last
  // token (predicted, never fed). What must fit the model's context.
  size_t fed_tokens() const {
    size_t longest = 1;
    for (const auto& a : answer_ids) longest = std::max(longest, a.size());
    return ids.size() + longest - 1;
  }
};

// Render the template with the options in display order `shown` and locate the tokens.
// Throws (prefixed by `where`) when the tokenizer does not reproduce the prompt's bytes (the
// option tokens could not be located) or an option gives no tokens.
Prompt build_prompt(const tok::Tokenizer& tok, const std::string& tmpl, const Example& ex,
                    const std::vector<int64_t>& shown, const std::string& where);

}  // namespace rs::qk
