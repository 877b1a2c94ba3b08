// Percentile bootstrap: the SplitMix64 resampling documented in stats/bootstrap.h, reproduced in
// Python by tools/make_stats_golden.py, with numpy.percentile for the interval; quantiles
// against numpy.percentile; determinism per seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "golden_cases.h"
#include "stats/auroc.h"
#include "stats/bootstrap.h"
#include "stats/descriptive.h"
#include "stats/rng.h"

namespace rs::stats {
namespace {

double median(std::vector<double> v) { return quantile_linear(std::move(v), 0.5); }
double stddev1(const std::vector<double>& v) { return std::sqrt(variance(v, 1)); }

TEST(Quantile, MatchesNumpyPercentile) {
  for (const auto& c : golden::cases("quantile")) {
    golden::count_case("quantile");
    EXPECT_TRUE(golden::close("quantile", golden::num(c["expected"]),
                              quantile_linear(golden::doubles(c["values"]), c["q"])))
        << c.dump();
  }
  EXPECT_THROW(quantile_linear({}, 0.5), rs::Error);
  EXPECT_THROW(quantile_linear({1.0}, 1.5), rs::Error);
}

TEST(Bootstrap, MatchesGoldenResampling) {
  for (const auto& c : golden::cases("bootstrap")) {
    golden::count_case("bootstrap");
    const auto data = golden::doubles(c["data"]);
    BootstrapOptions opt;
    opt.n_resamples = c["n_resamples"];
    opt.confidence = c["confidence"];
    opt.seed = std::stoull(c["seed"].get<std::string>());
    const std::string stat = c["statistic"];
    BootstrapInterval r;
    if (stat == "auroc") {
      const auto labels = golden::ints(c["labels"]);
      r = bootstrap_ci(
          data.size(),
          [&](const std::vector<size_t>& rows) {
            std::vector<double> s;
            std::vector<int> l;
            for (size_t i : rows) s.push_back(data[i]), l.push_back(labels[i]);
            return auroc(s, l);
          },
          opt, golden::ints(c["strata"]));
    } else {
      SampleStatistic fn = stat == "mean"     ? SampleStatistic([](const std::vector<double>& v) { return mean(v); })
                           : stat == "median" ? SampleStatistic(median)
                                              : SampleStatistic(stddev1);
      r = bootstrap_ci(data, fn, opt);
    }
    EXPECT_EQ(r.distribution.size(), static_cast<size_t>(opt.n_resamples));
    EXPECT_TRUE(golden::close("bootstrap", golden::num(c["estimate"]), r.estimate)) << c.dump();
    EXPECT_TRUE(golden::close("bootstrap", golden::num(c["low"]), r.low)) << stat << " seed " << opt.seed;
    EXPECT_TRUE(golden::close("bootstrap", golden::num(c["high"]), r.high)) << stat << " seed " << opt.seed;
  }
}

TEST(Bootstrap, DeterministicPerSeedAndCoversTheMean) {
  SplitMix64 gen(7);
  std::vector<double> sample(200);
  for (double& v : sample) v = gen.uniform();  // mean 0.5, sd 1/sqrt(12)
  BootstrapOptions opt;
  opt.n_resamples = 2000;
  opt.seed = 42;
  const SampleStatistic m = [](const std::vector<double>& v) { return mean(v); };
  const BootstrapInterval a = bootstrap_ci(sample, m, opt), b = bootstrap_ci(sample, m, opt);
  EXPECT_EQ(a.distribution, b.distribution);
  opt.seed = 43;
  EXPECT_NE(bootstrap_ci(sample, m, opt).distribution, a.distribution);
  // Width close to the normal-theory 2 * 1.96 * sd / sqrt(n).
  const double expected_width = 2 * 1.96 * std::sqrt(variance(sample, 1) / 200.0);
  EXPECT_NEAR(a.high - a.low, expected_width, 0.15 * expected_width);
  EXPECT_LT(a.low, a.estimate);
  EXPECT_GT(a.high, a.estimate);
}

TEST(Bootstrap, StratifiedResamplingKeepsClassSizes) {
  const std::vector<int> strata = {0, 0, 1, 1, 1, 0, 1};
  BootstrapOptions opt;
  opt.n_resamples = 300;
  bootstrap_ci(
      strata.size(),
      [&](const std::vector<size_t>& rows) {
        for (size_t r = 0; r < rows.size(); ++r) EXPECT_EQ(strata[rows[r]], strata[r]);
        return 0.0;
      },
      opt, strata);
}

TEST(Bootstrap, RejectsBadOptionsAndNanStatistics) {
  BootstrapOptions opt;
  opt.n_resamples = 10;
  const SampleStatistic nan_stat = [](const std::vector<double>&) { return std::nan(""); };
  EXPECT_THROW(bootstrap_ci({1.0, 2.0}, nan_stat, opt), rs::Error);
  const SampleStatistic m = [](const std::vector<double>& v) { return mean(v); };
  EXPECT_THROW(bootstrap_ci(std::vector<double>{}, m, opt), rs::Error);
  opt.confidence = 1.0;
  EXPECT_THROW(bootstrap_ci({1.0, 2.0}, m, opt), rs::Error);
  opt.confidence = 0.9;
  opt.n_resamples = 0;
  EXPECT_THROW(bootstrap_ci({1.0, 2.0}, m, opt), rs::Error);
}

TEST(SplitMix64, KnownFirstOutputs) {
  // Reference stream for seed 0 (Vigna's splitmix64.c test vector: 0xe220a8397b1dcdaf, ...).
  SplitMix64 g(0);
  EXPECT_EQ(g.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(g.next(), 0x6e789e6aa1b965f4ULL);
  SplitMix64 h(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(h.below(7), 7u);
}

}  // namespace
}  // namespace rs::stats
