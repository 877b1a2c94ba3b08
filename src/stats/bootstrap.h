// Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13), seeded and
// reproducible: resample rows with replacement B times, evaluate the statistic on each resample,
// and take the (1-c)/2 and (1+c)/2 quantiles (linear interpolation, as numpy.percentile and
// scipy.stats.bootstrap(method='percentile')) of the B values.
//
// Resampling order (so tools/make_stats_golden.py can reproduce it exactly): one SplitMix64
// stream seeded with `seed`; for resample b = 0..B-1, for row r = 0..n-1 in order, the
// replacement row is drawn uniformly from the rows of r's stratum (all rows when no strata are
// given) with SplitMix64::below. Stratified resampling keeps group sizes fixed, e.g. both
// classes for an AUROC interval.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace rs::stats {

struct BootstrapOptions {
  int n_resamples = 9999;
  double confidence = 0.95;  // in (0, 1)
  uint64_t seed = 0;
};

struct BootstrapInterval {
  double estimate = 0;  // statistic on the original rows
  double low = 0;
  double high = 0;
  std::vector<double> distribution;  // the B resampled statistic values, in resample order
};

// statistic(rows): rows are indices into the caller's data (size n, repeats allowed).
using RowStatistic = std::function<double(const std::vector<size_t>& rows)>;
// strata: empty, or one group id per row.
// Errors: n == 0, n_resamples < 1, confidence outside (0,1), strata size != n, a NaN statistic
// value (the message names the resample).
BootstrapInterval bootstrap_ci(size_t n, const RowStatistic& statistic,
                               const BootstrapOptions& options,
                               const std::vector<int>& strata = {});

// One sample: statistic(resampled values).
using SampleStatistic = std::function<double(const std::vector<double>& sample)>;
BootstrapInterval bootstrap_ci(const std::vector<double>& sample, const SampleStatistic& statistic,
                               const BootstrapOptions& options);

}  // namespace rs::stats
