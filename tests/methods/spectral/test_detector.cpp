// The statistics the detector reports, against values worked out by hand, and the selection /
// nested-CV / calibration-file logic on constructed data.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "methods/spectral/detector.h"
#include "stats/partial_correlation.h"

using namespace rs::spectral;
using rs::stats::ThresholdDirection;

// valid {3, 4, 5}, invalid {1, 2, 4}.
//   AUROC: valid-invalid pairs won 3>1 3>2 (3<4) | 4>1 4>2 4=4 (1/2) | 5>all: 7.5 / 9
//   Cohen's d: means 4 and 7/3, variances 1 and 7/3, pooled (2*1 + 2*7/3)/4 = 5/3:
//     d = (4 - 7/3) / sqrt(5/3) = 1.2909944
//   Mann-Whitney: U1 = 7.5, mu = 4.5, tie-corrected sigma^2 = 9/12 (7 - 6/30) = 5.1,
//     z = (3 - 0.5) / sqrt(5.1), p = erfc(z / sqrt 2) = 0.2682859
//   best threshold: "valid if > 2.5" gets 5/6 right (the tie at 4 costs one)
TEST(SpectralStats, HandCheckedSmallSample) {
  const std::vector<double> s = {3, 4, 5, 1, 2, 4};
  const std::vector<int> y = {1, 1, 1, 0, 0, 0};
  const ScoreStats st = score_stats(s, y);
  EXPECT_NEAR(st.auroc_raw, 7.5 / 9, 1e-12);
  EXPECT_NEAR(st.auroc, 7.5 / 9, 1e-12);
  EXPECT_NEAR(st.cohens_d, (4.0 - 7.0 / 3) / std::sqrt(5.0 / 3), 1e-12);
  EXPECT_NEAR(st.mw_p, std::erfc(2.5 / std::sqrt(5.1) / std::sqrt(2.0)), 1e-9);
  EXPECT_NEAR(st.mw_p, 0.26828588, 1e-7);
  EXPECT_EQ(st.best.direction, ThresholdDirection::Greater);
  EXPECT_NEAR(st.best.threshold, 2.5, 1e-12);
  EXPECT_NEAR(st.best.accuracy, 5.0 / 6, 1e-12);
  // the same score negated: direction flips, the oriented AUROC stays, d changes sign
  std::vector<double> neg;
  for (double v : s) neg.push_back(-v);
  const ScoreStats sn = score_stats(neg, y);
  EXPECT_EQ(sn.best.direction, ThresholdDirection::Less);
  EXPECT_NEAR(sn.auroc_raw, 1.5 / 9, 1e-12);
  EXPECT_NEAR(sn.auroc, 7.5 / 9, 1e-12);
  EXPECT_NEAR(sn.cohens_d, -st.cohens_d, 1e-12);
  EXPECT_NEAR(sn.mw_p, st.mw_p, 1e-12);
}

// x = 1..6, y = {0,0,1,0,1,1}, z = {1,3,2,5,4,6}: r_xy = 3.5 / sqrt(17.5 * 1.5) = 0.6831301,
// r_xz = 15.5 / 17.5 = 0.8857143, r_yz = 1.5 / sqrt(1.5 * 17.5) = 0.2927700, and
// r_xy.z = (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2)) = 0.9547859.
TEST(SpectralStats, PartialCorrelationByHand) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6}, y = {0, 0, 1, 0, 1, 1}, z = {1, 3, 2, 5, 4, 6};
  const double rxy = 3.5 / std::sqrt(17.5 * 1.5), rxz = 15.5 / 17.5, ryz = 1.5 / std::sqrt(1.5 * 17.5);
  const double want = (rxy - rxz * ryz) / std::sqrt((1 - rxz * rxz) * (1 - ryz * ryz));
  EXPECT_NEAR(want, 0.9547859, 1e-7);
  EXPECT_NEAR(rs::stats::partial_correlation(x, y, {z}).r, want, 1e-12);
}

TEST(SpectralStats, BadInput) {
  EXPECT_THROW(score_stats({1, 2, 3}, {1, 1, 1}), rs::Error);        // one class
  EXPECT_THROW(score_stats({1, 2, 3, 4}, {1, 0, 2, 0}), rs::Error);  // label 2
  EXPECT_THROW(score_stats({1, NAN, 3, 4}, {1, 0, 1, 0}), rs::Error);
  EXPECT_THROW(score_stats({1, 2}, {1, 0, 1}), rs::Error);
}

// Candidate 1 separates perfectly, candidate 0 is noise: the selection and every outer fold
// pick candidate 1, nested accuracy is 1; swapping the order changes only the index.
TEST(SpectralSelection, PicksTheSeparatingCandidate) {
  std::vector<int> y;
  std::vector<double> noise, good;
  for (int i = 0; i < 40; ++i) {
    y.push_back(i % 3 == 0);
    noise.push_back(std::sin(i * 12.9898) * 43758.5453 - std::floor(std::sin(i * 12.9898) * 43758.5453));
    good.push_back(y.back() ? -1.0 - 0.01 * i : 1.0 + 0.01 * i);  // valid lower, like HFER
  }
  const Selection sel = select_candidate({noise, good}, y, 5, 7);
  EXPECT_EQ(sel.chosen, 1u);
  EXPECT_DOUBLE_EQ(sel.cv_accuracy, 1.0);
  EXPECT_EQ(sel.fitted.direction, ThresholdDirection::Less);
  EXPECT_DOUBLE_EQ(sel.fitted.accuracy, 1.0);
  const NestedAccuracy na = nested_accuracy({noise, good}, y, 5, 7);
  EXPECT_DOUBLE_EQ(na.mean, 1.0);
  EXPECT_DOUBLE_EQ(na.std, 0.0);
  EXPECT_DOUBLE_EQ(na.pooled, 1.0);
  for (size_t c : na.fold_chosen) EXPECT_EQ(c, 1u);
  EXPECT_EQ(select_candidate({good, noise}, y, 5, 7).chosen, 0u);
  // the nested estimate of pure noise stays near chance, well below its in-sample best
  const NestedAccuracy nn = nested_accuracy({noise}, y, 5, 7);
  EXPECT_LT(nn.mean, score_stats(noise, y).best.accuracy);
  EXPECT_THROW(nested_accuracy({good}, y, 1, 7), rs::Error);
}

