// Streaming JSONL reader: benchmark files, UTF-8 validation, JSON errors, schema errors,
// duplicate ids, line conventions (blank, CRLF, BOM, no final newline), long lines, chunk
// boundaries; and the atomic summary.json / examples.jsonl writers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "data/jsonl.h"
#include "data/outputs.h"
#include "data/schema.h"

#include "../temp_dir.h"

namespace fs = std::filesystem;
using namespace rs::data;
using nlohmann::json;

namespace {

// Copies of the outside benchmark files (tests/data/fixtures/README.md names source and licence).
const std::string kBench = std::string(RS_SOURCE_DIR) + "/tests/data/fixtures/";

std::string tmp_path(const std::string& name) {
  static const fs::path d = rs_test::temp_dir("rs_jsonl_");
  return (d / name).string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Reads everything from a string; returns the rows or the first error message.
std::string first_error(const std::string& text, const Schema* schema = nullptr,
                        std::vector<JsonlRow>* rows = nullptr) {
  JsonlOptions o;
  o.schema = schema;
  auto r = JsonlReader::from_string(text, "in.jsonl", o);
  JsonlRow row;
  try {
    while (r.next(row))
      if (rows) rows->push_back(row);
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Jsonl, ReadsProntoqaBenchmark) {
  auto rows = read_jsonl(kBench + "prontoqa/dev.jsonl", "prontoqa");
  ASSERT_EQ(rows.size(), 600u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].value["id"], "pq777-1hop-example1");
  EXPECT_TRUE(rows[599].value["chain_of_thought"].is_array());
  auto rep = check_jsonl(kBench + "prontoqa/dev.jsonl", get_schema("prontoqa"));
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.rows, 600u);
  // README: hops 1, 3, 5; answers True/False.
  ASSERT_EQ(rep.counts["hops"].size(), 3u);
  EXPECT_EQ(rep.counts["hops"]["1"] + rep.counts["hops"]["3"] + rep.counts["hops"]["5"], 600u);
  EXPECT_EQ(rep.counts["answer"]["True"] + rep.counts["answer"]["False"], 600u);
}

TEST(Jsonl, ReadsMquakeBenchmarkAsBothSchemas) {
  EXPECT_EQ(read_jsonl(kBench + "mquake-2hop/dev.jsonl", "mquake-2hop").size(), 344u);
  auto rows = read_jsonl(kBench + "mquake-2hop/dev.jsonl", "twohop");
  ASSERT_EQ(rows.size(), 344u);
  EXPECT_TRUE(rows[0].value["composed_cloze"].is_string());
}

TEST(Jsonl, ReadsMinif2fBenchmark) {
  auto rep = check_jsonl(kBench + "minif2f-lean/dev.jsonl", get_schema("minif2f"));
  EXPECT_TRUE(rep.ok()) << (rep.errors.empty() ? "" : rep.errors[0]);
  EXPECT_EQ(rep.rows, 300u);
  EXPECT_EQ(rep.counts["label"]["1"], 100u);  // README: 100 valid, 200 invalid
  EXPECT_EQ(rep.counts["label"]["0"], 200u);
  EXPECT_EQ(read_jsonl(kBench + "minif2f-lean/dev.jsonl", "labelled-text").size(), 300u);
  // The text schema reads any object with the named string field.
  auto ts = text_schema("text");
  EXPECT_EQ(read_jsonl(kBench + "minif2f-lean/dev.jsonl", &ts).size(), 300u);
}

TEST(Jsonl, Utf8Validator) {
  EXPECT_EQ(find_invalid_utf8("plain ascii text, long enough for the fast path"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("é ∀ 𝔸 ✓ 中文 😀"), std::string::npos);
  EXPECT_EQ(find_invalid_utf8("\xF4\x8F\xBF\xBF"), std::string::npos);  // U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xEF\xBF\xBD"), std::string::npos);      // U+FFFD
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);              // lone continuation byte
  EXPECT_EQ(find_invalid_utf8("a\xC0\x80"), 1u);           // overlong NUL
  EXPECT_EQ(find_invalid_utf8("a\xC1\xBF"), 1u);           // overlong
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\x80"), 0u);        // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("xx\xED\xA0\x80"), 2u);      // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xF0\x80\x80\x80"), 0u);    // overlong 4-byte
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x88"), 3u);         // truncated sequence at the end
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x88x"), 3u);        // interrupted sequence
  EXPECT_EQ(find_invalid_utf8("12345678\xC3"), 8u);        // after the 8-byte fast path
}

TEST(Jsonl, InvalidUtf8ReportsLineAndColumn) {
  std::string text = "{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": \"bad \xC3\x28\"}\n";
  EXPECT_EQ(first_error(text), "in.jsonl:2: invalid UTF-8 at byte column 26 (byte 0xc3)");
}

