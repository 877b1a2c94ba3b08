// Running control vectors on a model: read the residual stream of prompt pairs (training) and add
// alpha * v_l back at blocks.{l}.hook_resid_post (steering), the same point, so what is read is
// what is written (METHODS.md fix: the published code read the last layer after the final norm
// but added before it).
//
//   auto acts = rs::steer::read_resid_post(model, seqs, {10, 15}, ReadPosition::Last);  // [N, 2, D]
//   rs::Hooks h(model.config);
//   rs::steer::add_steering(h, model, vectors, {15}, 4.0);   // every position, prompt and generated
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <vector>

#include "hooks/hooks.h"
#include "methods/steer/cvec_file.h"
#include "methods/steer/vectors.h"
#include "model/model.h"

namespace rs::steer {

// Adds alpha * v_l to blocks.{l}.hook_resid_post at every position (prompt, padding and every
// generated token) for each l in `layers` (empty: every layer in the file). The vectors are
// moved to the model's device and dtype once. Errors: n_embd or a layer that does not fit the
// model, a requested layer the file has no vector for.
void add_steering(Hooks& hooks, const Model& m, const ControlVectors& cv,
                  const std::vector<int64_t>& layers, double alpha);

enum class ReadPosition { Last, Mean };  // last real token / mean over real tokens
ReadPosition parse_read_position(const std::string& s);

// resid_post at `layers` for each token sequence, in left-padded batches (padding masked, so
// "last" is the last real token: METHODS.md fix of the right-padded published code).
// Returns [N, layers.size(), D] f32 on the CPU. on_batch(n_done) after each batch.
at::Tensor read_resid_post(const Model& m, const std::vector<std::vector<int64_t>>& seqs,
                           const std::vector<int64_t>& layers, ReadPosition where,
                           int64_t batch_size = 8, int64_t pad_id = 0,
                           const std::function<void(size_t)>& on_batch = {});

// One vector per layer plus how well it separates, from activations of N pairs.
struct LayerFit {
  int64_t layer = 0;
  double norm = 0;              // |v_l|
  double auroc_train = 0;       // separation on the pairs the vector was fitted on
  double auroc_heldout = 0;     // vector refitted without the held-out pairs, scored on them
  double pair_acc_heldout = 0;  // held-out pairs with (h+ - h-) . v > 0
  double cos_rc = 0;            // cosine with the R-C (mean difference) direction
};
struct TrainResult {
  at::Tensor vectors;           // [L', D] f32, fitted on all pairs
  std::vector<LayerFit> fits;   // one per layer
  int64_t n_heldout = 0;
  std::vector<int64_t> heldout_rows;  // which pairs were held out, ascending
};
// pos, neg [N, L', D]; layers names each of the L' slices. A `heldout` fraction of pairs (at
// least 1 when N >= 4, else none: heldout scores are NaN), chosen by a shuffle seeded with
// `seed` (heldout_split), is held out for the held-out AUROC; the returned vectors use every
// pair. A shuffle, not the file's last rows: data files are often ordered (by generator, by
// difficulty), and a tail split would score the vector on a different population.
TrainResult fit_control_vectors(const at::Tensor& pos, const at::Tensor& neg,
                                const std::vector<int64_t>& layers, VectorMethod method,
                                double heldout = 0.2, uint64_t seed = 0);
// The first n_heldout of a Fisher-Yates shuffle of 0..N-1 driven by stats::SplitMix64(seed),
// sorted: the same rows for the same (N, n_heldout, seed) on every platform.
std::vector<int64_t> heldout_split(int64_t N, int64_t n_heldout, uint64_t seed);

}  // namespace rs::steer
