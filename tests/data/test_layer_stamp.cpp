// How outputs state the layer convention (data/outputs.h, core/layers.h), and how a read-back
// file's stamp is judged: unstamped = version 1 (written before), a known stamp = its version,
// anything else refused as bad input naming the file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/layers.h"
#include "data/outputs.h"

namespace {

using nlohmann::json;

TEST(LayerStamp, LayersAreBlocksOrEmbed) {
  EXPECT_EQ(rs::data::layer_json(rs::kEmbedLayer), json("embed"));
  EXPECT_EQ(rs::data::layer_json(0), json(0));
  EXPECT_EQ(rs::data::layers_json({rs::kEmbedLayer, 0, 5}), json::parse(R"(["embed", 0, 5])"));
}

TEST(LayerStamp, StampReadsBackAsTheCurrentVersion) {
  json s = {{"command", "x"}};
  rs::data::stamp_layer_convention(s);
  EXPECT_EQ(s["layer_convention"], "block");
  EXPECT_EQ(s["layer_convention_version"], rs::kLayerConventionVersion);
  EXPECT_EQ(rs::data::layer_convention_version(s, "f.json"), rs::kLayerConventionVersion);
}

TEST(LayerStamp, UnstampedIsVersionOne) {
  EXPECT_EQ(rs::data::layer_convention_version(json{{"layer", 3}}, "old.json"), 1);
  EXPECT_EQ(rs::data::layer_convention_version(json::array(), "old.json"), 1);
}

TEST(LayerStamp, UnknownStampRefusedNamingTheFile) {
  const json bad[] = {
      {{"layer_convention", "block"}, {"layer_convention_version", rs::kLayerConventionVersion + 1}},
      {{"layer_convention", "hf"}, {"layer_convention_version", 2}},
      {{"layer_convention_version", 2}},
      {{"layer_convention", "block"}, {"layer_convention_version", "2"}},
      {{"layer_convention", 7}, {"layer_convention_version", 0}},
  };
  for (const json& j : bad) {
    try {
      rs::data::layer_convention_version(j, "cal.json");
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const rs::Error& e) {
      EXPECT_EQ(e.code(), rs::ExitCode::kBadInput) << j.dump();
      EXPECT_EQ(std::string(e.what()).rfind("cal.json: ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
