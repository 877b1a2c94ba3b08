// The one layer-list parser (core/layers.h) and comma splitter (core/text.h).
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/layers.h"
#include "core/text.h"

namespace {

using V = std::vector<int>;

// The message of the usage error `f` throws (and that it is one).
template <typename F>
std::string usage_error(F f) {
  try {
    f();
  } catch (const rs::Error& e) {
    EXPECT_EQ(e.code(), rs::ExitCode::kUsage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(SplitCommas, KeepsEveryItem) {
  EXPECT_EQ(rs::split_commas("a,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rs::split_commas("a,,b,"), (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(rs::split_commas(""), (std::vector<std::string>{""}));
  EXPECT_EQ(rs::split_commas("one"), (std::vector<std::string>{"one"}));
}

TEST(ParseLayers, AllIsEveryBlock) {
  EXPECT_EQ(rs::parse_layers("--layers", "all", 4), (V{0, 1, 2, 3}));
  EXPECT_EQ(rs::parse_layers("--layers", "all", 4, /*allow_embed=*/true), (V{0, 1, 2, 3}));
  EXPECT_EQ(rs::parse_layers("--layers", "embed,all", 3, true), (V{rs::kEmbedLayer, 0, 1, 2}));
}

TEST(ParseLayers, RangesAndListsAscendingWithoutRepeats) {
  EXPECT_EQ(rs::parse_layers("--layers", "3-7", 10), (V{3, 4, 5, 6, 7}));
  EXPECT_EQ(rs::parse_layers("--layers", "9,1,4", 10), (V{1, 4, 9}));
  EXPECT_EQ(rs::parse_layers("--layers", "2-4,3,0", 10), (V{0, 2, 3, 4}));
  EXPECT_EQ(rs::parse_layers("--layers", "0", 1), (V{0}));
  EXPECT_EQ(rs::parse_layers("--layers", "0-2,embed", 3, true), (V{rs::kEmbedLayer, 0, 1, 2}));
}

TEST(ParseLayers, RejectsWithTheOptionsName) {
  const std::string neg = usage_error([] { rs::parse_layers("--layers", "-1", 8); });
  EXPECT_NE(neg.find("--layers: negative"), std::string::npos) << neg;
  const std::string big = usage_error([] { rs::parse_layers("--per-case-creme", "2-8", 8); });
  EXPECT_NE(big.find("--per-case-creme: layer 8 is out of range"), std::string::npos) << big;
  EXPECT_NE(big.find("blocks 0..7"), std::string::npos) << big;
  const std::string emb = usage_error([] { rs::parse_layers("--layers", "embed,all", 8); });
  EXPECT_NE(emb.find("not the embeddings"), std::string::npos) << emb;
  for (const char* bad : {"", "x", "1,,2", "3-", "-", "5-3", "1.5", "all-3", "1 ", "0x3", "3--1", "9999999999"})
    EXPECT_NE(usage_error([bad] { rs::parse_layers("--layers", bad, 8, true); }).find("--layers"), std::string::npos)
        << "'" << bad << "'";
}

TEST(ParseLayers, HugeRangeFailsBeforeExpanding) {
  // Checked as a range: no billion-element vector is built before the bound is found.
  EXPECT_NE(usage_error([] { rs::parse_layers("--layers", "0-999999999", 32); }).find("out of range"),
            std::string::npos);
}

TEST(ParseIntList, OrderKeptAndBounded) {
  EXPECT_EQ(rs::parse_int_list("--hops", "1-3,5", 6), (V{1, 2, 3, 5}));
  EXPECT_EQ(rs::parse_int_list("--hops", "5,1", 6), (V{5, 1}));
  EXPECT_NE(usage_error([] { rs::parse_int_list("--hops", "1-70", 6); }).find("--hops: 70 is out of range"),
            std::string::npos);
  EXPECT_NE(usage_error([] { rs::parse_int_list("--hops", "4-2", 6); }).find("runs backwards"), std::string::npos);
  EXPECT_NE(usage_error([] { rs::parse_int_list("--hops", "x", 6); }).find("--hops"), std::string::npos);
}

TEST(LayerNames, EmbedAndBlocks) {
  EXPECT_EQ(rs::layer_name(rs::kEmbedLayer), "embed");
  EXPECT_EQ(rs::layer_name(7), "7");
  EXPECT_EQ(rs::resid_hook(rs::kEmbedLayer), "hook_embed");
  EXPECT_EQ(rs::resid_hook(0), "blocks.0.hook_resid_post");
}

}  // namespace
