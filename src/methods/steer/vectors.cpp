// Control-vector maths (see vectors.h).
#include "methods/steer/vectors.h"

#include "core/error.h"
#include "stats/auroc.h"
#include "stats/pca.h"

namespace rs::steer {

VectorMethod parse_vector_method(const std::string& name) {
  if (name == "r") return VectorMethod::R;
  if (name == "r-c") return VectorMethod::RC;
  if (name == "pca-c") return VectorMethod::PcaC;
  if (name == "pca-diff") return VectorMethod::PcaDiff;
  if (name == "pca-center") return VectorMethod::PcaCenter;
  fail("--method: expected r, r-c, pca-c, pca-diff or pca-center, got '", name, "'");
}

const char* vector_method_name(VectorMethod m) {
  switch (m) {
    case VectorMethod::R: return "r";
    case VectorMethod::RC: return "r-c";
    case VectorMethod::PcaC: return "pca-c";
    case VectorMethod::PcaDiff: return "pca-diff";
    case VectorMethod::PcaCenter: return "pca-center";
  }
  return "?";
}

std::vector<VectorMethod> all_vector_methods() {
  return {VectorMethod::R, VectorMethod::RC, VectorMethod::PcaC, VectorMethod::PcaDiff,
          VectorMethod::PcaCenter};
}

at::Tensor orient_along(const at::Tensor& v, const at::Tensor& mean_diff) {
  const double proj = (v.to(at::kDouble) * mean_diff.to(at::kDouble)).sum().item<double>();
  return proj < 0 ? -v : v;
}

namespace {

void check_pair_shapes(const at::Tensor& pos, const at::Tensor& neg, int64_t dims) {
  if (!pos.defined() || !neg.defined()) fail("control vector: activations are missing");
  if (pos.dim() != dims || pos.sizes() != neg.sizes())
    fail("control vector: positive and negative activations must both be ", dims == 2 ? "[N, D]" : "[N, L, D]",
         " with the same shape (got ", pos.sizes(), " and ", neg.sizes(), ")");
  if (pos.size(0) < 2) fail("control vector: need at least 2 pairs, got ", pos.size(0));
}

// First principal component (unit, f64) of the rows of x [n, D]; centred by stats::pca.
at::Tensor first_component(const at::Tensor& x) {
  return stats::pca(x, 1).components.select(0, 0);
}

}  // namespace

at::Tensor control_direction(const at::Tensor& pos_in, const at::Tensor& neg_in, VectorMethod m) {
  check_pair_shapes(pos_in, neg_in, 2);
  const at::Tensor pos = pos_in.to(at::kDouble), neg = neg_in.to(at::kDouble);
  const at::Tensor d = pos - neg;                    // d_i = h+_i - h-_i      [N, D]
  const at::Tensor mean_d = d.mean(0);               // mean difference        [D]
  at::Tensor v;
  switch (m) {
    case VectorMethod::R:  // R = mean h+
      v = pos.mean(0);
      break;
    case VectorMethod::RC:  // R-C = mean (h+ - h-)
      v = mean_d;
      break;
    case VectorMethod::PcaC:  // u1(d - mean d), oriented, scaled to |mean d|
      v = orient_along(first_component(d), mean_d) * mean_d.norm();
      break;
    case VectorMethod::PcaDiff:  // repeng pca_diff: sklearn PCA of d (centred), unit
      v = orient_along(first_component(d), mean_d);
      break;
    case VectorMethod::PcaCenter: {  // repeng pca_center: PCA of pairs around their midpoints
      const at::Tensor mid = 0.5 * (pos + neg);
      v = orient_along(first_component(at::cat({pos - mid, neg - mid}, 0)), mean_d);
      break;
    }
  }
  return v.to(at::kFloat);
}

at::Tensor control_directions(const at::Tensor& pos, const at::Tensor& neg, VectorMethod m) {
  check_pair_shapes(pos, neg, 3);
  std::vector<at::Tensor> out;
  for (int64_t l = 0; l < pos.size(1); ++l)
    out.push_back(control_direction(pos.select(1, l), neg.select(1, l), m));
  return at::stack(out, 0);
}

double separation_auroc(const at::Tensor& pos, const at::Tensor& neg, const at::Tensor& v) {
  const at::Tensor vd = v.to(at::kDouble).to(pos.device());
  const at::Tensor sp = at::matmul(pos.to(at::kDouble), vd).cpu().contiguous();
  const at::Tensor sn = at::matmul(neg.to(at::kDouble), vd).cpu().contiguous();
  std::vector<double> scores(sp.data_ptr<double>(), sp.data_ptr<double>() + sp.numel());
  scores.insert(scores.end(), sn.data_ptr<double>(), sn.data_ptr<double>() + sn.numel());
  std::vector<int> labels(static_cast<size_t>(sp.numel()), 1);
  labels.resize(scores.size(), 0);
  return stats::auroc(scores, labels);
}

double pair_accuracy(const at::Tensor& pos, const at::Tensor& neg, const at::Tensor& v) {
  const at::Tensor s = at::matmul((pos - neg).to(at::kDouble), v.to(at::kDouble).to(pos.device()));
  return (s > 0).to(at::kDouble).mean().item<double>();
}

double cosine(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble).flatten(), y = b.to(at::kDouble).to(x.device()).flatten();
  const double den = (x.norm() * y.norm()).item<double>();
  return den > 0 ? (x * y).sum().item<double>() / den : 0.0;
}

}  // namespace rs::steer
