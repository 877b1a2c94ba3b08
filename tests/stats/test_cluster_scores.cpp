// Adjusted Rand index, NMI (arithmetic) and silhouette against scikit-learn golden values.
#include <gtest/gtest.h>

#include "core/error.h"
#include "golden_cases.h"
#include "stats/cluster_agreement.h"
#include "stats/silhouette.h"
#include "tensor_from_json.h"

namespace rs::stats {
namespace {

TEST(AdjustedRandIndex, MatchesSklearnGolden) {
  for (const auto& c : golden::cases("adjusted_rand_index")) {
    golden::count_case("adjusted_rand_index");
    EXPECT_TRUE(golden::close("adjusted_rand_index", golden::num(c["expected"]),
                              adjusted_rand_index(golden::int64s(c["a"]), golden::int64s(c["b"]))))
        << c.dump();
  }
  EXPECT_THROW(adjusted_rand_index({1, 2}, {1}), rs::Error);
  EXPECT_THROW(adjusted_rand_index({}, {}), rs::Error);
}

TEST(NormalizedMutualInformation, MatchesSklearnGolden) {
  for (const auto& c : golden::cases("normalized_mutual_information")) {
    golden::count_case("normalized_mutual_information");
    EXPECT_TRUE(golden::close("normalized_mutual_information", golden::num(c["expected"]),
                              normalized_mutual_information(golden::int64s(c["a"]),
                                                            golden::int64s(c["b"]))))
        << c.dump();
  }
  EXPECT_THROW(normalized_mutual_information({1, 2}, {1}), rs::Error);
}

TEST(Silhouette, MatchesSklearnGolden) {
  for (const at::Device device : golden::devices()) {
    for (const auto& c : golden::cases("silhouette")) {
      if (device.is_cpu()) golden::count_case("silhouette");
      const at::Tensor x = golden::matrix(c["x"]).to(device);
      const auto labels = golden::int64s(c["labels"]);
      if (golden::expects_error(c)) {
        EXPECT_THROW(silhouette_score(x, labels), rs::Error) << c.dump();
        continue;
      }
      EXPECT_TRUE(golden::close("silhouette", golden::num(c["expected"]), silhouette_score(x, labels)))
          << c.dump();
    }
  }
}

}  // namespace
}  // namespace rs::stats
