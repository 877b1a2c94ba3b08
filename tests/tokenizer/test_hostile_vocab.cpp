// Inconsistent tokenizer metadata must give one rs::Error naming the file and the key.
#include <gtest/gtest.h>

#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using rs::gguf::Value;
using rs::gguf::ValueType;

Value strings(std::vector<std::string> v) {
  std::vector<Value> items;
  for (auto& s : v) items.push_back(Value::of_string(s));
  return Value::of_array(ValueType::STRING, std::move(items));
}
Value ints(std::vector<int32_t> v) {
  std::vector<Value> items;
  for (auto x : v) items.push_back(Value::of_i32(x));
  return Value::of_array(ValueType::INT32, std::move(items));
}
Value floats(std::vector<float> v) {
  std::vector<Value> items;
  for (auto x : v) items.push_back(Value::of_f32(x));
  return Value::of_array(ValueType::FLOAT32, std::move(items));
}

// A small consistent byte-level vocab: the bytes a..e (as themselves), "ab", "abc".
rs::gguf::Writer good_bpe() {
  rs::gguf::Writer w;
  w.set("general.architecture", Value::of_string("llama"));
  w.set("tokenizer.ggml.model", Value::of_string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::of_string("gpt-2"));
  w.set("tokenizer.ggml.tokens", strings({"<s>", "a", "b", "c", "ab", "abc"}));
  w.set("tokenizer.ggml.token_type", ints({3, 1, 1, 1, 1, 1}));
  w.set("tokenizer.ggml.merges", strings({"a b", "ab c"}));
  w.set("tokenizer.ggml.bos_token_id", Value::of_u32(0));
  return w;
}

std::string error_of(const rs::gguf::Writer& w, const std::string& name) {
  auto bytes = w.to_bytes();
  auto f = rs::gguf::File::from_memory(bytes.data(), bytes.size(), name);
  try {
    rs::tok::Tokenizer::from_gguf(*f);
  } catch (const rs::Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const rs::gguf::Writer& w, const std::string& key, const std::string& detail) {
  std::string msg = error_of(w, "hostile.gguf");
  EXPECT_NE(msg.find("hostile.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find(key), std::string::npos) << "expected key " << key << " in: " << msg;
  EXPECT_NE(msg.find(detail), std::string::npos) << "expected \"" << detail << "\" in: " << msg;
}

TEST(HostileVocab, ConsistentFileLoads) {
  auto bytes = good_bpe().to_bytes();
  auto f = rs::gguf::File::from_memory(bytes.data(), bytes.size(), "good.gguf");
  auto tok = rs::tok::Tokenizer::from_gguf(*f);
  EXPECT_EQ(tok->encode("abc", false), (std::vector<int32_t>{5}));
  EXPECT_EQ(tok->encode("abcab", false), (std::vector<int32_t>{5, 4}));
  EXPECT_EQ(tok->encode("<s>ca", false, true), (std::vector<int32_t>{0, 3, 1}));
}

TEST(HostileVocab, MergeReferencesUnknownToken) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.merges", strings({"a b", "ab zz"}));
  expect_error(w, "tokenizer.ggml.merges", "entry 1");
}

TEST(HostileVocab, MergeResultNotInVocab) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.merges", strings({"b c"}));
  expect_error(w, "tokenizer.ggml.merges", "\"bc\"");
}

TEST(HostileVocab, MalformedMerge) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.merges", strings({"abc"}));
  expect_error(w, "tokenizer.ggml.merges", "entry 0");
}

TEST(HostileVocab, TokenTypeLengthMismatch) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.token_type", ints({3, 1, 1}));
  expect_error(w, "tokenizer.ggml.token_type", "3 entries, expected 6");
}

TEST(HostileVocab, TokenTypeOutOfRange) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.token_type", ints({3, 1, 1, 1, 99, 1}));
  expect_error(w, "tokenizer.ggml.token_type", "entry 4");
}

TEST(HostileVocab, BosIdOutOfRange) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.bos_token_id", Value::of_u32(6));
  expect_error(w, "tokenizer.ggml.bos_token_id", "out of range");
}

TEST(HostileVocab, EosIdHugeUnsigned) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.eos_token_id", Value::of_u32(4294967295u));
  expect_error(w, "tokenizer.ggml.eos_token_id", "out of range");
}

TEST(HostileVocab, MissingTokens) {
  rs::gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::of_string("gpt2"));
  expect_error(w, "tokenizer.ggml.tokens", "");
}

TEST(HostileVocab, TokensOfWrongType) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.tokens", ints({1, 2, 3}));
  expect_error(w, "tokenizer.ggml.tokens", "");
}

TEST(HostileVocab, EmptyVocab) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.tokens", strings({}));
  w.set("tokenizer.ggml.token_type", ints({}));
  w.set("tokenizer.ggml.merges", strings({}));
  w.set("tokenizer.ggml.bos_token_id", Value::of_i32(-1));
  std::string msg = error_of(w, "hostile.gguf");
  EXPECT_NE(msg.find("hostile.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tokenizer.ggml."), std::string::npos) << msg;
}

TEST(HostileVocab, UnsupportedModel) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.model", Value::of_string("bert"));
  expect_error(w, "tokenizer.ggml.model", "bert");
}

TEST(HostileVocab, UnsupportedPreTokenizer) {
  auto w = good_bpe();
  w.set("tokenizer.ggml.pre", Value::of_string("no-such-pre"));
  expect_error(w, "tokenizer.ggml.pre", "no-such-pre");
}

TEST(HostileVocab, ScoresLengthMismatch) {
  rs::gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::of_string("llama"));
  w.set("tokenizer.ggml.tokens", strings({"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"}));
  w.set("tokenizer.ggml.scores", floats({0, 0}));
  expect_error(w, "tokenizer.ggml.scores", "2 entries, expected 4");
}

}  // namespace
