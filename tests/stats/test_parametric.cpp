// Welch's t-test and Cohen's d against scipy.stats.ttest_ind(equal_var=False) and
// pingouin.compute_effsize(eftype='cohen') golden values.
#include <gtest/gtest.h>

#include <cmath>

#include "alternative_parse.h"
#include "core/error.h"
#include "golden_cases.h"
#include "stats/distributions.h"
#include "stats/effect_size.h"
#include "stats/t_test.h"

namespace rs::stats {
namespace {

TEST(WelchT, MatchesScipyGolden) {
  for (const auto& c : golden::cases("welch")) {
    golden::count_case("welch");
    const auto x = golden::doubles(c["x"]), y = golden::doubles(c["y"]);
    const Alternative alt = parse_alternative(c["alternative"]);
    if (golden::expects_error(c)) {
      EXPECT_THROW(welch_t_test(x, y, alt), rs::Error) << c.dump();
      continue;
    }
    const TTestResult r = welch_t_test(x, y, alt);
    EXPECT_TRUE(golden::close("welch", golden::num(c["t"]), r.t)) << c.dump();
    EXPECT_TRUE(golden::close("welch", golden::num(c["df"]), r.df)) << c.dump();
    EXPECT_TRUE(golden::close("welch", golden::num(c["p"]), r.p)) << c.dump();
  }
}

TEST(CohensD, MatchesPingouinGolden) {
  for (const auto& c : golden::cases("cohens_d")) {
    golden::count_case("cohens_d");
    const auto x = golden::doubles(c["x"]), y = golden::doubles(c["y"]);
    if (golden::expects_error(c)) {
      EXPECT_THROW(cohens_d(x, y), rs::Error) << c.dump();
      continue;
    }
    EXPECT_TRUE(golden::close("cohens_d", golden::num(c["expected"]), cohens_d(x, y))) << c.dump();
  }
}

TEST(Distributions, StudentTKnownValues) {
  // t with 1 df is Cauchy: P(T > t) = 1/2 - atan(t)/pi.
  for (double t : {-3.0, -0.5, 0.0, 0.7, 2.0, 50.0})
    EXPECT_NEAR(student_t_sf(t, 1), 0.5 - std::atan(t) / M_PI, 1e-15);
  // t with 2 df: P(T > t) = 1/2 - t / (2 sqrt(2 + t^2)).
  for (double t : {-1.0, 0.3, 4.0})
    EXPECT_NEAR(student_t_sf(t, 2), 0.5 - t / (2 * std::sqrt(2 + t * t)), 1e-15);
  EXPECT_EQ(student_t_sf(INFINITY, 3), 0.0);
  EXPECT_EQ(student_t_sf(-INFINITY, 3), 1.0);
  EXPECT_NEAR(normal_sf(1.959963984540054), 0.025, 1e-15);
}

}  // namespace
}  // namespace rs::stats
