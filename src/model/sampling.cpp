// Sampling transforms on raw logits, probabilities in double precision (see sampling.h for the
// order and why). A step costs a pass over the vocabulary plus a partial sort of the candidates
// that survive: greedy is one argmax; top-k selects k with nth_element and sorts only those;
// top-p sorts a growing prefix until it holds the nucleus. Nothing is allocated per step once
// the sampler's buffers have grown to the vocabulary, and no libtorch op touches the row: a
// vocabulary-sized op (e.g. a copy to f64) runs on libtorch's OpenMP threads, which then
// spin-wait and take a core from the next decode step's kernel threads (issue 23).
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

// Lowest id among the largest logits; a NaN anywhere is an error.
template <class T>
int64_t argmax_row(const T* logit, int64_t V) {
  int64_t best = 0;
  for (int64_t i = 0; i < V; ++i) {
    if (std::isnan(logit[i])) fail("sampling: logit of token ", i, " is NaN");
    if (logit[i] > logit[best]) best = i;
  }
  return best;
}

}  // namespace

// One row: logits [V] -> the kept candidates (keep_ids_ in descending logit order, ties -> lower
// id first) and their probabilities keep_p_ after temperature, top-k and top-p.
template <class T>
void Sampler::filter_row(const T* logit, int64_t V) {
  keep_ids_.clear();
  keep_p_.clear();
  if (opts_.greedy()) {
    keep_ids_.push_back(argmax_row(logit, V));
    keep_p_.push_back(1.0);
    return;
  }
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < V; ++i) {
    if (std::isnan(logit[i])) fail("sampling: logit of token ", i, " is NaN");
    mx = std::max(mx, static_cast<double>(logit[i]));
  }
  if (!std::isfinite(mx)) fail("sampling: every candidate logit is -inf or +inf");
  const double T_ = opts_.temperature;
  auto weight = [&](int64_t id) { return std::exp((static_cast<double>(logit[id]) - mx) / T_); };
  auto before = [&](int64_t a, int64_t b) {
    return logit[a] > logit[b] || (logit[a] == logit[b] && a < b);
  };
  order_.resize(static_cast<size_t>(V));
  std::iota(order_.begin(), order_.end(), int64_t{0});
  const bool top_k = opts_.top_k > 0 && opts_.top_k < V, top_p = opts_.top_p < 1.0;

  // The candidates in play, sorted, and the mass the nucleus is measured against.
  int64_t sorted = 0, keep = V;
  double total = 0.0;
  if (top_k) {
    // The k largest are a unique set (the order is total), so select then sort only them.
    keep = opts_.top_k;
    std::nth_element(order_.begin(), order_.begin() + (keep - 1), order_.end(), before);
    std::sort(order_.begin(), order_.begin() + keep, before);
    sorted = keep;
    for (int64_t j = 0; j < keep; ++j) total += weight(order_[static_cast<size_t>(j)]);
  } else {
    for (int64_t i = 0; i < V; ++i) total += weight(i);
  }
  weights_.resize(static_cast<size_t>(keep));
  int64_t cut = keep;
  if (top_p) {
    // Nucleus (Holtzman et al. 2019): keep candidate j while the mass before it is < p, so the
    // first is always kept and the kept mass is the smallest that reaches p. Sort a prefix that
    // grows 4x at a time: the remainder is never above the sorted part, so sorting the next
    // slice of it extends the descending order.
    const double target = opts_.top_p * total;
    double cum = 0.0;
    cut = -1;
    for (int64_t j = 0; cut < 0 && j < keep; ++j) {
      if (j == sorted) {
        const int64_t next = std::min<int64_t>(keep, std::max<int64_t>(64, 4 * sorted));
        std::partial_sort(order_.begin() + sorted, order_.begin() + next, order_.end(), before);
        sorted = next;
      }
      if (cum >= target) {
        cut = j;
        break;
      }
      weights_[static_cast<size_t>(j)] = weight(order_[static_cast<size_t>(j)]);
      cum += weights_[static_cast<size_t>(j)];
    }
    if (cut < 0) cut = keep;
  } else {
    for (int64_t j = 0; j < keep; ++j) weights_[static_cast<size_t>(j)] = weight(order_[static_cast<size_t>(j)]);
  }
  double kept = 0.0;
  for (int64_t j = 0; j < cut; ++j) kept += weights_[static_cast<size_t>(j)];
  keep_ids_.assign(order_.begin(), order_.begin() + cut);
  ascending_ = !top_k && !top_p;  // order_ is still the identity
  keep_p_.resize(static_cast<size_t>(cut));
  for (int64_t j = 0; j < cut; ++j) keep_p_[static_cast<size_t>(j)] = weights_[static_cast<size_t>(j)] / kept;
}

namespace {

// Logits as a CPU tensor the sampler reads in place: f32 or f64 (f16/bf16 widen to f32 exactly).
at::Tensor cpu_logits(const at::Tensor& logits) {
  if (logits.dim() != 2) fail("sampling: expected logits [batch, vocab], got a tensor with ", logits.dim(), " dimensions");
  if (logits.size(1) == 0) fail("sampling: the logits have no vocabulary columns");
  const at::ScalarType t = logits.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return logits.detach().to(at::kCPU, t).contiguous();  // no copy for CPU f32 / f64 rows
}

}  // namespace

template <class F>
void Sampler::each_row(const at::Tensor& logits, F&& fn) {
  const at::Tensor l = cpu_logits(logits);
  const int64_t B = l.size(0), V = l.size(1);
  for (int64_t b = 0; b < B; ++b) {
    if (l.scalar_type() == at::kDouble) filter_row(l.data_ptr<double>() + b * V, V);
    else filter_row(l.data_ptr<float>() + b * V, V);
    fn(b, V);
  }
}

// logits [B, V] -> probabilities [B, V] f64 CPU
at::Tensor Sampler::filtered_probs(const at::Tensor& logits) {
  const at::Tensor l = cpu_logits(logits);
  at::Tensor probs = at::zeros({l.size(0), l.size(1)}, at::kDouble);
  each_row(l, [&](int64_t b, int64_t V) {
    double* p = probs.data_ptr<double>() + b * V;
    for (size_t j = 0; j < keep_ids_.size(); ++j) p[keep_ids_[j]] = keep_p_[j];
  });
  return probs;
}

// logits [B, V] -> tokens [B] int64 CPU
at::Tensor Sampler::sample(const at::Tensor& logits) {
  const at::Tensor l = cpu_logits(logits);
  at::Tensor out = at::empty({l.size(0)}, at::kLong);
  each_row(l, [&](int64_t b, int64_t) {
    int64_t pick = -1;
    if (opts_.greedy()) {
      pick = keep_ids_[0];
    } else {
      // Inverse CDF over the kept ids in ascending order; the last id with mass absorbs
      // rounding. (Ascending ids, not the sorted order, so a seed draws what it always drew.)
      by_id_.resize(keep_ids_.size());
      for (size_t j = 0; j < keep_ids_.size(); ++j) by_id_[j] = {keep_ids_[j], keep_p_[j]};
      if (!ascending_) std::sort(by_id_.begin(), by_id_.end());
      const double u = uniform();
      double cum = 0.0;
      for (const auto& [id, p] : by_id_) {
        if (p <= 0.0) continue;
        pick = id;
        cum += p;
        if (u < cum) break;
      }
    }
    out.data_ptr<int64_t>()[b] = pick;
  });
  return out;
}

}  // namespace rs
