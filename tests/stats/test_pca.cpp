// PCA against sklearn.decomposition.PCA: explained variance (and ratio) and |components|
// (the sign is a convention; ours is checked separately).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "golden_cases.h"
#include "stats/pca.h"
#include "tensor_from_json.h"

namespace rs::stats {
namespace {

TEST(Pca, MatchesSklearnGolden) {
  for (const at::Device device : golden::devices()) {
    for (const auto& c : golden::cases("pca")) {
      if (device.is_cpu()) golden::count_case("pca");
      const at::Tensor x = golden::matrix(c["x"]).to(device);
      const int64_t k = c["k"];
      const PcaResult fit = pca(x, k);
      ASSERT_EQ(fit.components.sizes(), (at::IntArrayRef{k, x.size(1)}));
      const auto var = golden::doubles(c["explained_variance"]);
      const auto ratio = golden::doubles(c["explained_variance_ratio"]);
      const at::Tensor var_cpu = fit.explained_variance.cpu(), ratio_cpu = fit.explained_variance_ratio.cpu();
      const at::Tensor abs_components = fit.components.abs().cpu();
      const at::Tensor expected_abs = golden::matrix(c["abs_components"]);
      for (int64_t i = 0; i < k; ++i) {
        EXPECT_TRUE(golden::close("pca", var[i], var_cpu[i].item<double>()));
        EXPECT_TRUE(golden::close("pca", ratio[i], ratio_cpu[i].item<double>()));
        for (int64_t j = 0; j < x.size(1); ++j) {
          // Components are unit vectors: compare entries relative to the vector's scale (1), so
          // an entry that is ~0 does not turn rounding noise into a large relative error.
          const double e = expected_abs[i][j].item<double>(), a = abs_components[i][j].item<double>();
          EXPECT_NEAR(a, e, 1e-9) << "component " << i << " entry " << j;
          golden::max_errors()["pca"] = std::max(golden::max_errors()["pca"], std::fabs(a - e));
        }
      }
    }
  }
}

TEST(Pca, SignConventionAndReconstruction) {
  const at::Tensor x = at::randn({30, 4}, at::TensorOptions().dtype(at::kDouble).device(at::kCPU)) *
                       at::tensor({5.0, 3.0, 1.0, 0.2}, at::kDouble);
  const PcaResult fit = pca(x, 4);
  for (int64_t i = 0; i < 4; ++i) {
    const at::Tensor row = fit.components[i];
    const int64_t j = row.abs().argmax().item<int64_t>();
    EXPECT_GT(row[j].item<double>(), 0);  // largest-|value| entry is positive
  }
  // Full rank: the projections reconstruct the centred data.
  const at::Tensor z = pca_transform(fit, x);
  EXPECT_TRUE(at::allclose(z.matmul(fit.components) + fit.mean, x, 1e-10, 1e-10));
  EXPECT_NEAR(fit.explained_variance_ratio.sum().item<double>(), 1.0, 1e-12);
  EXPECT_THROW(pca(x, 5), rs::Error);
  EXPECT_THROW(pca(x.narrow(0, 0, 1), 1), rs::Error);
  EXPECT_THROW(pca(at::zeros({3}), 1), rs::Error);
}

}  // namespace
}  // namespace rs::stats
