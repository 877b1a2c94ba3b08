// Loads tests/golden/stats/stats_golden.json (written by tools/make_stats_golden.py from scipy,
// scikit-learn and pingouin) and compares numbers to 1e-9 relative, recording the largest
// relative error seen per statistic so each test binary prints it at the end.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace golden {

using nlohmann::json;

inline const json& all() {
  static const json j = [] {
    const std::string path = std::string(RS_SOURCE_DIR) + "/tests/golden/stats/stats_golden.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return json::parse(in);
  }();
  return j;
}

inline const json& cases(const std::string& statistic) { return all().at(statistic); }

// Non-finite numbers are stored as strings.
inline double num(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw std::runtime_error("golden: unexpected string number " + s);
  }
  return v.get<double>();
}

inline std::vector<double> doubles(const json& v) {
  std::vector<double> out;
  for (const auto& e : v) out.push_back(num(e));
  return out;
}
inline std::vector<int> ints(const json& v) { return v.get<std::vector<int>>(); }
inline std::vector<int64_t> int64s(const json& v) { return v.get<std::vector<int64_t>>(); }
inline bool expects_error(const json& c) { return c.value("error", false); }

inline std::map<std::string, double>& max_errors() {
  static std::map<std::string, double> m;
  return m;
}
inline std::map<std::string, int>& case_counts() {
  static std::map<std::string, int> m;
  return m;
}
inline void count_case(const std::string& statistic) { ++case_counts()[statistic]; }

constexpr double kRelTol = 1e-9;

// NaN matches NaN, infinities match by sign, otherwise |a - e| <= 1e-9 max(|a|, |e|).
inline ::testing::AssertionResult close(const std::string& statistic, double expected,
                                        double actual) {
  if (std::isnan(expected) || std::isnan(actual)) {
    if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  } else if (std::isinf(expected) || std::isinf(actual)) {
    if (expected == actual) return ::testing::AssertionSuccess();
  } else {
    const double scale = std::max(std::fabs(expected), std::fabs(actual));
    const double rel = scale == 0 ? 0 : std::fabs(actual - expected) / scale;
    double& worst = max_errors()[statistic];
    worst = std::max(worst, rel);
    if (rel <= kRelTol) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << statistic << ": expected " << expected << ", got " << actual << " (relative error "
           << rel << ")";
  }
  return ::testing::AssertionFailure() << statistic << ": expected " << expected << ", got "
                                       << actual;
}

// Prints "golden <statistic>: N cases, max relative error E" after all tests of a binary.
class SummaryPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& kv : case_counts())
      std::cout << "golden " << kv.first << ": " << kv.second << " cases, max relative error "
                << max_errors()[kv.first] << "\n";
  }
};
inline const bool kSummaryRegistered =
    (::testing::AddGlobalTestEnvironment(new SummaryPrinter), true);

}  // namespace golden
