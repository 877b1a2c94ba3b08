// forward.cpp's attention softmax on CPU bf16 calls libtorch's bf16 softmax directly, relying on
// it computing in f32 and rounding once: the same bits as softmax in f32 then a cast to bf16 (what
// the Hugging Face reference does). This checks that property on attention-like scores, masked
// entries (the dtype's lowest value) included, so a libtorch that breaks it fails here.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

TEST(Bf16Softmax, SameBitsAsF32ThenCast) {
  at::manual_seed(3);
  for (int64_t K : {1, 7, 64, 257, 512}) {
    at::Tensor x = (at::randn({2, 3, 33, K}) * 4).to(at::kBFloat16);
    // causal-style mask: entries above the diagonal at bf16's lowest value
    at::Tensor masked = at::ones({33, K}, at::kBool).triu(1);
    x.masked_fill_(masked, -3.38e38);
    const at::Tensor direct = at::softmax(x, -1);
    const at::Tensor via_f32 = at::softmax(x, -1, at::kFloat).to(at::kBFloat16);
    EXPECT_TRUE(at::equal(direct, via_f32)) << "K=" << K << " max diff "
        << (direct.to(at::kFloat) - via_f32.to(at::kFloat)).abs().max().item<float>();
  }
}
