// Sampling transforms on the CPU in double precision (see sampling.h for the order and why).
#include "model/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace rs {

void SamplingOptions::validate() const {
  if (!(temperature >= 0.0) || !std::isfinite(temperature))
    fail("sampling: temperature must be a finite number >= 0 (0 = greedy), got ", temperature);
  if (top_k < 0) fail("sampling: top-k must be >= 0 (0 = no limit), got ", top_k);
  if (!(top_p > 0.0 && top_p <= 1.0))
    fail("sampling: top-p must be in (0, 1] (1 = no limit), got ", top_p);
}

std::string SamplingOptions::describe() const {
  if (greedy()) return "greedy";
  return str("T=", temperature, " top_k=", top_k, " top_p=", top_p, " seed=", seed);
}

Sampler::Sampler(const SamplingOptions& opts) : opts_(opts), state_(opts.seed) {
  opts_.validate();
}

// SplitMix64 (Steele, Lea, Flood 2014, "Fast splittable pseudorandom number generators"):
// state += golden gamma; output = mix(state). Top 53 bits -> a double in [0, 1).
double Sampler::uniform() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

namespace {

// One row: logits [V] -> probabilities [V] after temperature, top-k and top-p.
void filter_row(const double* logit, double* prob, int64_t V, const SamplingOptions& o) {
  for (int64_t i = 0; i < V; ++i)
    if (std::isnan(logit[i])) fail("sampling: logit of token ", i, " is NaN");
  if (o.greedy()) {
    int64_t best = 0;  // lowest id among ties
    for (int64_t i = 1; i < V; ++i)
      if (logit[i] > logit[best]) best = i;
    std::fill(prob, prob + V, 0.0);
    prob[best] = 1.0;
    return;
  }
  // Candidates in descending logit order (ties -> lower id first), cut to k.
  std::vector<int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  auto before = [&](int64_t a, int64_t b) {
    return logit[a] > logit[b] || (logit[a] == logit[b] && a < b);
  };
  int64_t keep = V;
  if (o.top_k > 0 && o.top_k < V) {
    keep = o.top_k;
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), before);
  } else if (o.top_p < 1.0) {
    std::sort(order.begin(), order.end(), before);
  }
  // Softmax of logit / T over the kept candidates (max subtracted for range).
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < keep; ++j) mx = std::max(mx, logit[order[j]]);
  if (!std::isfinite(mx)) fail("sampling: every candidate logit is -inf or +inf");
  std::vector<double> p(keep);
  double total = 0.0;
  for (int64_t j = 0; j < keep; ++j) {
    p[j] = std::exp((logit[order[j]] - mx) / o.temperature);
    total += p[j];
  }
  // Nucleus: keep candidate j while the mass of the candidates before it is < p (so the first
  // one is always kept and the kept mass is the smallest that reaches p). Needs sorted order.
  int64_t cut = keep;
  if (o.top_p < 1.0) {
    double cum = 0.0;
    for (int64_t j = 0; j < keep; ++j) {
      if (cum >= o.top_p * total) {
        cut = j;
        break;
      }
      cum += p[j];
    }
  }
  double kept = 0.0;
  for (int64_t j = 0; j < cut; ++j) kept += p[j];
  std::fill(prob, prob + V, 0.0);
  for (int64_t j = 0; j < cut; ++j) prob[order[j]] = p[j] / kept;
}

}  // namespace

// logits [B, V] -> probabilities [B, V] f64 CPU
at::Tensor Sampler::filtered_probs(const at::Tensor& logits) const {
  if (logits.dim() != 2) fail("sampling: expected logits [batch, vocab], got a tensor with ", logits.dim(), " dimensions");
  at::Tensor l = logits.detach().to(at::kCPU, at::kDouble).contiguous();
  const int64_t B = l.size(0), V = l.size(1);
  at::Tensor probs = at::empty({B, V}, at::kDouble);
  for (int64_t b = 0; b < B; ++b)
    filter_row(l.data_ptr<double>() + b * V, probs.data_ptr<double>() + b * V, V, opts_);
  return probs;
}

// logits [B, V] -> tokens [B] int64 CPU
at::Tensor Sampler::sample(const at::Tensor& logits) {
  at::Tensor probs = filtered_probs(logits);
  const int64_t B = probs.size(0), V = probs.size(1);
  at::Tensor out = at::empty({B}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const double* p = probs.data_ptr<double>() + b * V;
    int64_t pick = -1;
    if (opts_.greedy()) {
      pick = std::max_element(p, p + V) - p;
    } else {
      // Inverse CDF over ids in ascending order; the last id with mass absorbs rounding.
      const double u = uniform();
      double cum = 0.0;
      for (int64_t i = 0; i < V; ++i) {
        if (p[i] <= 0.0) continue;
        pick = i;
        cum += p[i];
        if (u < cum) break;
      }
    }
    out.data_ptr<int64_t>()[b] = pick;
  }
  return out;
}

}  // namespace rs