TEST(SpectralDetector, JsonRoundTripAndErrors) {
  Detector d;
  d.layer = 12;
  d.metric = "hfer";
  d.direction = ThresholdDirection::Less;
  d.threshold = 0.0123456789012345;
  d.laplacian = "rw";
  d.max_tokens = 256;
  d.model = {{"arch", "llama"}};
  const Detector back = detector_from_json(detector_to_json(d), "cal.json");
  EXPECT_EQ(back.layer, 12);
  EXPECT_EQ(back.metric, "hfer");
  EXPECT_EQ(back.direction, ThresholdDirection::Less);
  EXPECT_EQ(back.threshold, d.threshold);  // exact: JSON numbers round-trip doubles
  EXPECT_EQ(back.max_tokens, 256);
  EXPECT_EQ(back.predict(0.01), 1);
  EXPECT_EQ(back.predict(0.02), 0);
  d.threshold = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(detector_from_json(detector_to_json(d), "cal.json").threshold, d.threshold);
  nlohmann::json j = detector_to_json(d);
  j.erase("metric");
  try {
    detector_from_json(j, "cal.json");
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cal.json: field 'metric' is missing"), std::string::npos) << e.what();
  }
  j = detector_to_json(d);
  j["laplacian"] = "lap";
  EXPECT_THROW(detector_from_json(j, "cal.json"), rs::Error);
  j = detector_to_json(d);
  j["layer"] = "3";
  EXPECT_THROW(detector_from_json(j, "cal.json"), rs::Error);
}

// The baselines' frozen rules round-trip (an infinite threshold too); a file without them reads
// as before (empty), and a malformed one names the field.
TEST(SpectralDetector, JsonBaselineRules) {
  Detector d;
  d.metric = "hfer";
  d.baselines = {{"token_count", ThresholdDirection::Greater, 41.5},
                 {"mean_logprob", ThresholdDirection::Less, -std::numeric_limits<double>::infinity()}};
  const Detector back = detector_from_json(detector_to_json(d), "cal.json");
  ASSERT_EQ(back.baselines.size(), 2u);
  EXPECT_EQ(back.baselines[0].name, "token_count");
  EXPECT_EQ(back.baselines[0].threshold, 41.5);
  EXPECT_EQ(back.baselines[0].predict(42), 1);
  EXPECT_EQ(back.baselines[1].direction, ThresholdDirection::Less);
  EXPECT_EQ(back.baselines[1].threshold, d.baselines[1].threshold);
  nlohmann::json j = detector_to_json(d);
  j.erase("baselines");
  EXPECT_TRUE(detector_from_json(j, "cal.json").baselines.empty());
  j = detector_to_json(d);
  j["baselines"].erase("mean_logprob");
  try {
    detector_from_json(j, "cal.json");
    FAIL();
  } catch (const rs::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cal.json: field 'baselines.mean_logprob' is missing", 0), 0u) << e.what();
    EXPECT_EQ(e.code(), rs::ExitCode::kBadInput);
  }
  j = detector_to_json(d);
  j["baselines"]["token_count"]["threshold"] = "x";
  EXPECT_THROW(detector_from_json(j, "cal.json"), rs::Error);
}

// Integer fields are range-checked before the cast (a double outside int is undefined
// behaviour); every refusal names the file and carries the bad-input exit status.
TEST(SpectralDetector, JsonIntegerFieldsOutOfRange) {
  Detector d;
  d.layer = 3;
  d.metric = "hfer";
  d.laplacian = "rw";
  d.max_tokens = 256;
  const std::pair<const char*, double> bad[] = {
      {"layer", 1e300}, {"layer", 2147483648.0}, {"layer", -1.0}, {"layer", 1.5},
      {"max_tokens", 1e19}, {"max_tokens", -1e300}, {"max_tokens", 1.0}, {"max_tokens", 3e9}};
  for (const auto& [field, value] : bad) {
    nlohmann::json j = detector_to_json(d);
    j[field] = value;
    try {
      detector_from_json(j, "cal.json");
      ADD_FAILURE() << field << " = " << value << " accepted";
    } catch (const rs::Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(std::string("cal.json: field '") + field + "'", 0), 0u) << msg;
      EXPECT_EQ(e.code(), rs::ExitCode::kBadInput) << msg;
    }
  }
  nlohmann::json j = detector_to_json(d);
  j["layer"] = 2147483647.0;
  EXPECT_EQ(detector_from_json(j, "cal.json").layer, 2147483647);
}
