// libFuzzer target for the JSONL datasets: the reader with every named schema, and the code that
// turns checked rows into work (the QK examples, the two-hop cases, `data make cot-pairs` and
// `data make pairs` from a source file). Any input must be read row by row or refused with
// rs::Error; a crash, sanitizer report or other exception is a finding, and so is the in-memory
// reader disagreeing with the file reader (`data check`) about rows, errors, lines or bytes.
// The first line names the mode (a schema name, or qk-prontoqa, qk-mcq, twohop-cases,
// make-cot-pairs, make-pairs; any other first line: its first byte picks one), the rest is the
// file. Seeds: fuzz/corpus/jsonl/.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/gen_make.h"
#include "data/jsonl.h"
#include "data/schema.h"
#include "fuzz_util.h"
#include "methods/lens/twohop_case.h"
#include "methods/qk/qk_data.h"

namespace {

using namespace rs;

struct Tally {
  uint64_t rows = 0, errors = 0;
};

// Reads every row, continuing after bad ones, as `data check` does.
Tally read_all(const std::string& text, const data::Schema* schema, uint64_t max_line,
               data::JsonlReader* out_reader, std::vector<nlohmann::json>* rows) {
  data::JsonlOptions o;
  o.schema = schema;
  o.max_line_bytes = max_line;
  data::JsonlReader r = data::JsonlReader::from_string(text, "fuzz.jsonl", o);
  Tally t;
  data::JsonlRow row;
  for (;;) {
    try {
      if (!r.next(row)) break;
    } catch (const Error&) {
      ++t.errors;
      continue;
    }
    ++t.rows;
    if (schema && !data::row_problem(*schema, row.value, "f", row.line).empty())
      fuzz::finding("a row the reader accepted fails row_problem");
    if (rows) rows->push_back(row.value);
  }
  if (out_reader) *out_reader = std::move(r);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> schemas = data::schema_names();
  static const std::vector<std::string> extra = {"qk-prontoqa", "qk-mcq", "twohop-cases",
                                                 "make-cot-pairs", "make-pairs"};
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (size == 0 || nl == std::string::npos) return 0;
  const std::string head = input.substr(0, nl), text = input.substr(nl + 1);
  size_t mode = static_cast<uint8_t>(input[0]) % (schemas.size() + extra.size());
  for (size_t i = 0; i < schemas.size() + extra.size(); ++i)
    if (head == (i < schemas.size() ? schemas[i] : extra[i - schemas.size()])) mode = i;
  const std::string& path = fuzz::scratch_path(".jsonl");
  try {
    if (mode < schemas.size()) {
      const data::Schema& schema = data::get_schema(schemas[mode]);
      data::JsonlReader mem = data::JsonlReader::from_string("", "x");
      const Tally t = read_all(text, &schema, 64ull << 20, &mem, nullptr);
      fuzz::write_file(path, text);
      const data::JsonlReport rep = data::check_jsonl(path, schema, 4);
      if (rep.rows != t.rows || rep.n_errors != t.errors || rep.lines != mem.line() ||
          rep.bytes != mem.bytes_read())
        fuzz::finding("check_jsonl (file) and the in-memory reader disagree");
      (void)rep.to_json().dump();
      // A small line limit reaches the over-long-line path.
      read_all(text, &schema, 64, nullptr, nullptr);
      return 0;
    }
    switch (mode - schemas.size()) {
      case 0:
      case 1: {  // verify qk rows
        std::vector<nlohmann::json> rows;
        read_all(text, nullptr, 64ull << 20, nullptr, &rows);
        const qk::Format f = mode == schemas.size() ? qk::Format::ProntoQA : qk::Format::Mcq;
        for (const auto& row : rows) {
          for (bool require_label : {false, true}) {
            try {
              qk::Example ex = qk::parse_example(row, f, "fuzz.jsonl:1", require_label);
              if (ex.options.size() < 2) fuzz::finding("parse_example: fewer than 2 options");
              if (ex.answer >= static_cast<int64_t>(ex.options.size()))
                fuzz::finding("parse_example: answer index out of range");
              if (require_label && ex.answer < 0) fuzz::finding("parse_example: label missing");
            } catch (const Error&) {
            }
          }
        }
        return 0;
      }
      case 2: {  // lens / trace / data label twohop
        fuzz::write_file(path, text);
        auto cases = lens::read_twohop_cases(path, 0);
        auto pools = lens::make_answer_pools(cases);
        for (const auto& c : cases) {
          (void)c.first_hop_prompt();
          (void)pools.answer_alternatives(c, 3);
          (void)pools.bridge_alternatives(c, 3);
        }
        return 0;
      }
      case 3:
      case 4: {  // data make cot-pairs / pairs --from
        fuzz::write_file(path, text);
        data::MakeOptions o;
        o.kind = mode - schemas.size() == 3 ? "cot-pairs" : "pairs";
        o.from = path;
        o.seed = 1;
        (void)data::make_dataset(o);
        return 0;
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
