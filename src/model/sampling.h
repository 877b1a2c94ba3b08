// Choosing the next token from logits: greedy, temperature, top-k, top-p (nucleus), seeded.
//
// The order of the transforms follows the usual logits-processor order (Hugging Face
// `generate` docs: temperature, then top-k, then top-p): logits / T -> keep the k largest ->
// keep the smallest prefix of the sorted distribution whose mass reaches p (Holtzman et al.
// 2019, "The Curious Case of Neural Text Degeneration", arXiv 1904.09751) -> draw.
// temperature == 0 means greedy (argmax; ties -> lowest id), whatever k and p say.
//
// Draws use our own 64-bit generator (SplitMix64, Steele et al. 2014) and inverse-CDF sampling
// in double precision on the CPU, so a seed gives the same tokens on every platform, device and
// libtorch version (at::multinomial's algorithm is not part of any stable contract).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rs {

struct SamplingOptions {
  double temperature = 0.0;  // 0 -> greedy
  int64_t top_k = 0;         // 0 -> no limit
  double top_p = 1.0;        // 1 -> no limit; in (0, 1]
  uint64_t seed = 0;
  // Throws rs::Error for a negative temperature or k, or p outside (0, 1].
  void validate() const;
  bool greedy() const { return temperature <= 0.0; }
  std::string describe() const;  // "greedy" or "T=0.7 top_k=40 top_p=0.9 seed=1"
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opts);
  // logits [B, V] (any float dtype, any device) -> next tokens [B] int64 on the CPU.
  at::Tensor sample(const at::Tensor& logits);
  // The distribution sample() draws from after temperature / top-k / top-p: [B, V] f64 CPU
  // probabilities (one-hot at the argmax when greedy). Exposed for tests.
  at::Tensor filtered_probs(const at::Tensor& logits);
  const SamplingOptions& options() const { return opts_; }

 private:
  double uniform();  // [0, 1) with 53 random bits
  template <class T>
  void filter_row(const T* logit, int64_t V);
  template <class F>
  void each_row(const at::Tensor& logits, F&& fn);
  SamplingOptions opts_;
  uint64_t state_;
  // Per-step buffers, kept so a step allocates nothing. order_ / weights_ [0, cut_): the
  // candidates that survive the filters (descending logit; all ids ascending when ascending_)
  // and their unnormalised weights, summing to kept_.
  int64_t id_at(int64_t j) const { return ascending_ ? j : order_[static_cast<size_t>(j)]; }
  std::vector<int64_t> order_;
  std::vector<double> weights_, by_id_w_;
  std::vector<std::pair<int64_t, double>> by_id_;
  int64_t cut_ = 0;
  double kept_ = 1.0;
  bool ascending_ = false;
};

}  // namespace rs
