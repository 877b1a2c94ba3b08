#include "stats/bootstrap.h"

#include <cmath>
#include <map>
#include <numeric>

#include "stats/checks.h"
#include "stats/descriptive.h"
#include "stats/rng.h"

namespace rs::stats {

BootstrapInterval bootstrap_ci(size_t n, const RowStatistic& statistic,
                               const BootstrapOptions& options, const std::vector<int>& strata) {
  const char* fn = "bootstrap_ci";
  detail::require_nonempty(fn, "rows", n);
  if (options.n_resamples < 1)
    fail("stats::bootstrap_ci: n_resamples=", options.n_resamples, "; expected >= 1");
  if (!(options.confidence > 0 && options.confidence < 1))
    fail("stats::bootstrap_ci: confidence=", options.confidence, "; expected 0 < c < 1");
  if (!strata.empty()) detail::require_same_length(fn, "strata", strata.size(), "rows", n);

  // members_of_row[r] points at the list of rows r may be replaced by.
  std::map<int, std::vector<size_t>> groups;
  for (size_t r = 0; r < n; ++r) groups[strata.empty() ? 0 : strata[r]].push_back(r);
  std::vector<const std::vector<size_t>*> members_of_row(n);
  for (size_t r = 0; r < n; ++r) members_of_row[r] = &groups[strata.empty() ? 0 : strata[r]];

  BootstrapInterval out;
  std::vector<size_t> rows(n);
  std::iota(rows.begin(), rows.end(), size_t{0});
  out.estimate = statistic(rows);
  SplitMix64 rng(options.seed);
  out.distribution.reserve(static_cast<size_t>(options.n_resamples));
  for (int b = 0; b < options.n_resamples; ++b) {
    for (size_t r = 0; r < n; ++r) {
      const std::vector<size_t>& members = *members_of_row[r];
      rows[r] = members[rng.below(members.size())];
    }
    const double value = statistic(rows);
    if (std::isnan(value))
      fail("stats::bootstrap_ci: the statistic returned NaN on resample ", b, " (seed ",
           options.seed, "); expected a number for every resample");
    out.distribution.push_back(value);
  }
  const double alpha = (1 - options.confidence) / 2;
  out.low = quantile_linear(out.distribution, alpha);
  out.high = quantile_linear(out.distribution, 1 - alpha);
  return out;
}

BootstrapInterval bootstrap_ci(const std::vector<double>& sample, const SampleStatistic& statistic,
                               const BootstrapOptions& options) {
  std::vector<double> resample(sample.size());
  return bootstrap_ci(
      sample.size(),
      [&](const std::vector<size_t>& rows) {
        for (size_t i = 0; i < rows.size(); ++i) resample[i] = sample[rows[i]];
        return statistic(resample);
      },
      options);
}

}  // namespace rs::stats
