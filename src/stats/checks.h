// Input validation shared by the statistics: every degenerate input (empty sample, lengths that
// differ, NaN, a label outside {0, 1}, ...) becomes an rs::Error that
// names the function, the argument and what was expected versus found. (Where scipy/sklearn
// define a degenerate case as NaN, e.g. a constant input to pearsonr, the function documents it.)
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"

namespace rs::stats::detail {

inline void require_nonempty(const char* fn, const char* arg, size_t n) {
  if (n == 0) fail("stats::", fn, ": argument '", arg, "' is empty; expected at least 1 value");
}

inline void require_min_size(const char* fn, const char* arg, size_t n, size_t min_n) {
  if (n < min_n)
    fail("stats::", fn, ": argument '", arg, "' has ", n, " values; expected at least ", min_n);
}

inline void require_same_length(const char* fn, const char* a, size_t na, const char* b,
                                size_t nb) {
  if (na != nb)
    fail("stats::", fn, ": arguments '", a, "' and '", b, "' differ in length (", na, " vs ", nb,
         "); expected equal lengths");
}

inline void require_no_nan(const char* fn, const char* arg, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (std::isnan(v[i])) fail("stats::", fn, ": argument '", arg, "' has NaN at index ", i);
}

// Binary labels: every entry 0 or 1; returns the number of 1s.
inline size_t require_binary_labels(const char* fn, const char* arg, const std::vector<int>& y) {
  size_t positives = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1)
      fail("stats::", fn, ": argument '", arg, "' has label ", y[i], " at index ", i,
           "; expected 0 or 1");
    positives += static_cast<size_t>(y[i]);
  }
  return positives;
}

}  // namespace rs::stats::detail