TEST(Jsonl, MalformedJsonReportsLineAndColumn) {
  std::string m = first_error("{\"a\": 1}\n\n{\"a\": 1,, \"b\": 2}\n");
  EXPECT_EQ(m.rfind("in.jsonl:3: malformed JSON at byte column 9: ", 0), 0u) << m;
  m = first_error("{\"a\": 1}\n{\"a\": tru}\n");
  EXPECT_EQ(m.rfind("in.jsonl:2: malformed JSON", 0), 0u) << m;
  m = first_error("{\"a\": \"unterminated\n");
  EXPECT_EQ(m.rfind("in.jsonl:1: malformed JSON", 0), 0u) << m;
  m = first_error("{\"a\": 1e99999}\n");  // a number nlohmann cannot hold (out_of_range)
  EXPECT_EQ(m, "in.jsonl:1: malformed JSON: number overflow parsing '1e99999'");
  m = first_error("{\"a\": 1} {\"b\": 2}\n");  // two objects on one line
  EXPECT_EQ(m.rfind("in.jsonl:1: malformed JSON", 0), 0u) << m;
}

TEST(Jsonl, SchemaErrorsNameLineAndField) {
  const Schema& s = get_schema("labelled-text");
  EXPECT_EQ(first_error("{\"id\": \"a\", \"text\": \"t\", \"label\": 1}\n{\"id\": \"b\", \"label\": 0}\n", &s),
            "in.jsonl:2: field 'text': missing (expected string)");
  EXPECT_EQ(first_error("{\"id\": \"a\", \"text\": 5, \"label\": 1}\n", &s),
            "in.jsonl:1: field 'text': expected string, found number");
  EXPECT_EQ(first_error("{\"id\": \"a\", \"text\": \"t\", \"label\": \"1\"}\n", &s),
            "in.jsonl:1: field 'label': expected int, found string");
  EXPECT_EQ(first_error("{\"id\": \"a\", \"text\": \"t\", \"label\": 1.5}\n", &s),
            "in.jsonl:1: field 'label': expected int, found number");
  EXPECT_EQ(first_error("[1, 2]\n", &s), "in.jsonl:1: expected a JSON object, found array");
  // Without a schema any JSON value per line is accepted.
  EXPECT_EQ(first_error("[1, 2]\n\"x\"\n"), "");
}

TEST(Jsonl, DuplicateIdNamesBothLines) {
  const Schema& s = get_schema("labelled-text");
  std::string text =
      "{\"id\": \"a\", \"text\": \"t\", \"label\": 1}\n"
      "{\"id\": \"b\", \"text\": \"t\", \"label\": 1}\n"
      "{\"id\": \"a\", \"text\": \"u\", \"label\": 0}\n";
  EXPECT_EQ(first_error(text, &s),
            "in.jsonl:3: field 'id': duplicate value \"a\" (first on line 1)");
  // The "text" schema checks ids only when present.
  auto ts = text_schema("text");
  EXPECT_EQ(first_error("{\"text\": \"a\"}\n{\"text\": \"a\"}\n", &ts), "");
  EXPECT_NE(first_error("{\"text\": \"a\", \"id\": 1}\n{\"text\": \"a\", \"id\": 1}\n", &ts), "");
}

TEST(Jsonl, LineConventions) {
  // BOM, CRLF, blank lines anywhere (still counted), no final newline.
  std::string text = "\xEF\xBB\xBF{\"x\": 1}\r\n\r\n   \n{\"x\": 2}\n\t\n{\"x\": 3}";
  std::vector<JsonlRow> rows;
  EXPECT_EQ(first_error(text, nullptr, &rows), "");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].line, 4u);
  EXPECT_EQ(rows[2].line, 6u);
  EXPECT_EQ(rows[2].value["x"], 3);
  rows.clear();
  EXPECT_EQ(first_error("", nullptr, &rows), "");
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(first_error("\n\n\n", nullptr, &rows), "");
  EXPECT_TRUE(rows.empty());
}

TEST(Jsonl, ReaderContinuesAfterAnError) {
  auto r = JsonlReader::from_string("{\"a\": 1}\n{bad\n{\"a\": 3}\n", "in.jsonl");
  JsonlRow row;
  ASSERT_TRUE(r.next(row));
  EXPECT_THROW(r.next(row), rs::Error);
  ASSERT_TRUE(r.next(row));
  EXPECT_EQ(row.line, 3u);
  EXPECT_EQ(row.value["a"], 3);
  EXPECT_FALSE(r.next(row));
}

TEST(Jsonl, OverlongLineIsAnErrorAndSkipped) {
  JsonlOptions o;
  o.max_line_bytes = 1000;
  std::string path = tmp_path("long.jsonl");
  write_text(path, "{\"a\": 1}\n{\"s\": \"" + std::string(5 << 20, 'x') + "\"}\n{\"a\": 3}\n");
  JsonlReader r(path, o);
  JsonlRow row;
  ASSERT_TRUE(r.next(row));
  try {
    r.next(row);
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: line longer than the limit of 1000 bytes");
  }
  ASSERT_TRUE(r.next(row));
  EXPECT_EQ(row.line, 3u);
  EXPECT_FALSE(r.next(row));
  fs::remove(path);
}

TEST(Jsonl, DeepNestingIsRefused) {
  std::string m = first_error(std::string(100000, '[') + std::string(100000, ']') + "\n");
  EXPECT_EQ(m, "in.jsonl:1: JSON nested deeper than 256 levels");
}

