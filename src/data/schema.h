// Named row schemas for the JSONL datasets reasonscope reads and writes.
//
// A schema lists the fields a row (one JSON object per line) must or may have, with their
// types. Validation reports "<file>:<line>: field 'f': expected string, found number" and stops at
// the first problem of a row. Fields not listed are allowed (benchmark files carry extras).
//
// Built-in schemas (see schema.cpp for the exact field lists; field-name constants below):
//   prontoqa       id, hops, context, query, chain_of_thought, answer ("True"/"False")
//   mquake-2hop    the MQuAKE two-hop fields of ../shared/benchmarks/mquake-2hop/dev.jsonl
//   twohop         same fields; the probe lists (generalization_*, irrelevant_*) optional
//   labelled-text  id, text, label (int)          (alias: minif2f)
//   cot-pairs      id, text, label (0/1), corruption (optional), source_id (optional)
//   mc             id, prompt, answer, wrong_answers (non-empty string array); optional
//                  task ("babi15", "ioi", ...), context, question
//   instructions   id, instruction, input, output, task, distribution (optional)
//   pairs          id, positive, negative, source_id (optional)
//   text           any object with a string field "text"; text_schema(F) for another field
// Registering a new schema is one call to register_schema() (e.g. from a static initialiser or
// before reading).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs::data {

enum class FieldType {
  String,       // JSON string
  Int,          // JSON integer (a number without fraction/exponent)
  Number,       // any JSON number (integer or floating point)
  Bool,         // true / false
  StringArray,  // array whose elements are all strings
  Array,        // any array
  Object,       // any object
  Any,          // anything, including null
};
const char* field_type_name(FieldType t);     // "string", "int", "number", "string array", ...
std::string json_type_name(const nlohmann::json& v);  // "number", "string", "array", "null", ...

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::String;
  bool required = true;
  // Optional constraints; empty / unset means "no constraint".
  std::vector<std::string> allowed_strings;  // String: value must be one of these
  std::optional<int64_t> min_int, max_int;   // Int: inclusive bounds
  bool non_empty = false;                    // String / arrays: at least one char / element
  std::string help;                          // one line, shown by `data check --help`
};

struct Schema {
  std::string name;
  std::string description;
  std::vector<FieldSpec> fields;
  // When non-empty: this field's values must be unique within a file (checked by the reader).
  std::string unique_field = "id";
  // Fields whose values `data check` tallies (e.g. "label", "hops", "answer", "task").
  std::vector<std::string> count_by;

  const FieldSpec* find(const std::string& field) const;
  // Builder helpers so schema definitions read as a list.
  Schema& req(const std::string& field, FieldType t, std::string help = {});
  Schema& opt(const std::string& field, FieldType t, std::string help = {});
  FieldSpec& last() { return fields.back(); }
};

// Registry. register_schema replaces a schema of the same name (so tests and commands can
// redefine one); get_schema throws rs::Error listing the known names.
void register_schema(const Schema& s);
const Schema& get_schema(const std::string& name);
const Schema* find_schema(const std::string& name);
std::vector<std::string> schema_names();  // sorted

// The "text" schema with a chosen field: any object with a non-missing string field `field`;
// `id` optional and, when present, unique. Used by `--data F --field F` commands.
Schema text_schema(const std::string& field = "text");

// Checks one parsed row; throws rs::Error "<file>:<line>: field 'f': expected T, found U"
// (or "...: expected a JSON object, found array" for a non-object line). `file` and `line` are
// only used in the message.
void validate_row(const Schema& schema, const nlohmann::json& row, const std::string& file,
                  uint64_t line);
// Same check without throwing: empty string when the row is valid, else the message.
std::string row_problem(const Schema& schema, const nlohmann::json& row, const std::string& file,
                        uint64_t line);

// Field names shared by the generators (gen_*.cpp) and the readers, so both spell them the same.
namespace fields {
inline constexpr const char* kId = "id";
inline constexpr const char* kText = "text";
inline constexpr const char* kLabel = "label";
// prontoqa
inline constexpr const char* kHops = "hops";
inline constexpr const char* kContext = "context";
inline constexpr const char* kQuery = "query";
inline constexpr const char* kChainOfThought = "chain_of_thought";
inline constexpr const char* kAnswer = "answer";
// cot-pairs
inline constexpr const char* kCorruption = "corruption";  // "negated", "swapped", "dropped" or absent
inline constexpr const char* kSourceId = "source_id";     // id of the row it was made from
// mc (multiple choice): prompt ends where the answer begins; answer is the correct continuation
inline constexpr const char* kPrompt = "prompt";
inline constexpr const char* kQuestion = "question";      // optional: the question part alone
inline constexpr const char* kWrongAnswers = "wrong_answers";
inline constexpr const char* kTask = "task";
// instructions
inline constexpr const char* kInstruction = "instruction";
inline constexpr const char* kInput = "input";
inline constexpr const char* kOutput = "output";
inline constexpr const char* kDistribution = "distribution";
// pairs
inline constexpr const char* kPositive = "positive";
inline constexpr const char* kNegative = "negative";
// twohop / mquake-2hop
inline constexpr const char* kFirstHopQuestion = "first_hop_question";
inline constexpr const char* kSecondHopQuestion = "second_hop_question";
inline constexpr const char* kComposedQuestions = "composed_questions";
inline constexpr const char* kBridgeAnswer = "bridge_answer";
inline constexpr const char* kComposedCloze = "composed_cloze";
inline constexpr const char* kSingleCloze = "single_cloze";
inline constexpr const char* kComposedSubject = "composed_subject";
inline constexpr const char* kBridgeSubject = "bridge_subject";
inline constexpr const char* kGeneralizationClozes = "generalization_clozes";
inline constexpr const char* kGeneralizationAnswers = "generalization_answers";
inline constexpr const char* kIrrelevantClozes = "irrelevant_clozes";
inline constexpr const char* kIrrelevantAnswers = "irrelevant_answers";
}  // namespace fields

}  // namespace rs::data
