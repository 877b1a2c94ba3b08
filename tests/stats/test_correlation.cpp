// Pearson, Spearman and partial correlation against scipy.stats.pearsonr / spearmanr and
// pingouin.partial_corr golden values.
#include <gtest/gtest.h>

#include <cmath>

#include "alternative_parse.h"
#include "core/error.h"
#include "golden_cases.h"
#include "stats/correlation.h"
#include "stats/partial_correlation.h"

namespace rs::stats {
namespace {

void check_correlation(const std::string& name,
                       CorrelationResult (*fn)(const std::vector<double>&,
                                               const std::vector<double>&, Alternative)) {
  for (const auto& c : golden::cases(name)) {
    golden::count_case(name);
    const auto x = golden::doubles(c["x"]), y = golden::doubles(c["y"]);
    const Alternative alt = parse_alternative(c["alternative"]);
    if (golden::expects_error(c)) {
      EXPECT_THROW(fn(x, y, alt), rs::Error) << c.dump();
      continue;
    }
    const CorrelationResult r = fn(x, y, alt);
    EXPECT_TRUE(golden::close(name, golden::num(c["r"]), r.r)) << c.dump();
    EXPECT_TRUE(golden::close(name, golden::num(c["p"]), r.p)) << c.dump();
  }
}

TEST(Pearson, MatchesScipyGolden) { check_correlation("pearson", pearson); }
TEST(Spearman, MatchesScipyGolden) { check_correlation("spearman", spearman); }

TEST(PartialCorrelation, MatchesPingouinGolden) {
  for (const auto& c : golden::cases("partial_correlation")) {
    golden::count_case("partial_correlation");
    const auto x = golden::doubles(c["x"]), y = golden::doubles(c["y"]);
    std::vector<std::vector<double>> z;
    for (const auto& col : c["covariates"]) z.push_back(golden::doubles(col));
    const CorrelationKind kind =
        c["method"] == "spearman" ? CorrelationKind::Spearman : CorrelationKind::Pearson;
    const Alternative alt = parse_alternative(c["alternative"]);
    if (golden::expects_error(c)) {
      EXPECT_THROW(partial_correlation(x, y, z, kind, alt), rs::Error) << c.dump();
      continue;
    }
    const CorrelationResult r = partial_correlation(x, y, z, kind, alt);
    EXPECT_TRUE(golden::close("partial_correlation", golden::num(c["r"]), r.r)) << c.dump();
    EXPECT_TRUE(golden::close("partial_correlation", golden::num(c["p"]), r.p)) << c.dump();
  }
}

TEST(PartialCorrelation, RemovesAConfounder) {
  // x and y both follow z exactly plus independent parts: raw r is large, partial r ~ that of
  // the independent parts, which are orthogonal by construction here (exactly 0).
  const std::vector<double> z = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> ex = {1, -1, 1, -1, 1, -1, 1, -1}, ey = {1, 1, -1, -1, 1, 1, -1, -1};
  std::vector<double> x(8), y(8);
  for (size_t i = 0; i < 8; ++i) x[i] = 3 * z[i] + ex[i], y[i] = -2 * z[i] + ey[i];
  EXPECT_LT(pearson(x, y).r, -0.9);
  const double pr = partial_correlation(x, y, {z}).r;
  // ex, ey have zero mean; their residuals on z are ex - b_x z', ey - b_y z': compute by hand.
  EXPECT_LT(std::fabs(pr), 0.5);
  EXPECT_THROW(partial_correlation(x, y, {}), rs::Error);
  EXPECT_THROW(partial_correlation(x, {1, 2}, {z}), rs::Error);
}

}  // namespace
}  // namespace rs::stats
