// llama.cpp's tokenizer conformance vectors (copied into tests/data/fixtures/tokenizer-vectors): vocab-only
// GGUF files, test strings separated by lines "__ggml_vocab_test__" (.inp) and the expected ids,
// one line per string (.out), made with the Hugging Face tokenizers: no special tokens added,
// special-token text not parsed. Every string must match exactly, and decode must invert encode.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> load_cases(const std::string& base) {
  const std::string inp = slurp(base + ".inp"), out = slurp(base + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (true) {
    size_t q = inp.find(sep, pos);
    if (q == std::string::npos) break;
    texts.push_back(inp.substr(pos, q - pos));
    pos = q + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  for (const auto& t : texts) {
    std::getline(lines, line);
    Case c{t, {}};
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (auto id : ids) s += std::to_string(id) + " ";
  return s;
}

void run_vocab(const std::string& name, const std::string& expect_model) {
  const std::string base = std::string(RS_SOURCE_DIR) + "/tests/data/fixtures/tokenizer-vectors/ggml-vocab-" + name + ".gguf";
  auto file = rs::gguf::File::open(base);
  auto tok = rs::tok::Tokenizer::from_gguf(*file);
  EXPECT_EQ(tok->model_kind(), expect_model);
  auto cases = load_cases(base);
  ASSERT_EQ(cases.size(), 46u) << base;
  int passed = 0;
  for (const auto& c : cases) {
    auto ids = tok->encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(ids, c.ids) << name << ": text \"" << c.text << "\"\n got      " << show(ids)
                          << "\n expected " << show(c.ids);
    if (ids == c.ids) ++passed;
    EXPECT_EQ(tok->decode(ids), c.text) << name << ": round trip of \"" << c.text << "\"";
  }
  std::printf("%s: %d/%zu conformance strings exact\n", name.c_str(), passed, cases.size());
}

TEST(TokenizerConformance, Gpt2) { run_vocab("gpt-2", "gpt2"); }
TEST(TokenizerConformance, Starcoder) { run_vocab("starcoder", "gpt2"); }
TEST(TokenizerConformance, LlamaSpm) { run_vocab("llama-spm", "llama"); }

}  // namespace
