// Control-vector maths (METHODS.md section 3; Højer, Jarvis & Heinrich, ICLR 2025, arXiv
// 2504.19483): directions read from the residual stream of positive / negative prompt pairs.
// Pure functions over captured activations; no model in sight.
//
// Shapes: pos, neg [N, D] (one layer; row i of pos and neg is pair i) or [N, L, D] (all layers).
// d_i = pos_i - neg_i. Every direction is returned as f32 on the input's device.
//
//   r           R    = mean_i pos_i                               (Højer's "reading vector")
//   r-c         R-C  = mean_i d_i
//   pca-c       PCA-C = u1(centred d) * ||mean d||                 (Højer; scaled as in the paper)
//   pca-diff    u1(centred d), unit norm                           (repeng's "pca_diff": sklearn
//               PCA centres, so this is pca-c's direction with repeng's unit length)
//   pca-center  u1 of {pos_i - m_i, neg_i - m_i}, m_i = (pos_i + neg_i) / 2, unit norm (repeng's
//               "pca_center"; the set is {d_i/2, -d_i/2}, so this is the UNcentred PCA of d,
//               which follows mean d when the pairs agree)
// u1 = first principal component. PCA signs are arbitrary (the published code and llama.cpp's
// cvector-generator leave them so); we orient every PCA direction so that mean d projects
// positively on it (METHODS.md fix), so +alpha always pushes towards the positive side.
#pragma once
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace rs::steer {

enum class VectorMethod { R, RC, PcaC, PcaDiff, PcaCenter };

// "r", "r-c", "pca-c", "pca-diff", "pca-center"; throws rs::Error listing them otherwise.
VectorMethod parse_vector_method(const std::string& name);
const char* vector_method_name(VectorMethod m);
std::vector<VectorMethod> all_vector_methods();

// One layer: pos, neg [N, D] with N >= 2 (PCA needs two rows). Returns [D] f32.
at::Tensor control_direction(const at::Tensor& pos, const at::Tensor& neg, VectorMethod m);

// Every layer at once: pos, neg [N, L, D] -> [L, D].
at::Tensor control_directions(const at::Tensor& pos, const at::Tensor& neg, VectorMethod m);

// v, flipped if needed so that mean_diff . v >= 0 ([D] each).
at::Tensor orient_along(const at::Tensor& v, const at::Tensor& mean_diff);

// How well the projection on v separates positives from negatives: AUROC of the scores
// pos_i . v (label 1) against neg_i . v (label 0); 0.5 = chance, 1 = every positive above every
// negative. pos, neg [N, D], v [D].
double separation_auroc(const at::Tensor& pos, const at::Tensor& neg, const at::Tensor& v);

// The fraction of pairs whose positive projects above its own negative: (pos_i - neg_i) . v > 0.
double pair_accuracy(const at::Tensor& pos, const at::Tensor& neg, const at::Tensor& v);

// Cosine similarity of two [D] vectors (f64).
double cosine(const at::Tensor& a, const at::Tensor& b);

}  // namespace rs::steer
