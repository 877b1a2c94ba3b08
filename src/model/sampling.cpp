// Sampling transforms on raw logits, probabilities in double precision (see sampling.h for the
// order and why). A step costs a pass over the vocabulary plus a partial sort of the candidates
// that survive: greedy is one vectorised argmax; top-k keeps the k largest in one pass against
// the current k-th and sorts only those; top-p sorts a growing prefix until it holds the
// nucleus; each exponential is computed once. Nothing is allocated per step once
// the sampler's buffers have grown to the vocabulary, and no libtorch op touches the row: a
// vocabulary-sized op (e.g. a copy to f64) runs on libtorch's OpenMP threads, which then
// spin-wait and take a core from the next decode step's kernel threads (issue 23).
#include "model/sampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Lowest id among the largest logits; a NaN anywhere is an error. A running argmax is a serial
// chain of compares and branches: ~0.3 ms a step over Qwen2.5's 151,936 logits (busy host),
// longer than the decode pool's 50 us spin, after which its worker sleeps (issue 23).
// Here four vectors of running maxima per 1024-logit chunk (GCC/Clang vector extensions, SSE2
// or NEON width) find the largest value and its chunk in one pass; that chunk then gives the
// first id holding it. The same ids as the running argmax (tests: GreedyIsArgmax...).
template <class T>
int64_t argmax_row(const T* x, int64_t V) {
  constexpr int kW = 16 / sizeof(T);
  typedef T vec __attribute__((vector_size(16)));
  typedef decltype(vec{} != vec{}) mask;
  constexpr int64_t kChunk = 1024;
  constexpr T lo = -std::numeric_limits<T>::infinity();
  T best = lo;
  int64_t best_chunk = 0;
  mask bad{};
  for (int64_t c0 = 0; c0 < V; c0 += kChunk) {
    const int64_t c1 = std::min(V, c0 + kChunk);
    vec m0;
    for (int j = 0; j < kW; ++j) m0[j] = lo;
    vec m1 = m0, m2 = m0, m3 = m0;
    int64_t i = c0;
    for (; i + 4 * kW <= c1; i += 4 * kW) {
      vec a, b, c, d;
      std::memcpy(&a, x + i, sizeof a);
      std::memcpy(&b, x + i + kW, sizeof b);
      std::memcpy(&c, x + i + 2 * kW, sizeof c);
      std::memcpy(&d, x + i + 3 * kW, sizeof d);
      bad |= (a != a) | (b != b) | (c != c) | (d != d);
      m0 = a > m0 ? a : m0;  // a NaN never wins; `bad` reports it below
      m1 = b > m1 ? b : m1;
      m2 = c > m2 ? c : m2;
      m3 = d > m3 ? d : m3;
    }
    T cm = lo;
    for (int j = 0; j < kW; ++j)
      for (T v : {m0[j], m1[j], m2[j], m3[j]}) cm = v > cm ? v : cm;
    for (; i < c1; ++i) {
      if (std::isnan(x[i])) bad[0] = -1;
      cm = x[i] > cm ? x[i] : cm;
    }
    if (cm > best) {
      best = cm;
      best_chunk = c0;
    }
  }
  for (int j = 0; j < kW; ++j)
    if (bad[j])
      for (int64_t i = 0; i < V; ++i)
        if (std::isnan(x[i])) fail("sampling: logit of token ", i, " is NaN");
  for (int64_t i = best_chunk; i < V; ++i)
    if (x[i] == best) return i;
  return 0;  // not reached: x[best_chunk..] holds best (all -inf: best_chunk 0, x[0] == best)
}

}  // namespace

