// Schema registry, the built-in schemas and row validation (see schema.h).
#include "data/schema.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/error.h"

namespace rs::data {

using nlohmann::json;
namespace f = fields;

const char* field_type_name(FieldType t) {
  switch (t) {
    case FieldType::String: return "string";
    case FieldType::Int: return "int";
    case FieldType::Number: return "number";
    case FieldType::Bool: return "bool";
    case FieldType::StringArray: return "string array";
    case FieldType::Array: return "array";
    case FieldType::Object: return "object";
    case FieldType::Any: return "any";
  }
  return "?";
}

std::string json_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "bool";
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
  }
  return "?";
}

const FieldSpec* Schema::find(const std::string& field) const {
  for (const auto& fs : fields)
    if (fs.name == field) return &fs;
  return nullptr;
}

Schema& Schema::req(const std::string& field, FieldType t, std::string help) {
  FieldSpec fs;
  fs.name = field;
  fs.type = t;
  fs.required = true;
  fs.help = std::move(help);
  fields.push_back(std::move(fs));
  return *this;
}

Schema& Schema::opt(const std::string& field, FieldType t, std::string help) {
  req(field, t, std::move(help));
  fields.back().required = false;
  return *this;
}

namespace {

bool type_matches(FieldType t, const json& v) {
  switch (t) {
    case FieldType::String: return v.is_string();
    case FieldType::Int: return v.is_number_integer();
    case FieldType::Number: return v.is_number();
    case FieldType::Bool: return v.is_boolean();
    case FieldType::StringArray:
    case FieldType::Array: return v.is_array();
    case FieldType::Object: return v.is_object();
    case FieldType::Any: return true;
  }
  return false;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
  return out;
}

// Problem with one field's value, or empty.
std::string field_problem(const FieldSpec& fs, const json& v) {
  if (!type_matches(fs.type, v))
    return str("expected ", field_type_name(fs.type), ", found ", json_type_name(v));
  if (fs.type == FieldType::StringArray) {
    for (size_t i = 0; i < v.size(); ++i)
      if (!v[i].is_string())
        return str("expected string array, found ", json_type_name(v[i]), " at index ", i);
  }
  if (fs.non_empty) {
    if (v.is_string() && v.get_ref<const std::string&>().empty())
      return "expected a non-empty string, found \"\"";
    if (v.is_array() && v.empty()) return "expected a non-empty array, found []";
  }
  if (!fs.allowed_strings.empty() && v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (std::find(fs.allowed_strings.begin(), fs.allowed_strings.end(), s) ==
        fs.allowed_strings.end())
      return str("expected one of ", quoted_list(fs.allowed_strings), ", found \"", s, "\"");
  }
  if (v.is_number_integer()) {
    // Unsigned values above INT64_MAX are out of any bound we set.
    bool huge = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX);
    int64_t x = huge ? INT64_MAX : v.get<int64_t>();
    if (fs.min_int && (huge ? false : x < *fs.min_int))
      return str("expected an integer >= ", *fs.min_int, ", found ", v.dump());
    if (fs.max_int && (huge || x > *fs.max_int))
      return str("expected an integer <= ", *fs.max_int, ", found ", v.dump());
  }
  return {};
}

Schema make_prontoqa() {
  Schema s;
  s.name = "prontoqa";
  s.description = "PrOntoQA-style true/false deduction with gold chain of thought";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kHops, FieldType::Int, "number of deduction steps (>= 1)");
  s.last().min_int = 1;
  s.req(f::kContext, FieldType::String, "facts and rules, one sentence each");
  s.req(f::kQuery, FieldType::String, "\"True or false: ...\"");
  s.req(f::kChainOfThought, FieldType::StringArray, "gold reasoning, one sentence per step");
  s.req(f::kAnswer, FieldType::String, "\"True\" or \"False\"");
  s.last().allowed_strings = {"True", "False"};
  s.count_by = {f::kHops, f::kAnswer};
  return s;
}

Schema make_twohop(const std::string& name, bool probes_required) {
  Schema s;
  s.name = name;
  s.description = probes_required
                      ? "MQuAKE two-hop questions with bridge entity, clozes and probes"
                      : "two-hop fact questions (same fields as mquake-2hop; probes optional)";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kFirstHopQuestion, FieldType::String, "question for the first hop");
  s.req(f::kSecondHopQuestion, FieldType::String, "question for the second hop");
  s.req(f::kComposedQuestions, FieldType::StringArray, "paraphrases of the two-hop question");
  s.req(f::kBridgeAnswer, FieldType::String, "answer of the first hop (bridge entity)");
  s.req(f::kAnswer, FieldType::String, "answer of the composed question");
  s.req(f::kComposedCloze, FieldType::String, "two-hop cloze prompt");
  s.req(f::kSingleCloze, FieldType::String, "second-hop cloze with the bridge entity named");
  s.req(f::kComposedSubject, FieldType::String, "the composed subject phrase");
  s.req(f::kBridgeSubject, FieldType::String, "the bridge entity as a subject");
  for (const char* probe : {f::kGeneralizationClozes, f::kGeneralizationAnswers,
                            f::kIrrelevantClozes, f::kIrrelevantAnswers}) {
    if (probes_required)
      s.req(probe, FieldType::StringArray);
    else
      s.opt(probe, FieldType::StringArray);
  }
  return s;
}

