// Streaming JSONL reader: one JSON object per line, checked as it is read.
//
// For every line the reader checks, in order: the bytes are valid UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF; the error gives the 1-based byte column), the
// line parses as JSON (RFC 8259), and, when a schema is given, the object matches it
// (schema.h) and its unique field (normally "id") was not seen on an earlier line.
// Every problem is one rs::Error "<file>:<line>: ..." (plus "field 'f'" where one is involved).
//
// Conventions (documented in the README's data section):
//   - Lines end with "\n"; a trailing "\r" is dropped (CRLF files read the same).
//   - Blank lines (only spaces/tabs) are skipped anywhere; they still count for line numbers.
//   - A UTF-8 byte order mark at the very start of the file is skipped.
//   - The last line may lack its "\n".
//   - One line may be at most JsonlOptions::max_line_bytes long (default 64 MiB).
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/schema.h"

namespace rs::data {

struct JsonlRow {
  uint64_t line = 0;      // 1-based line number in the file
  nlohmann::json value;   // the parsed object
};

struct JsonlOptions {
  const Schema* schema = nullptr;          // nullptr: only UTF-8 + JSON checks
  uint64_t max_line_bytes = 64ull << 20;   // longer lines are an error, not an allocation
};

// Returns the 0-based offset of the first byte that is not part of valid UTF-8, or npos.
size_t find_invalid_utf8(std::string_view s);

class JsonlReader {
 public:
  // Opens `path` ("-" is not special). Throws rs::Error naming the path if it cannot be read.
  explicit JsonlReader(const std::string& path, JsonlOptions opts = {});
  // Reads from a string already in memory (tests, fuzzing); `name` is used in messages.
  static JsonlReader from_string(std::string contents, const std::string& name,
                                 JsonlOptions opts = {});
  JsonlReader(JsonlReader&&) noexcept;
  JsonlReader& operator=(JsonlReader&&) noexcept;
  ~JsonlReader();

  // Next non-blank row; false at end of file. Throws rs::Error for a bad line; the bad line
  // is consumed, so calling next() again continues with the line after it.
  bool next(JsonlRow& row);

  const std::string& path() const { return path_; }
  uint64_t line() const { return line_; }              // last line number read
  uint64_t bytes_read() const { return consumed_; }    // bytes consumed so far

 private:
  JsonlReader() = default;
  bool next_line(std::string_view& line);  // raw line without "\n"/"\r"; false at EOF
  bool fill();                             // read more bytes into buf_; false at EOF
  [[noreturn]] void skip_long_line();      // consume an over-long line, then throw

  std::string path_;
  JsonlOptions opts_;
  std::FILE* fp_ = nullptr;
  std::string buf_;          // unread bytes are buf_[pos_, end_)
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 0, consumed_ = 0;
  std::unordered_map<std::string, uint64_t> seen_ids_;  // unique value -> first line
};

// Whole file at once (all rows valid or an rs::Error for the first bad one).
std::vector<JsonlRow> read_jsonl(const std::string& path, const Schema* schema = nullptr);
std::vector<JsonlRow> read_jsonl(const std::string& path, const std::string& schema_name);

// Checking without stopping at the first problem (for `data check`): every bad line is
// recorded (the first `max_errors` messages kept), valid rows are counted and tallied by the
// schema's count_by fields.
struct JsonlReport {
  std::string path;
  std::string schema;
  uint64_t lines = 0;          // physical lines seen
  uint64_t rows = 0;           // valid rows
  uint64_t bytes = 0;
  uint64_t n_errors = 0;       // all bad lines, even beyond max_errors
  std::vector<std::string> errors;  // first max_errors messages, in file order
  // count_by field -> (value as text -> rows); e.g. "label" -> {"0": 200, "1": 100}
  std::map<std::string, std::map<std::string, uint64_t>> counts;
  bool ok() const { return n_errors == 0; }
  nlohmann::json to_json() const;
};
// Throws rs::Error only when the file cannot be opened; content problems go into the report.
JsonlReport check_jsonl(const std::string& path, const Schema& schema, size_t max_errors = 20);

}  // namespace rs::data