TEST(Jsonl, StreamsAcrossChunkBoundaries) {
  // ~3 MB with lines of random length (up to 300 kB), so lines straddle the 1 MiB reads.
  std::mt19937 g(7);
  std::string path = tmp_path("big.jsonl");
  std::vector<std::string> texts;
  std::string all;
  size_t total = 0;
  for (int i = 0; total < (3u << 20); ++i) {
    size_t len = (g() % 7 == 0) ? g() % 300000 : g() % 200;
    std::string t(len, 'a' + i % 26);
    if (i % 5 == 0) t += "é✓";
    texts.push_back(t);
    json row = {{"id", "r" + std::to_string(i)}, {"text", t}};
    all += row.dump() + "\n";
    total += t.size();
  }
  write_text(path, all);
  auto rows = read_jsonl(path, "text");
  ASSERT_EQ(rows.size(), texts.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].line, i + 1);
    ASSERT_EQ(rows[i].value["text"].get<std::string>(), texts[i]) << "row " << i;
  }
  JsonlReader r(path);
  JsonlRow row;
  while (r.next(row)) {
  }
  EXPECT_EQ(r.bytes_read(), all.size());
  fs::remove(path);
}

TEST(Jsonl, CheckCollectsAllErrorsWithCap) {
  std::string path = tmp_path("bad.jsonl");
  std::string text;
  for (int i = 0; i < 30; ++i) text += "{\"id\": \"x\", \"text\": \"t\", \"label\": " + std::to_string(i % 2) + "}\n";
  text += "not json\n";
  write_text(path, text);
  auto rep = check_jsonl(path, get_schema("labelled-text"), 5);
  EXPECT_FALSE(rep.ok());
  EXPECT_EQ(rep.rows, 1u);       // only the first "x" is valid
  EXPECT_EQ(rep.n_errors, 30u);  // 29 duplicates + 1 malformed
  ASSERT_EQ(rep.errors.size(), 5u);
  EXPECT_EQ(rep.errors[0], path + ":2: field 'id': duplicate value \"x\" (first on line 1)");
  EXPECT_EQ(rep.lines, 31u);
  auto j = rep.to_json();
  EXPECT_EQ(j["n_errors"], 30);
  EXPECT_EQ(j["counts"]["label"]["0"], 1);
  EXPECT_THROW(check_jsonl(tmp_path("missing.jsonl"), get_schema("text")), rs::Error);
  fs::remove(path);
}

TEST(Outputs, SummaryJsonIsAtomicAndPretty) {
  std::string path = tmp_path("summary.json");
  write_summary_json(path, {{"auroc", 0.75}, {"layers", {1, 2}}});
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\n  \"auroc\": 0.75,\n  \"layers\": [\n    1,\n    2\n  ]\n}\n");
  // No temporary left behind.
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  fs::remove(path);
}

TEST(Outputs, ExamplesJsonlAppearsOnlyOnCommit) {
  std::string path = tmp_path("examples.jsonl");
  fs::remove(path);
  {
    JsonlWriter w(path);
    w.write({{"id", "a"}, {"score", 1.5}});
    EXPECT_FALSE(fs::exists(path));  // interrupted here -> nothing
  }
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path().filename().string().find("examples.jsonl.tmp"), std::string::npos);
  {
    JsonlWriter w(path);
    w.write({{"id", "a"}, {"piece", std::string("\xE2\x88")}});  // cut UTF-8 -> U+FFFD
    w.write({{"id", "b"}, {"piece", "ok"}});
    EXPECT_THROW(w.write(json::array({1})), rs::Error);
    EXPECT_EQ(w.rows(), 2u);
    w.commit();
  }
  auto rows = read_jsonl(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].value["piece"], "\xEF\xBF\xBD");
  EXPECT_EQ(rows[1].value["id"], "b");
  write_jsonl(path, {json{{"id", "c"}}});
  EXPECT_EQ(read_jsonl(path).size(), 1u);
  fs::remove(path);
}

// Found by fuzz_jsonl (fuzz/corpus/jsonl/crash_report_utf8): the parser's message quotes the
// bytes it read, here the first byte of a two-byte character, so the report's JSON held
// invalid UTF-8 and dump() threw. Invalid bytes now become U+FFFD.
TEST(Jsonl, ReportJsonIsValidUtf8WhenMessagesQuoteBadBytes) {
  std::string path = tmp_path("quote.jsonl");
  write_text(path, "{\"text\": \"ok\"}\n{\xDE\xA0\x64\": \"a\"}\n");
  auto rep = check_jsonl(path, get_schema("text"));
  ASSERT_EQ(rep.n_errors, 1u);
  std::string dumped;
  ASSERT_NO_THROW(dumped = rep.to_json().dump());
  const json back = json::parse(dumped);
  const std::string msg = back["errors"][0].get<std::string>();
  EXPECT_EQ(msg.rfind(path + ":2: malformed JSON", 0), 0u) << msg;
  EXPECT_EQ(find_invalid_utf8(msg), std::string::npos);
  fs::remove(path);
}