Schema make_labelled_text(const std::string& name) {
  Schema s;
  s.name = name;
  s.description = "text with an integer label (e.g. miniF2F proofs: 1 valid, 0 invalid)";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kText, FieldType::String, "the text");
  s.req(f::kLabel, FieldType::Int, "class label");
  s.count_by = {f::kLabel};
  return s;
}

Schema make_cot_pairs() {
  Schema s;
  s.name = "cot-pairs";
  s.description = "valid (label 1) and corrupted (label 0) chains of thought";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kText, FieldType::String, "context, query and chain of thought as one text");
  s.req(f::kLabel, FieldType::Int, "1 valid, 0 corrupted");
  s.last().min_int = 0;
  s.last().max_int = 1;
  s.opt(f::kCorruption, FieldType::String, "how a label-0 row was corrupted");
  s.last().allowed_strings = {"negated", "swapped", "dropped"};
  s.opt(f::kSourceId, FieldType::String, "id of the row it came from");
  s.opt(f::kHops, FieldType::Int, "hops of the source problem");
  s.count_by = {f::kLabel, f::kCorruption, f::kHops};
  return s;
}

Schema make_mc() {
  Schema s;
  s.name = "mc";
  s.description = "multiple choice: prompt, correct answer and the wrong candidates";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kPrompt, FieldType::String, "text fed to the model; the answer continues it");
  s.last().non_empty = true;
  s.req(f::kAnswer, FieldType::String, "correct continuation");
  s.last().non_empty = true;
  s.req(f::kWrongAnswers, FieldType::StringArray, "wrong candidates (at least one)");
  s.last().non_empty = true;
  s.opt(f::kTask, FieldType::String, "generator / task name, e.g. babi15, ioi");
  s.opt(f::kContext, FieldType::String, "the story or facts alone");
  s.opt(f::kQuestion, FieldType::String, "the question alone");
  s.count_by = {f::kTask};
  return s;
}

Schema make_instructions() {
  Schema s;
  s.name = "instructions";
  s.description = "synthetic instruction tasks (METHODS.md section 5)";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kInstruction, FieldType::String, "the instruction text");
  s.req(f::kInput, FieldType::String, "the input the instruction applies to");
  s.req(f::kOutput, FieldType::String, "the expected output");
  s.req(f::kTask, FieldType::String, "task label");
  s.opt(f::kDistribution, FieldType::Int, "which instruction distribution the text came from");
  s.count_by = {f::kTask, f::kDistribution};
  return s;
}

Schema make_pairs() {
  Schema s;
  s.name = "pairs";
  s.description = "positive/negative text pairs for control vectors";
  s.req(f::kId, FieldType::String, "unique row id");
  s.req(f::kPositive, FieldType::String, "text showing the behaviour");
  s.req(f::kNegative, FieldType::String, "matched text without it");
  s.opt(f::kSourceId, FieldType::String, "id of the row it came from");
  s.opt(f::kTask, FieldType::String, "source kind");
  s.count_by = {f::kTask};
  return s;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, Schema> schemas;
  Registry() {
    for (Schema s : {make_prontoqa(), make_twohop("mquake-2hop", true),
                     make_twohop("twohop", false), make_labelled_text("labelled-text"),
                     make_labelled_text("minif2f"), make_cot_pairs(), make_mc(),
                     make_instructions(), make_pairs(), text_schema("text")})
      schemas[s.name] = std::move(s);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

Schema text_schema(const std::string& field) {
  Schema s;
  s.name = "text";
  s.description = "any object with a string field \"" + field + "\"";
  s.req(field, FieldType::String, "the text");
  if (field != f::kId) s.opt(f::kId, FieldType::String, "optional row id (unique when present)");
  return s;
}

void register_schema(const Schema& s) {
  if (s.name.empty()) fail("register_schema: schema without a name");
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.schemas[s.name] = s;
}

const Schema* find_schema(const std::string& name) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.schemas.find(name);
  // Map nodes are stable; replacing a schema later changes the value in place.
  return it == r.schemas.end() ? nullptr : &it->second;
}

std::vector<std::string> schema_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& kv : r.schemas) names.push_back(kv.first);
  return names;
}

const Schema& get_schema(const std::string& name) {
  if (const Schema* s = find_schema(name)) return *s;
  std::string known;
  for (const auto& n : schema_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown schema '", name, "' (known: ", known, ")");
}

std::string row_problem(const Schema& schema, const json& row, const std::string& file,
                        uint64_t line) {
  if (!row.is_object())
    return str(file, ":", line, ": expected a JSON object, found ", json_type_name(row));
  for (const auto& fs : schema.fields) {
    auto it = row.find(fs.name);
    if (it == row.end()) {
      if (fs.required)
        return str(file, ":", line, ": field '", fs.name, "': missing (expected ",
                   field_type_name(fs.type), ")");
      continue;
    }
    std::string p = field_problem(fs, *it);
    if (!p.empty()) return str(file, ":", line, ": field '", fs.name, "': ", p);
  }
  return {};
}

void validate_row(const Schema& schema, const json& row, const std::string& file, uint64_t line) {
  std::string p = row_problem(schema, row, file, line);
  if (!p.empty()) throw Error(p, ExitCode::kBadInput);
}

}  // namespace rs::data
