// AUROC, midranks and the Mann-Whitney U test against scipy / scikit-learn golden values.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "alternative_parse.h"
#include "golden_cases.h"
#include "stats/auroc.h"
#include "stats/mann_whitney.h"
#include "stats/ranks.h"

namespace rs::stats {
namespace {

MwuMethod parse_method(const std::string& s) {
  if (s == "auto") return MwuMethod::Auto;
  if (s == "exact") return MwuMethod::Exact;
  return MwuMethod::Asymptotic;
}

TEST(Auroc, MatchesSklearnGolden) {
  for (const auto& c : golden::cases("auroc")) {
    golden::count_case("auroc");
    const auto scores = golden::doubles(c["scores"]);
    const auto labels = golden::ints(c["labels"]);
    if (golden::expects_error(c)) {
      EXPECT_THROW(auroc(scores, labels), rs::Error) << c.dump();
      continue;
    }
    EXPECT_TRUE(golden::close("auroc", golden::num(c["expected"]), auroc(scores, labels)))
        << c.dump();
  }
}

TEST(Auroc, RejectsNanAndEmpty) {
  EXPECT_THROW(auroc({}, {}), rs::Error);
  EXPECT_THROW(auroc({0.1, std::nan("")}, {0, 1}), rs::Error);
}

TEST(Auroc, EqualsNormalisedMannWhitneyU) {
  const std::vector<double> pos = {0.3, 0.9, 0.9, 1.5}, neg = {0.1, 0.9, 0.2};
  std::vector<double> scores(pos);
  scores.insert(scores.end(), neg.begin(), neg.end());
  const std::vector<int> labels = {1, 1, 1, 1, 0, 0, 0};
  const double u1 = mann_whitney_u(pos, neg).u1;
  EXPECT_DOUBLE_EQ(auroc(scores, labels), u1 / (pos.size() * neg.size()));
}

TEST(Ranks, MidranksAndTieTerm) {
  const Ranking r = rank_with_ties({10, 20, 10, 30, 10});
  EXPECT_EQ(r.ranks, (std::vector<double>{2, 4, 2, 5, 2}));
  EXPECT_DOUBLE_EQ(r.tie_term, 27 - 3);
  EXPECT_TRUE(r.has_ties);
  EXPECT_FALSE(rank_with_ties({3, 1, 2}).has_ties);
}

TEST(MannWhitney, MatchesScipyGolden) {
  const auto& pairs = golden::cases("mann_whitney_pairs");  // samples, shared by the cases
  for (const auto& c : golden::cases("mann_whitney")) {
    golden::count_case("mann_whitney");
    const auto& pair = pairs.at(c["pair"].get<size_t>());
    const auto x = golden::doubles(pair["x"]), y = golden::doubles(pair["y"]);
    const Alternative alt = parse_alternative(c["alternative"]);
    const MwuMethod method = parse_method(c["method"]);
    const bool continuity = c["continuity"];
    if (golden::expects_error(c)) {
      EXPECT_THROW(mann_whitney_u(x, y, alt, method, continuity), rs::Error) << c.dump();
      continue;
    }
    const MannWhitneyResult r = mann_whitney_u(x, y, alt, method, continuity);
    EXPECT_EQ(r.u1, golden::num(c["u1"])) << c.dump();  // a half-integer: exact
    EXPECT_TRUE(golden::close("mann_whitney", golden::num(c["p"]), r.p))
        << c["method"] << " " << c["alternative"] << " n=" << x.size() << "," << y.size();
  }
}

TEST(MannWhitney, ExactDistributionIsAProbabilityAndSymmetric) {
  for (int64_t m : {1, 3, 7}) {
    for (int64_t n : {1, 4, 9}) {
      EXPECT_DOUBLE_EQ(mann_whitney_exact_sf(0, m, n), 1.0);
      EXPECT_DOUBLE_EQ(mann_whitney_exact_sf(m * n + 1, m, n), 0.0);
      // P(U >= mn) = P(U = mn) = 1 / C(m+n, m).
      double binom = 1;
      for (int64_t i = 1; i <= m; ++i) binom = binom * static_cast<double>(n + i) / i;
      EXPECT_NEAR(mann_whitney_exact_sf(m * n, m, n), 1 / binom, 1e-15);
      for (int64_t k = 1; k <= m * n; ++k)  // P(U >= k) = P(U <= mn - k) = 1 - P(U >= mn-k+1)
        EXPECT_NEAR(mann_whitney_exact_sf(k, m, n), 1 - mann_whitney_exact_sf(m * n - k + 1, m, n),
                    1e-14);
    }
  }
}

TEST(MannWhitney, AutoChoosesExactOnlyForSmallUntiedSamples) {
  EXPECT_EQ(mann_whitney_u({1, 2, 3}, {4, 5, 6, 7, 8, 9, 10, 11, 12, 13}).method, MwuMethod::Exact);
  EXPECT_EQ(mann_whitney_u({1, 2, 2}, {4, 5}).method, MwuMethod::Asymptotic);
  std::vector<double> a(9), b(9);
  std::iota(a.begin(), a.end(), 0.0);
  std::iota(b.begin(), b.end(), 100.0);
  EXPECT_EQ(mann_whitney_u(a, b).method, MwuMethod::Asymptotic);
}

}  // namespace
}  // namespace rs::stats
