// The attention graph of one layer and its Laplacians (METHODS.md section 1, steps 2-3; Noël,
// "Geometry of Reason", arXiv 2601.00791). Pure functions over tensors; every function accepts
// leading batch dimensions ([..., N, N]) so all layers of a text go through in one call.
//
//   W = (1/H) sum_h (A_h + A_h^T) / 2, clamped at >= 0 (self loops stay)
//   d_i = sum_j W_ij
//   L_sym  = I - D^-1/2 W D^-1/2      (symmetric; eigh applies)
//   L_rw   = I - D^-1 W               (not symmetric; similar to L_sym: L_rw = D^-1/2 L_sym D^1/2)
//   L_comb = D - W
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "methods/spectral/names.h"

namespace rs::spectral {

// pattern [..., H, N, N] (post-softmax, rows = queries) -> W [..., N, N]: heads averaged, then
// symmetrised and clamped. Keeps the input dtype.
at::Tensor attention_graph(const at::Tensor& pattern);
// Per head: [..., H, N, N] -> [..., H, N, N], each (A_h + A_h^T)/2 clamped at >= 0.
at::Tensor attention_graph_per_head(const at::Tensor& pattern);

// d = W 1: [..., N, N] -> [..., N].
at::Tensor degrees(const at::Tensor& w);
// The chosen Laplacian as a dense matrix [..., N, N]. A node of degree 0 gets D^-1 = 0 (its
// row of L_sym / L_rw is that of the identity).
at::Tensor laplacian_matrix(const at::Tensor& w, Laplacian kind);

}  // namespace rs::spectral
