// The torch-free part of --shard and merge (cli/shard.h): the split, its parsing, SHA-256 and
// the checks merge runs on a set of shard folders. End to end: tests/cli/test_shard_merge.sh.
#include "cli/shard.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace rs::cli {
namespace {

using nlohmann::json;

ExitCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

TEST(Shard, ParsesValidSpecs) {
  EXPECT_EQ(parse_shard_spec("0/1").index, 0);
  EXPECT_EQ(parse_shard_spec("2/3").index, 2);
  EXPECT_EQ(parse_shard_spec("2/3").count, 3);
}

TEST(Shard, RefusesBadSpecsAsUsageErrors) {
  for (const char* s : {"4/3", "3/3", "0/0", "-1/2", "1/-2", "1/2x", "a/b", "1", "/", "", "1//2", "1/2/3", " 1/2",
                        "9999999999/99999999999"})
    EXPECT_EQ(code_of([&] { parse_shard_spec(s); }), ExitCode::kUsage) << s;
  try {
    parse_shard_spec("4/3");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--shard '4/3'"), std::string::npos) << e.what();
  }
}

TEST(Shard, RangesTileTheItemsInOrderAndDifferByAtMostOne) {
  for (size_t n : {0, 1, 2, 3, 7, 10, 300, 1001})
    for (int64_t count : {1, 2, 3, 4, 7, 16}) {
      size_t next = 0, lo = n, hi = 0;
      for (int64_t i = 0; i < count; ++i) {
        const ItemRange r = shard_range(n, {i, count});
        EXPECT_EQ(r.begin, next) << n << " " << i << "/" << count;
        EXPECT_LE(r.begin, r.end);
        lo = std::min(lo, r.end - r.begin);
        hi = std::max(hi, r.end - r.begin);
        next = r.end;
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(hi - lo, 1u) << n << " items in " << count;
    }
  EXPECT_EQ(shard_range(10, {0, 3}).end, 3u);
  EXPECT_EQ(shard_range(10, {1, 3}).end, 6u);
}

TEST(Shard, Sha256MatchesFips180Examples) {
  // FIPS 180-4 / NIST CSRC example values, and a message needing a second padding block.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

ShardInfo shard(const std::string& dir, int64_t i, int64_t n, size_t total = 10) {
  const ItemRange r = shard_range(total, {i, n});
  return {dir, json{{"format", 1},
                    {"args", {"score", "--data=t.jsonl", "--field=text"}},
                    {"shard", {{"index", i}, {"count", n}}},
                    {"items", {{"begin", r.begin}, {"end", r.end}, {"total", total}}},
                    {"n_rows", r.end - r.begin},
                    {"data", {{"path", "t.jsonl"}, {"sha256", "ab"}}},
                    {"out_kind", "dir"},
                    {"settings", {{"command", "score"}, {"model", {{"path", "m.gguf"}, {"size", 1}}}}}}};
}

std::string message_of(const std::vector<ShardInfo>& s) {
  try {
    check_shard_set(s);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    return e.what();
  }
  return "";
}

TEST(Shard, AcceptsAWholeSplitInAnyOrder) {
  const auto sorted = check_shard_set({shard("c", 2, 3), shard("a", 0, 3), shard("b", 1, 3)});
  ASSERT_EQ(sorted.size(), 3u);
  EXPECT_EQ(sorted[0].dir, "a");
  EXPECT_EQ(sorted[2].dir, "c");
}

TEST(Shard, RefusesMissingOverlappingAndMixedShards) {
  EXPECT_NE(message_of({shard("a", 0, 3), shard("c", 2, 3)}).find("shard 1/3 is missing"), std::string::npos);
  EXPECT_NE(message_of({shard("a", 0, 3), shard("b", 1, 3), shard("b2", 1, 3), shard("c", 2, 3)}).find("given twice"),
            std::string::npos);
  EXPECT_NE(message_of({shard("a", 0, 3), shard("b", 1, 2)}).find("different splits"), std::string::npos);
  ShardInfo other_model = shard("b", 1, 3);
  other_model.meta["settings"]["model"]["size"] = 2;
  EXPECT_NE(message_of({shard("a", 0, 3), other_model, shard("c", 2, 3)}).find("settings.model.size"), std::string::npos);
  ShardInfo other_option = shard("b", 1, 3);
  other_option.meta["args"][2] = "--field=other";
  EXPECT_NE(message_of({shard("a", 0, 3), other_option, shard("c", 2, 3)}).find("--field=other"), std::string::npos);
  ShardInfo other_input = shard("b", 1, 3);
  other_input.meta["data"]["sha256"] = "cd";
  EXPECT_NE(message_of({shard("a", 0, 3), other_input, shard("c", 2, 3)}).find("data.sha256"), std::string::npos);
  ShardInfo wrong_range = shard("b", 1, 3);
  wrong_range.meta["items"]["end"] = 7;
  EXPECT_NE(message_of({shard("a", 0, 3), wrong_range, shard("c", 2, 3)}).find("are not shard 1/3"), std::string::npos);
  EXPECT_EQ(code_of([] { check_shard_set({}); }), ExitCode::kUsage);
}

TEST(Shard, ReplayArgsKeepOptionsButNotOutResumeOrShard) {
  CLI::App app{"t"};
  CLI::App* parent = app.add_subcommand("verify", "");
  CLI::App* sub = parent->add_subcommand("spectral", "");
  std::string data, out, alphas;
  bool resume = false, per_head = false;
  std::string kind;
  ShardOptions so;
  sub->add_option("kind", kind);
  sub->add_option("--data", data);
  sub->add_option("--alpha", alphas);
  sub->add_option("--out,-o", out);
  sub->add_flag("--resume", resume);
  sub->add_flag("--per-head", per_head);
  add_shard_option(*sub, so);
  app.parse(std::vector<std::string>{"1/3", "--shard", "--resume", "x", "-o", "--per-head", "-2,2", "--alpha", "d.jsonl",
                                     "--data", "twohop", "spectral", "verify"});  // CLI11 reads this vector from the back
  EXPECT_EQ(so.spec, "1/3");
  const std::vector<std::string> want{"verify", "spectral", "--data=d.jsonl", "--alpha=-2,2", "--per-head", "twohop"};
  EXPECT_EQ(replay_args(*sub), want);
  // The replayed arguments parse to the same values.
  CLI::App again{"t"};
  CLI::App* p2 = again.add_subcommand("verify", "");
  CLI::App* s2 = p2->add_subcommand("spectral", "");
  std::string d2, a2, k2;
  bool ph2 = false;
  s2->add_option("kind", k2);
  s2->add_option("--data", d2);
  s2->add_option("--alpha", a2);
  s2->add_flag("--per-head", ph2);
  std::vector<std::string> rev(want.rbegin(), want.rend());
  again.parse(rev);
  EXPECT_EQ(d2, "d.jsonl");
  EXPECT_EQ(a2, "-2,2");
  EXPECT_TRUE(ph2);
  EXPECT_EQ(k2, "twohop");
}

TEST(Shard, BadShardOptionIsAUsageErrorWhileParsing) {
  CLI::App app{"t"};
  ShardOptions so;
  add_shard_option(app, so);
  EXPECT_EQ(code_of([&] { app.parse(std::vector<std::string>{"4/3", "--shard"}); }), ExitCode::kUsage);
}

}  // namespace
}  // namespace rs::cli
