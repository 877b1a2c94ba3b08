// Attention graph and Laplacians: see graph.h for the equations.
#include "methods/spectral/graph.h"

#include "core/error.h"

namespace rs::spectral {
namespace {

// 1/x where x > 0, else 0 (an isolated node has no random walk to normalise).
at::Tensor safe_reciprocal(const at::Tensor& x) {
  return at::where(x > 0, x.reciprocal(), at::zeros_like(x));
}

at::Tensor eye_like(const at::Tensor& w) {
  const int64_t n = w.size(-1);
  return at::eye(n, w.options()).expand(w.sizes());
}

}  // namespace

at::Tensor attention_graph(const at::Tensor& pattern) {
  if (pattern.dim() < 3 || pattern.size(-1) != pattern.size(-2))
    fail("attention_graph: expected [..., H, N, N], got ", pattern.sizes());
  // Averaging first and symmetrising after is the same linear map, with one transpose.
  const at::Tensor mean = pattern.mean(-3);
  return ((mean + mean.transpose(-1, -2)) * 0.5).clamp_min(0.0);
}

at::Tensor attention_graph_per_head(const at::Tensor& pattern) {
  if (pattern.dim() < 3 || pattern.size(-1) != pattern.size(-2))
    fail("attention_graph_per_head: expected [..., H, N, N], got ", pattern.sizes());
  return ((pattern + pattern.transpose(-1, -2)) * 0.5).clamp_min(0.0);
}

at::Tensor degrees(const at::Tensor& w) { return w.sum(-1); }

at::Tensor laplacian_matrix(const at::Tensor& w, Laplacian kind) {
  if (w.dim() < 2 || w.size(-1) != w.size(-2)) fail("laplacian_matrix: expected [..., N, N], got ", w.sizes());
  const at::Tensor d = degrees(w);
  switch (kind) {
    case Laplacian::Combinatorial:  // D - W
      return at::diag_embed(d) - w;
    case Laplacian::RandomWalk:     // I - D^-1 W
      return eye_like(w) - safe_reciprocal(d).unsqueeze(-1) * w;
    case Laplacian::Symmetric: {    // I - D^-1/2 W D^-1/2
      const at::Tensor s = safe_reciprocal(d.sqrt());
      return eye_like(w) - s.unsqueeze(-1) * w * s.unsqueeze(-2);
    }
  }
  fail("laplacian_matrix: unknown kind");
}

}  // namespace rs::spectral