// One row: logits [V] -> the kept candidates order_[0, cut_) (descending logit, ties -> lower id
// first; ascending ids when nothing is cut), their weights weights_[0, cut_) = exp((l - max) / T)
// and kept_, the weights' sum, after temperature, top-k and top-p. Each weight is computed once
// and the sums run in the same order as always, so the probabilities, and a seed's draws, are
// the same bits as before issue 23's rewrite.
template <class T>
void Sampler::filter_row(const T* logit, int64_t V) {
  const int64_t top = argmax_row(logit, V);
  if (opts_.greedy()) {
    order_.assign(1, top);
    weights_.assign(1, 1.0);
    kept_ = 1.0;
    cut_ = 1;
    ascending_ = false;
    return;
  }
  const double mx = static_cast<double>(logit[top]);
  if (!std::isfinite(mx)) fail("sampling: every candidate logit is -inf or +inf");
  const double T_ = opts_.temperature;
  auto weight = [&](int64_t id) { return std::exp((static_cast<double>(logit[id]) - mx) / T_); };
  auto before = [&](int64_t a, int64_t b) {
    return logit[a] > logit[b] || (logit[a] == logit[b] && a < b);
  };
  const bool top_k = opts_.top_k > 0 && opts_.top_k < V, top_p = opts_.top_p < 1.0;
  ascending_ = !top_k && !top_p;

  // The candidates in play, sorted, their weights, and the mass the nucleus is measured against.
  int64_t sorted = 0, keep = V;
  double total = 0.0;
  if (top_k) {
    // The k largest are a unique set (the order is total). Small k: one pass against the
    // current k-th largest (a heap of k; ids arrive ascending, so a tie never displaces it),
    // then sort the k; large k: select with nth_element, then sort.
    keep = opts_.top_k;
    order_.resize(static_cast<size_t>(keep));
    if (keep <= 1024) {
      std::iota(order_.begin(), order_.end(), int64_t{0});
      std::make_heap(order_.begin(), order_.end(), before);
      T kth = logit[order_.front()];
      for (int64_t i = keep; i < V; ++i) {
        if (!(logit[i] > kth)) continue;
        std::pop_heap(order_.begin(), order_.end(), before);
        order_.back() = i;
        std::push_heap(order_.begin(), order_.end(), before);
        kth = logit[order_.front()];
      }
    } else {
      order_.resize(static_cast<size_t>(V));
      std::iota(order_.begin(), order_.end(), int64_t{0});
      std::nth_element(order_.begin(), order_.begin() + (keep - 1), order_.end(), before);
      order_.resize(static_cast<size_t>(keep));
    }
    std::sort(order_.begin(), order_.end(), before);
    sorted = keep;
    weights_.resize(static_cast<size_t>(keep));
    for (int64_t j = 0; j < keep; ++j) total += weights_[static_cast<size_t>(j)] = weight(order_[static_cast<size_t>(j)]);
  } else {
    by_id_w_.resize(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) total += by_id_w_[static_cast<size_t>(i)] = weight(i);
  }
  int64_t cut = keep;
  if (top_p) {
    // Nucleus (Holtzman et al. 2019): keep candidate j while the mass before it is < p, so the
    // first is always kept and the kept mass is the smallest that reaches p. Sort a prefix that
    // grows 4x at a time: the remainder is never above the sorted part, so sorting the next
    // slice of it extends the descending order.
    if (!top_k) {
      order_.resize(static_cast<size_t>(V));
      std::iota(order_.begin(), order_.end(), int64_t{0});
      weights_.resize(static_cast<size_t>(V));
    }
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
      if (!top_k) weights_[static_cast<size_t>(j)] = by_id_w_[static_cast<size_t>(order_[static_cast<size_t>(j)])];
      cum += weights_[static_cast<size_t>(j)];
    }
    if (cut < 0) cut = keep;
  } else if (!top_k) {
    weights_.swap(by_id_w_);  // every id, ascending: order_ is not needed
  }
  double kept = 0.0;
  for (int64_t j = 0; j < cut; ++j) kept += weights_[static_cast<size_t>(j)];
  kept_ = kept;
  cut_ = cut;
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
    for (int64_t j = 0; j < cut_; ++j) p[id_at(j)] = weights_[static_cast<size_t>(j)] / kept_;
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
      pick = order_[0];
    } else {
      // Inverse CDF over the kept ids in ascending order; the last id with mass absorbs
      // rounding. (Ascending ids, not the sorted order, so a seed draws what it always drew.)
      by_id_.resize(static_cast<size_t>(ascending_ ? 0 : cut_));
      for (size_t j = 0; j < by_id_.size(); ++j) by_id_[j] = {order_[j], weights_[j] / kept_};
      std::sort(by_id_.begin(), by_id_.end());
      const double u = uniform();
      double cum = 0.0;
      for (int64_t j = 0; j < cut_; ++j) {
        const double p = ascending_ ? weights_[static_cast<size_t>(j)] / kept_ : by_id_[static_cast<size_t>(j)].second;
        if (p <= 0.0) continue;
        pick = ascending_ ? j : by_id_[static_cast<size_t>(j)].first;
        cum += p;
        if (u < cum) break;
      }
    }
    out.data_ptr<int64_t>()[b] = pick;
  });
  return out;
}

}  // namespace rs
