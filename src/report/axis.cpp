#include "report/axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/svg.h"

namespace rs::report {

double Axis::map(double v) const {
  double t;
  if (log) {
    t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  } else {
    t = (v - lo) / (hi - lo);
  }
  return px_lo + t * (px_hi - px_lo);
}

size_t Axis::max_label_chars() const {
  size_t m = 0;
  for (const auto& l : labels) m = std::max(m, utf8_length(l));
  return m;
}

double nice_number(double x, bool round) {
  double e = std::floor(std::log10(x));
  double p = std::pow(10.0, e);
  double f = x / p;
  double nf;
  if (round) {
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nf * p;
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step) {
  double maxabs = 0;
  for (double t : ticks) maxabs = std::max(maxabs, std::fabs(t));
  int step_mag = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  std::vector<std::string> out;
  bool scientific = maxabs >= 1e6 || (step < 1e-4 && maxabs > 0);
  for (double t : ticks) {
    if (std::fabs(t) < step * 1e-9) {
      out.push_back("0");
    } else if (!scientific) {
      out.push_back(fmt_fixed(t, std::max(0, -step_mag)));
    } else {
      // One shared exponent would be tidier, but per-tick "2.5e-6" is unambiguous on its own.
      int exp = static_cast<int>(std::floor(std::log10(std::fabs(t)) + 1e-9));
      int dec = std::max(0, exp - step_mag);
      std::string m = fmt_fixed(t / std::pow(10.0, exp), dec);
      out.push_back(m + "e" + std::to_string(exp));
    }
  }
  return out;
}

Axis linear_axis(double dmin, double dmax, std::optional<double> inc_lo,
                 std::optional<double> inc_hi, int target) {
  bool have = std::isfinite(dmin) && std::isfinite(dmax);
  double lo = have ? dmin : (inc_lo ? *inc_lo : 0.0);
  double hi = have ? dmax : (inc_hi ? *inc_hi : 1.0);
  if (inc_lo) lo = std::min(lo, *inc_lo);
  if (inc_hi) hi = std::max(hi, *inc_hi);
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::max(std::fabs(lo), std::fabs(hi)) * 1e-12) {
    double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  if (target < 2) target = 2;
  double range = nice_number(hi - lo, false);
  double step = nice_number(range / (target - 1), true);
  Axis a;
  // Extend to whole steps; include_lo/hi that are already on a tick stay exact (0..1 stays 0..1).
  long k0 = static_cast<long>(std::floor(lo / step + 1e-9));
  long k1 = static_cast<long>(std::ceil(hi / step - 1e-9));
  a.lo = k0 * step;
  a.hi = k1 * step;
  for (long k = k0; k <= k1; ++k) a.ticks.push_back(k * step);
  a.labels = tick_labels(a.ticks, step);
  return a;
}

namespace {

std::string pow10_label(double mant, int k) {
  if (k >= -3 && k <= 5) return fmt_fixed(mant * std::pow(10.0, k), std::max(0, -k));
  return fmt_fixed(mant, 0) + "e" + std::to_string(k);
}

}  // namespace

Axis log_axis(double dmin, double dmax, std::optional<double> inc_lo,
              std::optional<double> inc_hi) {
  bool have = std::isfinite(dmin) && std::isfinite(dmax) && dmin > 0 && dmax > 0;
  double lo = have ? dmin : 1.0, hi = have ? dmax : 10.0;
  if (inc_lo && *inc_lo > 0) lo = std::min(lo, *inc_lo);
  if (inc_hi && *inc_hi > 0) hi = std::max(hi, *inc_hi);
  if (lo > hi) std::swap(lo, hi);
  int k0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int k1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (k1 <= k0) k1 = k0 + 1;  // a constant (or single-decade) range still spans a decade
  int decades = k1 - k0;
  int every = std::max(1, (decades + 7) / 8);
  Axis a;
  a.log = true;
  // Whole multiples of `every` so the tick decades line up with the ends.
  k0 = static_cast<int>(std::floor(static_cast<double>(k0) / every)) * every;
  k1 = static_cast<int>(std::ceil(static_cast<double>(k1) / every)) * every;
  a.lo = std::pow(10.0, k0);
  a.hi = std::pow(10.0, k1);
  for (int k = k0; k <= k1; k += every) {
    a.ticks.push_back(std::pow(10.0, k));
    a.labels.push_back(pow10_label(1, k));
    if (decades <= 2 && k < k1) {
      for (double m : {2.0, 5.0}) {
        a.ticks.push_back(m * std::pow(10.0, k));
        a.labels.push_back(pow10_label(m, k));
      }
    }
  }
  return a;
}

}  // namespace rs::report
